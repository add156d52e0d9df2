"""The pure rules behind the case page: which changes refuse a stale reply, how presence reads,
and the evidence checklist as it stands (domain/collisions.py, presence.py, evidence.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aftersales.domain.collisions import blocks, change_summary, changes_after
from aftersales.domain.evidence import EvidenceFacts, PersonMark, case_checklist, person_marks
from aftersales.domain.orders import OrderFacts
from aftersales.domain.presence import Viewer, others, presence_line
from aftersales.domain.routes import EvidenceSpec, Route
from aftersales.services.routing import RoutingKit

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


def entry(event_id: int, kind: str, actor: str = "Sam", **data: Any) -> dict[str, Any]:
    return {"id": event_id, "kind": kind, "at": NOW, "actor": actor, "data": data}


# ---------------------------------------------------------------- the collision guard

CHANGES = [
    pytest.param([entry(5, "reply_sent")], True, id="another agent's reply blocks"),
    pytest.param([entry(5, "message_received", "customer")], True, id="a new customer message blocks"),
    pytest.param([entry(5, "status_changed", to="resolved")], True, id="a status move blocks"),
    pytest.param([entry(5, "decision_recorded")], True, id="a decision blocks"),
    pytest.param([entry(5, "note_added")], False, id="a note alone does not block"),
    pytest.param([entry(5, "evidence_marked")], False, id="an evidence mark alone does not block"),
    pytest.param([entry(5, "clock_breached", "system")], False, id="the desk's clocks never block"),
    pytest.param([entry(3, "reply_sent")], False, id="what the page showed does not block"),
    pytest.param([entry(5, "note_added"), entry(6, "reply_sent")], True, id="a note with a reply blocks"),
]


@pytest.mark.parametrize(("timeline", "blocked"), CHANGES)
def test_which_changes_refuse_a_reply_made_on_a_page_that_showed_event_4(
    timeline: list[dict[str, Any]], blocked: bool
) -> None:
    assert blocks(changes_after(timeline, 4)) is blocked


def test_the_changes_listed_are_what_a_person_should_read_not_the_clocks() -> None:
    timeline = [entry(5, "clock_at_risk", "system"), entry(6, "note_added"), entry(7, "reply_sent")]

    assert [e["kind"] for e in changes_after(timeline, 4)] == ["note_added", "reply_sent"]


SUMMARIES = [
    (entry(1, "reply_sent"), "Sam replied to the customer"),
    (entry(1, "message_received", "customer"), "The customer wrote again"),
    (entry(1, "status_changed", "customer", to="open"), "The status moved to open"),
    (entry(1, "status_changed", to="waiting_on_customer"), "Sam moved the status to waiting on customer"),
    (entry(1, "rerouted", to="chargeback_risk"), "Sam changed the route to chargeback risk"),
    (entry(1, "routed", "router", route="chargeback_risk"), "The route changed to chargeback risk"),
    (entry(1, "dispute_opened", "shopify"), "A payment dispute was opened"),
    (entry(1, "note_added"), "Sam added a note"),
]


@pytest.mark.parametrize(("change", "words"), SUMMARIES, ids=[w for _, w in SUMMARIES])
def test_each_change_reads_as_one_plain_sentence(change: dict[str, Any], words: str) -> None:
    assert change_summary(change) == words


# ---------------------------------------------------------------- presence


def viewer(user_id: int, name: str, seconds_ago: int) -> Viewer:
    return Viewer(user_id, name, NOW - timedelta(seconds=seconds_ago))


PRESENCE = [
    pytest.param([], "", id="nobody"),
    pytest.param([viewer(1, "Marcus", 0)], "", id="only me"),
    pytest.param([viewer(2, "Sam", 10)], "Sam is also viewing this case", id="one other"),
    pytest.param([viewer(2, "Sam", 61)], "", id="gone a minute ago"),
    pytest.param(
        [viewer(3, "Priya", 5), viewer(2, "Sam", 59)], "Priya and Sam are also viewing this case", id="two"
    ),
    pytest.param(
        [viewer(4, "Lee", 1), viewer(3, "Priya", 5), viewer(2, "Sam", 9)],
        "Lee, Priya and Sam are also viewing this case",
        id="three",
    ),
]


@pytest.mark.parametrize(("viewers", "line"), PRESENCE)
def test_who_else_is_viewing_as_user_1_reads_it(viewers: list[Viewer], line: str) -> None:
    assert presence_line(others(viewers, 1, NOW)) == line


# ---------------------------------------------------------------- a stored case's checklist

ORDER = OrderFacts(
    number="1043",
    placed_at=NOW - timedelta(days=20),
    fulfilled_at=NOW - timedelta(days=19),
    last_scan_at=NOW - timedelta(days=12),
    carrier="UPS",
    tracking_numbers=("1Z999",),
)
FACTS = EvidenceFacts(order=ORDER, buyer_messages=2, images=("box.jpg",))
CHARGEBACK_ITEMS = (
    EvidenceSpec("order_timeline", "Shopify order timeline", "order_number"),
    EvidenceSpec("conversation", "Support conversation", "case.conversation"),
    EvidenceSpec("carrier_check", "Carrier check record"),
    EvidenceSpec("policy_version", "Policy page version in force", "policy.version"),
)


def _row(key: str, label: str, *, present: bool, source: str = "", by: str = "") -> dict[str, object]:
    return {"key": key, "label": label, "present": present, "source": source, "marked_by": by}


def test_a_stored_checklist_is_read_by_facts_marks_and_its_rows_words(kit: RoutingKit) -> None:
    specs = {
        **kit.specs,
        Route.CHARGEBACK_RISK: replace(kit.specs[Route.CHARGEBACK_RISK], evidence=CHARGEBACK_ITEMS),
    }
    stored = [
        _row("order_timeline", "Shopify order timeline", present=False),
        _row("conversation", "Support conversation", present=False),
        _row("carrier_check", "Carrier check record", present=True, source="marked by Sam", by="Sam"),
        _row("policy_version", "Policy page version in force", present=False),
        _row("damage_photo", "Damage photo", present=True, source="photos attached", by="router"),
    ]

    checklist = case_checklist(specs, "chargeback_risk", stored, FACTS)

    assert [(i.key, i.present, i.source or i.suggestion) for i in checklist.items] == [
        ("order_timeline", True, "order #1043 linked"),
        ("conversation", True, "2 messages from the customer"),
        ("carrier_check", True, "marked by Sam"),
        ("policy_version", False, ""),
        # an earlier route's item, kept: its fact (an image) ticks it; the router's word-tick did not
        ("damage_photo", True, "image attached: box.jpg"),
    ]


def test_a_persons_latest_mark_counts() -> None:
    events: list[tuple[str, str, dict[str, Any] | None]] = [
        ("evidence_marked", "Sam", {"key": "carrier_check", "present": True}),
        ("note_added", "Sam", {"text": "called UPS"}),
        ("evidence_marked", "Dana", {"key": "carrier_check", "present": False, "note": "wrong parcel"}),
    ]
    assert person_marks(events) == {
        "carrier_check": PersonMark(present=False, by="Dana", note="wrong parcel")
    }

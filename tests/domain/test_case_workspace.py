"""The pure rules behind the case page: which changes refuse a stale reply, how presence reads,
and the evidence checklist as it stands (domain/collisions.py, presence.py, case_state.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from aftersales.domain.case_state import CaseFacts, evidence_now, fact_source, policy_in_force
from aftersales.domain.collisions import blocks, change_summary, changes_after
from aftersales.domain.orders import OrderFacts, Refund
from aftersales.domain.presence import Viewer, others, presence_line
from aftersales.domain.routes import EvidenceSpec

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


# ---------------------------------------------------------------- evidence as it stands

ORDER = OrderFacts(
    number="1043",
    placed_at=NOW - timedelta(days=20),
    fulfilled_at=NOW - timedelta(days=19),
    last_scan_at=NOW - timedelta(days=12),
    carrier="UPS",
    tracking_numbers=("1Z999",),
)
FACTS = CaseFacts(order_number="1043", order=ORDER, buyer_messages=2, images=("box.jpg",))

SOURCES = [
    ("order_number", FACTS, "order #1043 linked"),
    ("order_number", CaseFacts(), ""),
    ("photo", FACTS, "1 image: box.jpg"),
    ("photo", CaseFacts(buyer_messages=1), ""),
    ("tracking_number", FACTS, "order #1043: UPS 1Z999"),
    ("order.last_scan", FACTS, "order #1043: last scan"),
    ("order.delivered", FACTS, ""),
    ("case.conversation", FACTS, "2 messages from the customer"),
    ("case.conversation", CaseFacts(), ""),
    ("case.decision", CaseFacts(decision="reship"), "decision: reship"),
    (
        "case.decision",
        CaseFacts(order=OrderFacts(number="7", refunds=(Refund(Decimal("5"), NOW),))),
        "order #7: refund of 5 recorded in the shop",
    ),
    ("case.decision", FACTS, ""),
    ("policy.version", CaseFacts(policy_version="v3"), "policy version v3"),
    ("money", FACTS, ""),  # a sum typed in a message is a word, not a fact
    (None, FACTS, ""),
]


@pytest.mark.parametrize(("fact", "facts", "source"), SOURCES, ids=[f"{f} {s!r}" for f, _, s in SOURCES])
def test_what_shows_each_fact_now(fact: str | None, facts: CaseFacts, source: str) -> None:
    assert fact_source(fact, facts) == source


def test_the_checklist_is_the_routes_items_marked_or_known_now_plus_what_is_in_hand() -> None:
    wanted = (
        EvidenceSpec("order_timeline", "Shopify order timeline", "order_number"),
        EvidenceSpec("conversation", "Support conversation", "case.conversation"),
        EvidenceSpec("carrier_check", "Carrier check record"),
        EvidenceSpec("policy_version", "Policy page version in force", "policy.version"),
    )
    stored = [
        {"key": "carrier_check", "label": "Carrier check record", "present": True, "source": "marked by Sam"},
        {"key": "policy_version", "label": "Policy page version in force", "present": False, "source": ""},
        {"key": "damage_photo", "label": "Damage photo", "present": True, "source": "box.jpg"},
        {"key": "sku", "label": "SKU or variant", "present": False, "source": ""},
    ]

    checklist = evidence_now(wanted, stored, FACTS)

    assert [(i.key, i.present, i.source) for i in checklist.items] == [
        ("order_timeline", True, "order #1043 linked"),
        ("conversation", True, "2 messages from the customer"),
        ("carrier_check", True, "marked by Sam"),
        ("policy_version", False, ""),
        ("damage_photo", True, "box.jpg"),  # an earlier route's, in hand: kept; its missing ones go
    ]


VERSIONS = [(NOW - timedelta(days=60), "v1"), (NOW - timedelta(days=10), "v2")]


@pytest.mark.parametrize(
    ("order", "label"),
    [
        pytest.param(None, "", id="no order"),
        pytest.param(ORDER, "v1", id="the version in force when it was placed"),
        pytest.param(OrderFacts(number="9", policy_version="v7"), "v7", id="the version the order names"),
        pytest.param(OrderFacts(number="9", placed_at=NOW - timedelta(days=90)), "", id="placed before any"),
    ],
)
def test_the_policy_in_force_for_an_order(order: OrderFacts | None, label: str) -> None:
    assert policy_in_force(order, VERSIONS) == label

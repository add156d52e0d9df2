"""`take_in`: one message into the desk — screened, deduplicated, threaded or opened, routed, clocked.

Scenario tables: given (what the desk already holds), when (a message comes in), then (the
outcome, the case, its events and clocks). Negative rows also check that nothing else changed.
Runs on SQLite, and on PostgreSQL when AFTERSALES_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.domain.cases import CaseStatus
from aftersales.domain.messages import AttachmentMeta, AutoKind, InboundMessage
from aftersales.services.desk import change_status
from aftersales.services.intake import Incoming, Outcome, take_in
from aftersales.services.routing import RoutingKit
from support.messages import at, case_of, case_row, clocks, counts, dump, events, holds, iso, kinds, message

WHERE_IS_1043 = "Where is my order #1043? Tracking hasn't moved in 5 days."
FIRST_ID = "first@cust.example"


def take(uow: SqlUnitOfWork, kit: RoutingKit, msg: InboundMessage, **kwargs: Any) -> Any:
    """Take a message in at the moment it was sent."""
    return take_in(uow, kit, Incoming(msg, "test", **kwargs), now=msg.sent_at)


@pytest.fixture
def first_case(uow: SqlUnitOfWork, kit: RoutingKit) -> int:
    """Given: Ana asked on Tuesday 10:00 where order #1043 is (a shipping_delay case)."""
    result = take(uow, kit, message(WHERE_IS_1043, message_id=FIRST_ID, subject="Order #1043"))
    assert result.outcome is Outcome.NEW_CASE
    return case_of(result)


# ----------------------------------------------------------------------------- a new case


@dataclass(frozen=True)
class NewCase:
    text: str
    sent: datetime
    route: str
    lead: tuple[str, str]
    order: str
    evidence: list[tuple[str, bool]]
    events: list[str]
    first_response_due: str
    resolution_due: str
    hold: str | None
    escalation: tuple[str, str | None] = ("stopped", None)


NEW_CASES = [
    pytest.param(
        NewCase(
            text=WHERE_IS_1043,
            sent=at(24, 10),
            route="shipping_delay",
            lead=("operations", "Marcus Lee"),
            order="1043",
            evidence=[
                ("order_number", False),  # typed, not a stored order: suggested
                ("last_scan", False),
                ("promise_window", False),
                ("carrier_check", False),
                ("next_reply_time", False),
            ],
            events=["case_opened", "routed"],
            # 8 business hours from Tue 10:00: Tue 10–12, 13–17, Wed 09–11
            first_response_due=iso(25, 11),
            resolution_due=iso(9, 17, month=12),
            hold=None,
        ),
        id="where-is-my-order on Tuesday: shipping_delay, first response Wednesday 11:00",
    ),
    pytest.param(
        NewCase(
            text="The tumbler arrived dented, order #2001.",
            sent=at(25, 16),
            route="damaged_item",
            lead=("supply_chain", "Tomás Ortega"),
            order="2001",
            evidence=[
                ("order_number", False),  # typed, not a stored order: suggested
                ("damage_photo", False),
                ("outer_box_photo", False),
                ("sku", False),
                ("batch_clue", False),
                ("resolution_amount", False),
            ],
            events=["case_opened", "routed"],
            # 8 business hours from Wed 16:00: Wed 16–17, Thanksgiving closed, Fri 09–12, 13–16, Sat 10–11
            first_response_due=iso(28, 11),
            resolution_due=iso(4, 11, month=12),
            hold="damaged_item: damaged_collect_proof",
        ),
        id="damaged item the day before Thanksgiving: first response skips the holiday",
    ),
    pytest.param(
        NewCase(
            text="I will dispute the charge with my bank for order #3001 if you don't refund me.",
            sent=at(27, 15),
            route="chargeback_risk",
            lead=("founder", "Dana Whitfield"),
            order="3001",
            evidence=[
                ("order_timeline", False),  # typed, not a stored order: suggested
                ("tracking", False),
                ("policy_version", False),
                ("conversation", False),
                ("refund_record", False),
            ],
            events=["case_opened", "routed", "escalation_needed"],
            # 2 business hours from Fri 15:00: Fri 15–16, Sat 10–11
            first_response_due=iso(28, 11),
            resolution_due=iso(1, 15, month=12),
            hold="chargeback_risk: same_day_lead_review",
            escalation=("on_track", iso(27, 16)),  # the same business day: Friday closes at 16:00
        ),
        id="dispute threat on Friday afternoon: chargeback_risk, first response Saturday 11:00",
    ),
]


@pytest.mark.parametrize("given", NEW_CASES)
def test_a_new_message_opens_a_routed_clocked_case(
    uow: SqlUnitOfWork, kit: RoutingKit, given: NewCase
) -> None:
    msg = message(given.text, sent=given.sent, subject="Help")

    result = take(uow, kit, msg)

    assert result.outcome is Outcome.NEW_CASE
    case = case_row(uow, result.case_id)
    assert (case.route, case.status, (case.lead_role, case.lead_name)) == (
        given.route,
        "new",
        given.lead,
    )
    assert (case.customer, case.order_number, case.opened_at) == (
        "ana@example.com",
        given.order,
        given.sent,
    )
    with uow() as cases:
        assert [(e["key"], e["present"]) for e in cases.evidence_of(result.case_id)] == given.evidence
        assert [(m["direction"], m["message_id"]) for m in cases.messages_of(result.case_id)] == [
            ("inbound", msg.message_id)
        ]
    timeline = events(uow, result.case_id)
    assert [kind for kind, _, _ in timeline] == given.events
    assert timeline[0] == ("case_opened", "customer", {"channel": "email"})
    assert (timeline[1][1], timeline[1][2]["route"]) == ("router", given.route)
    assert clocks(uow, result.case_id) == {
        "first_response": ("on_track", given.first_response_due),
        "next_update": ("stopped", None),
        "resolution": ("on_track", given.resolution_due),
        "escalation": given.escalation,
    }
    running = [due for _, due in clocks(uow, result.case_id).values() if due is not None]
    assert case.next_due_at == min(datetime.fromisoformat(due) for due in running)
    expected_holds = (
        [] if given.hold is None else [("ana@example.com", result.case_id, given.hold, given.sent, None)]
    )
    assert holds(uow) == expected_holds


# ----------------------------------------------------------------------------- duplicates


@pytest.mark.parametrize(
    "later",
    [
        pytest.param(at(24, 10), id="at once"),
        pytest.param(at(30, 9), id="a week later"),
    ],
)
def test_the_same_message_again_is_a_duplicate_and_adds_nothing(
    uow: SqlUnitOfWork, kit: RoutingKit, first_case: int, later: Any
) -> None:
    before = dump(uow)

    result = take_in(
        uow,
        kit,
        Incoming(message(WHERE_IS_1043, message_id=FIRST_ID, subject="Order #1043"), "again"),
        now=later,
    )

    assert (result.outcome, result.case_id) == (Outcome.DUPLICATE, None)
    assert dump(uow) == before


# ----------------------------------------------------------------------------- threading


@dataclass(frozen=True)
class Follow:
    text: str
    fields: dict[str, Any] = field(default_factory=dict)
    sender: str = "ana@example.com"


THREADED = [
    pytest.param(Follow("Any news?", {"in_reply_to": FIRST_ID}), id="In-Reply-To names the first message"),
    pytest.param(
        Follow("Any news?", {"references": ("older@cust.example", FIRST_ID)}),
        id="References name the first message",
    ),
    pytest.param(Follow("Any news on order #1043?"), id="same customer, same order number in the text"),
    pytest.param(
        Follow("Any news?", {"order_hint": "1043"}), id="same customer, order number from a form field"
    ),
    pytest.param(
        Follow("Any news?", {"case_hint": "{case}"}), id="[case N] subject tag from the same customer"
    ),
]


@pytest.mark.parametrize("follow", THREADED)
def test_a_follow_up_threads_into_the_open_case(
    uow: SqlUnitOfWork, kit: RoutingKit, first_case: int, follow: Follow
) -> None:
    fields = {k: (v.format(case=first_case) if isinstance(v, str) else v) for k, v in follow.fields.items()}
    before = counts(uow)

    result = take(uow, kit, message(follow.text, sender=follow.sender, sent=at(24, 11), **fields))

    assert (result.outcome, result.case_id) == (Outcome.UPDATED_CASE, first_case)
    assert events(uow, first_case)[2:] == [("message_received", "customer", {"channel": "email"})]
    case = case_row(uow, first_case)
    assert (case.route, case.status, case.updated_at) == ("shipping_delay", "new", at(24, 11))
    assert clocks(uow, first_case)["first_response"] == ("on_track", iso(25, 11))
    after = counts(uow)
    assert after["cases"] == before["cases"]
    assert after["messages"] == before["messages"] + 1


NOT_THREADED = [
    pytest.param(
        Follow("Any news? Writing from my work address.", {"case_hint": "{case}"}, sender="ana@work.example"),
        id="[case N] tag from another address (anyone can type a tag): its own case",
    ),
    pytest.param(
        Follow("Where is my order #1043? It has not arrived.", sender="bo@example.com"),
        id="another customer, same order number",
    ),
    pytest.param(Follow("Where is my order #1099? It has not arrived."), id="same customer, another order"),
    pytest.param(
        Follow("Where is my order #1099?", {"case_hint": "99999"}),
        id="[case N] naming no case: falls back to opening one",
    ),
]


@pytest.mark.parametrize("follow", NOT_THREADED)
def test_a_message_about_something_else_opens_its_own_case(
    uow: SqlUnitOfWork, kit: RoutingKit, first_case: int, follow: Follow
) -> None:
    before = dump(uow)

    result = take(uow, kit, message(follow.text, sender=follow.sender, sent=at(24, 11), **follow.fields))

    assert result.outcome is Outcome.NEW_CASE
    assert result.case_id != first_case
    assert kinds(uow, result.case_id) == ["case_opened", "routed"]
    after = dump(uow)
    # the first case and its messages, evidence and events are untouched
    assert _rows_of(after, first_case) == _rows_of(before, first_case)
    assert len(after["cases"]) == len(before["cases"]) + 1


def _rows_of(stored: dict[str, list[dict[str, Any]]], case_id: int) -> dict[str, list[dict[str, Any]]]:
    return {
        "cases": [r for r in stored["cases"] if r["id"] == case_id],
        **{
            t: [r for r in stored[t] if r["case_id"] == case_id]
            for t in ("messages", "events", "evidence_items")
        },
    }


def test_two_anonymous_messages_about_different_things_open_two_cases(
    uow: SqlUnitOfWork, kit: RoutingKit
) -> None:
    first = take(uow, kit, message("Do you sell lids for the 20oz tumbler?", sender=""))
    second = take(
        uow, kit, message("My package never arrived, it has been two weeks.", sender="", sent=at(24, 11))
    )

    assert (first.outcome, second.outcome) == (Outcome.NEW_CASE, Outcome.NEW_CASE)


def test_the_same_customer_without_an_order_number_on_another_topic_opens_a_new_case(
    uow: SqlUnitOfWork, kit: RoutingKit
) -> None:
    first = take(uow, kit, message("Do you ship to Canada?"))
    second = take(uow, kit, message("Can I change the colour of the tumbler I ordered?", sent=at(25, 10)))

    assert second.outcome is Outcome.NEW_CASE
    assert second.case_id != first.case_id


# ----------------------------------------------------------------------------- re-routing


DISPUTE_AFTER_DELAY = (
    "Still nothing on order #1043. If I don't hear back today I will file a chargeback with my bank."
)

ROUTE_CHANGES = [
    pytest.param(
        DISPUTE_AFTER_DELAY,
        "chargeback_risk",
        ("founder", "Dana Whitfield"),
        ["message_received", "routed", "escalation_needed"],
        id="a dispute threat after a delay: re-routed to chargeback_risk",
    ),
    pytest.param(
        "Thanks! Also, do you sell lids for the 20oz tumbler? Order #1043.",
        "shipping_delay",
        ("operations", "Marcus Lee"),
        ["message_received"],
        id="a calmer follow-up: the riskier route stays",
    ),
]


@pytest.mark.parametrize(("text", "route", "lead", "added"), ROUTE_CHANGES)
def test_a_riskier_follow_up_re_routes_the_case_and_a_calmer_one_does_not(
    uow: SqlUnitOfWork,
    kit: RoutingKit,
    first_case: int,
    text: str,
    route: str,
    lead: tuple[str, str],
    added: list[str],
) -> None:
    result = take(uow, kit, message(text, sent=at(24, 11)))

    assert (result.outcome, result.case_id) == (Outcome.UPDATED_CASE, first_case)
    case = case_row(uow, first_case)
    assert (case.route, (case.lead_role, case.lead_name)) == (route, lead)
    new_events = [e for e in events(uow, first_case)[2:] if not e[0].startswith("clock_")]
    assert [kind for kind, _, _ in new_events] == added
    if route == "chargeback_risk":
        kind, actor, data = new_events[1]
        assert (actor, data["from"], data["route"]) == ("router", "shipping_delay", "chargeback_risk")
        assert "threatens_dispute" in data["flags"]
        assert case.decision["segment"] == "same_day_lead_review"
        assert holds(uow) == [
            ("ana@example.com", first_case, "chargeback_risk: same_day_lead_review", at(24, 11), None)
        ]
        # A re-route never applies a stricter target to a clock already running (that would
        # back-date a breach): first response keeps the delay route's 8 business hours.
        assert clocks(uow, first_case)["first_response"] == ("on_track", iso(25, 11))
    else:
        assert holds(uow) == []


def test_a_re_route_to_chargeback_risk_records_that_escalation_is_needed(
    uow: SqlUnitOfWork, kit: RoutingKit, first_case: int
) -> None:
    take(uow, kit, message(DISPUTE_AFTER_DELAY, sent=at(24, 11)))

    assert events(uow, first_case)[-1] == (
        "escalation_needed",
        "router",
        {"reason": "chargeback risk always escalates the same business day"},
    )
    # chargeback_risk escalates the same business day: from the re-route at 11:00 to Tuesday's close
    assert clocks(uow, first_case)["escalation"] == ("on_track", iso(24, 17))


# ----------------------------------------------------------------------------- reopening


@pytest.mark.parametrize(
    "status",
    [
        pytest.param(CaseStatus.RESOLVED, id="resolved"),
        pytest.param(CaseStatus.CLOSED, id="closed"),
        pytest.param(CaseStatus.WAITING_ON_CUSTOMER, id="waiting_on_customer"),
    ],
)
def test_a_customer_message_on_a_settled_or_waiting_case_reopens_it(
    uow: SqlUnitOfWork, kit: RoutingKit, first_case: int, status: CaseStatus
) -> None:
    change_status(uow, kit, first_case, status, by="Marcus Lee", at=at(24, 11))
    before = counts(uow)

    result = take(uow, kit, message("It still has not arrived.", sent=at(25, 10), in_reply_to=FIRST_ID))

    assert (result.outcome, result.case_id) == (Outcome.UPDATED_CASE, first_case)
    case = case_row(uow, first_case)
    assert (case.status, case.resolved_at, case.updated_at) == ("open", None, at(25, 10))
    assert events(uow, first_case)[3:] == [
        ("message_received", "customer", {"channel": "email"}),
        ("status_changed", "customer", {"from": status.value, "to": "open"}),
    ]
    after = counts(uow)
    assert (after["cases"], after["messages"]) == (before["cases"], before["messages"] + 1)


# ----------------------------------------------------------------------------- screening


@pytest.mark.parametrize("kind", list(AutoKind), ids=lambda k: k.value)
def test_automatic_mail_is_screened_opens_no_case_and_is_recorded_once(
    uow: SqlUnitOfWork, kit: RoutingKit, kind: AutoKind
) -> None:
    msg = message(
        "I am out of the office until Monday.", sender="bo@example.com", auto_kind=kind, subject="Away"
    )

    results = [take(uow, kit, msg), take_in(uow, kit, Incoming(msg, "again"), now=at(25, 10))]

    assert results == [results[0], results[0]]
    assert (results[0].outcome, results[0].case_id) == (Outcome.SCREENED, None)
    stored = dump(uow)
    assert [(r["kind"], r["from_address"], r["subject"], r["source"]) for r in stored["screened"]] == [
        (kind.value, "bo@example.com", "Away", "test")
    ]
    assert {name: len(rows) for name, rows in stored.items() if rows and name != "screened"} == {}


# ----------------------------------------------------------------------------- automation holds


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param(
            WHERE_IS_1043 + " This is ridiculous, I am so angry!",
            "shipping_delay: collect_order_facts",
            id="angry buyer on a delay",
        ),
        pytest.param(
            "The tumbler arrived dented, order #2001.", "damaged_item: damaged_collect_proof", id="damaged"
        ),
        pytest.param(
            "I will dispute the charge with my bank for order #3001.",
            "chargeback_risk: same_day_lead_review",
            id="chargeback threat",
        ),
        pytest.param(WHERE_IS_1043, None, id="a calm delay question holds nothing"),
    ],
)
def test_an_angry_damaged_or_chargeback_case_holds_automation_for_the_buyer(
    uow: SqlUnitOfWork, kit: RoutingKit, text: str, reason: str | None
) -> None:
    result = take(uow, kit, message(text))

    expected = [] if reason is None else [("ana@example.com", result.case_id, reason, at(24, 10), None)]
    assert holds(uow) == expected


def test_a_second_message_on_a_held_case_adds_no_second_hold(uow: SqlUnitOfWork, kit: RoutingKit) -> None:
    first = take(uow, kit, message("The tumbler arrived dented, order #2001. I am furious."))
    take(uow, kit, message("Hello?? The dented tumbler, order #2001. I am furious.", sent=at(24, 11)))

    assert [(case, reason) for _, case, reason, _, _ in holds(uow)] == [
        (first.case_id, "damaged_item: damaged_collect_proof")
    ]


# ----------------------------------------------------------------------------- attachments


def _attachment(name: str, content_type: str, size: int) -> tuple[AttachmentMeta, bytes]:
    content = (b"\xff\xd8\xff" + b"photo" * (size // 5))[:size]
    return AttachmentMeta(name, content_type, size, hashlib.sha256(content).hexdigest()), content


SMALL_PHOTO = ("dent.jpg", "image/jpeg", 1_000)
HUGE_VIDEO = ("unboxing.mp4", "video/mp4", 20 * 1024 * 1024 + 1)  # one byte over the 20 MB cap


@pytest.mark.parametrize(
    ("attachment", "stored"),
    [
        pytest.param(SMALL_PHOTO, True, id="a photo is stored under the data folder by its hash"),
        pytest.param(HUGE_VIDEO, False, id="over 20 MB: metadata only"),
    ],
)
def test_attachment_content_is_stored_by_hash_and_a_huge_one_keeps_only_metadata(
    uow: SqlUnitOfWork, kit: RoutingKit, tmp_path: Path, attachment: tuple[str, str, int], stored: bool
) -> None:
    meta, content = _attachment(*attachment)
    msg = message("The tumbler arrived dented, order #2001. See attached.", attachments=(meta,))

    result = take(uow, kit, msg, attachments=[(meta, content)])

    files = [p for p in (tmp_path / "attachments").rglob("*") if p.is_file()]
    if stored:
        assert files == [tmp_path / "attachments" / meta.sha256[:2] / meta.sha256]
        assert files[0].read_bytes() == content
    else:
        assert files == []
    with uow() as cases:
        (row,) = cases.messages_of(result.case_id)
    assert row["attachments"] == [
        {
            "filename": meta.filename,
            "content_type": meta.content_type,
            "size": meta.size,
            "sha256": meta.sha256,
        }
    ]


def test_a_duplicate_message_stores_its_attachment_only_once(
    uow: SqlUnitOfWork, kit: RoutingKit, tmp_path: Path
) -> None:
    meta, content = _attachment(*SMALL_PHOTO)
    msg = message("The tumbler arrived dented, order #2001. See attached.", attachments=(meta,))
    take(uow, kit, msg, attachments=[(meta, content)])
    stored = tmp_path / "attachments" / meta.sha256[:2] / meta.sha256
    written = stored.stat().st_ino

    assert take(uow, kit, msg, attachments=[(meta, content)]).outcome is Outcome.DUPLICATE
    assert stored.stat().st_ino == written  # whole, so not written again
    stored.write_bytes(b"torn")
    take(uow, kit, msg, attachments=[(meta, content)])
    assert stored.read_bytes() == content  # not its hash: repaired


@pytest.mark.parametrize(
    ("body", "route"),
    [
        pytest.param("Where is my order #1043? " * 3_000, "shipping_delay", id="75,000 characters"),
        pytest.param(
            "The lid arrived cracked, order #1043. " + "\x01\x02\x03\x04" * 500, "damaged_item", id="garbled"
        ),
        pytest.param("\x01\x02" * 50, "other", id="nothing readable"),
    ],
)
def test_a_huge_or_garbled_message_still_opens_a_case_and_is_kept_whole(
    uow: SqlUnitOfWork, kit: RoutingKit, body: str, route: str
) -> None:
    """Pasted text that cannot be routed is refused; a stored mail never is: the router reads
    a clean prefix of it, so one odd mail cannot stop an import."""
    result = take(uow, kit, message(body))

    assert result.outcome is Outcome.NEW_CASE
    assert case_row(uow, case_of(result)).route == route
    assert dump(uow)["messages"][0]["body"] == body

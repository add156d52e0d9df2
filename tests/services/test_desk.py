"""Working a case: `change_status`, `add_note`, `case_record`, and the SLA `tick`.

Given Ana's where-is-my-order case (shipping_delay, opened Tuesday 24 November 2026 10:00
New York; first response due Wednesday 11:00), when someone works it or time passes, then
its status, clocks, holds and timeline are as the table says. Runs on SQLite, and on
PostgreSQL when configured.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from aftersales.adapters.db.repository import SqlUnitOfWork, unit_of_work
from aftersales.domain.cases import CaseNotFound, CaseStatus, InvalidTransition
from aftersales.services.desk import add_note, case_record, change_status
from aftersales.services.intake import Incoming, take_in
from aftersales.services.replies import Reply, send_reply
from aftersales.services.routing import RoutingKit
from aftersales.services.sla import TickResult, tick
from support.messages import at, case_of, case_row, clocks, dump, events, holds, iso, kinds, message

WHERE_IS_1043 = "Where is my order #1043? Tracking hasn't moved in 5 days."
PROMISE = "We're checking with the carrier; I'll update you by tomorrow 3 pm."
BY = "Marcus Lee"
S = CaseStatus


@pytest.fixture
def case_id(uow: SqlUnitOfWork, kit: RoutingKit) -> int:
    result = take_in(
        uow, kit, Incoming(message(WHERE_IS_1043, message_id="first@cust.example"), "t"), now=at(24, 10)
    )
    return case_of(result)


def move(uow: SqlUnitOfWork, kit: RoutingKit, case_id: int, *path: tuple[CaseStatus, datetime]) -> None:
    for status, moment in path:
        change_status(uow, kit, case_id, status, by=BY, at=moment)


def reply(uow: SqlUnitOfWork, kit: RoutingKit, case_id: int, moment: datetime) -> None:
    send_reply(uow, kit, Reply(case_id=case_id, text=PROMISE, author=BY, at=moment))


# ----------------------------------------------------------------------------- status moves


@dataclass(frozen=True, kw_only=True)
class Move:
    replied: bool  # a reply promising Wednesday 15:00 was sent at 10:30 first
    to: CaseStatus
    clocks: dict[str, tuple[str, str | None]]
    resolved: bool


STATUS_MOVES = [
    pytest.param(
        Move(
            replied=False,
            to=S.WAITING_ON_CUSTOMER,
            clocks={
                "first_response": ("paused", None),
                "next_update": ("stopped", None),
                "resolution": ("paused", None),
                "escalation": ("stopped", None),
            },
            resolved=False,
        ),
        id="new -> waiting_on_customer: the running clocks pause",
    ),
    pytest.param(
        Move(
            replied=True,
            to=S.WAITING_ON_CUSTOMER,
            clocks={
                "first_response": ("met", None),
                "next_update": ("paused", None),
                "resolution": ("paused", None),
                "escalation": ("stopped", None),
            },
            resolved=False,
        ),
        id="open -> waiting_on_customer: next update and resolution pause, first response stays met",
    ),
    pytest.param(
        Move(
            replied=True,
            to=S.RESOLVED,
            clocks={
                "first_response": ("met", None),
                "next_update": ("stopped", None),
                "resolution": ("met", None),
                "escalation": ("stopped", None),
            },
            resolved=True,
        ),
        id="open -> resolved: resolution met, every clock stops",
    ),
    pytest.param(
        Move(
            replied=False,
            to=S.CLOSED,
            clocks={
                "first_response": ("stopped", None),
                "next_update": ("stopped", None),
                "resolution": ("met", None),
                "escalation": ("stopped", None),
            },
            resolved=True,
        ),
        id="new -> closed without a reply: first response stops unmet",
    ),
]


@pytest.mark.parametrize("given", STATUS_MOVES)
def test_a_status_move_is_recorded_and_sets_the_clocks(
    uow: SqlUnitOfWork, kit: RoutingKit, case_id: int, given: Move
) -> None:
    if given.replied:
        reply(uow, kit, case_id, at(24, 10, 30))
    current = case_row(uow, case_id).status

    change_status(uow, kit, case_id, given.to, by=BY, at=at(24, 11))

    case = case_row(uow, case_id)
    assert (case.status, case.updated_at) == (given.to.value, at(24, 11))
    assert case.resolved_at == (at(24, 11) if given.resolved else None)
    assert events(uow, case_id)[-1] == ("status_changed", BY, {"from": current, "to": given.to.value})
    assert clocks(uow, case_id) == given.clocks
    assert (case.next_due_at, case.risk) == (None, 0)


INVALID_MOVES = [
    pytest.param(
        (),
        S.NEW,
        "a new case cannot move to new; allowed: closed, open, resolved, waiting_on_customer",
        id="new -> new",
    ),
    pytest.param(
        ((S.RESOLVED, at(24, 11)),),
        S.WAITING_ON_CUSTOMER,
        "a resolved case cannot move to waiting_on_customer; allowed: closed, open",
        id="resolved -> waiting_on_customer",
    ),
    pytest.param(
        ((S.CLOSED, at(24, 11)),),
        S.RESOLVED,
        "a closed case cannot move to resolved; allowed: open",
        id="closed -> resolved",
    ),
    pytest.param(
        ((S.WAITING_ON_CUSTOMER, at(24, 11)),),
        S.NEW,
        "a waiting_on_customer case cannot move to new; allowed: closed, open, resolved",
        id="waiting_on_customer -> new",
    ),
]


@pytest.mark.parametrize(("path", "target", "error"), INVALID_MOVES)
def test_a_move_the_desk_does_not_allow_is_refused_naming_the_allowed_statuses(
    uow: SqlUnitOfWork,
    kit: RoutingKit,
    case_id: int,
    path: tuple[tuple[CaseStatus, datetime], ...],
    target: CaseStatus,
    error: str,
) -> None:
    move(uow, kit, case_id, *path)
    before = dump(uow)

    with pytest.raises(InvalidTransition) as refused:
        change_status(uow, kit, case_id, target, by=BY, at=at(24, 12))

    assert str(refused.value) == error
    assert dump(uow) == before


@pytest.mark.parametrize(
    ("to", "released"),
    [
        pytest.param(S.RESOLVED, True, id="resolved releases it"),
        pytest.param(S.CLOSED, True, id="closed releases it"),
        pytest.param(S.WAITING_ON_CUSTOMER, False, id="waiting_on_customer keeps it"),
        pytest.param(S.OPEN, False, id="open keeps it"),
    ],
)
def test_settling_a_case_releases_the_automation_hold(
    uow: SqlUnitOfWork, kit: RoutingKit, to: CaseStatus, released: bool
) -> None:
    opened = case_of(
        take_in(uow, kit, Incoming(message("The tumbler arrived dented, order #2001."), "t"), now=at(24, 10))
    )
    assert [until for *_, until in holds(uow)] == [None]

    change_status(uow, kit, opened, to, by=BY, at=at(24, 15))

    assert holds(uow) == [
        (
            "ana@example.com",
            opened,
            "damaged_item: damaged_collect_proof",
            at(24, 10),
            at(24, 15) if released else None,
        )
    ]


def test_a_missing_case_cannot_be_moved_or_noted(uow: SqlUnitOfWork, kit: RoutingKit, case_id: int) -> None:
    before = dump(uow)

    with pytest.raises(CaseNotFound):
        change_status(uow, kit, case_id + 1000, S.OPEN, by=BY, at=at(24, 11))
    with pytest.raises(CaseNotFound):
        add_note(uow, case_id + 1000, "lost?", by=BY, at=at(24, 11))

    assert dump(uow) == before


# ----------------------------------------------------------------------------- notes and the record


def test_a_note_is_on_the_timeline_and_does_not_move_the_clocks(
    uow: SqlUnitOfWork, kit: RoutingKit, case_id: int
) -> None:
    before = dump(uow)

    add_note(uow, case_id, "Asked the warehouse for the pick record", by=BY, at=at(24, 11))

    after = dump(uow)
    assert events(uow, case_id)[-1] == ("note_added", BY, {"text": "Asked the warehouse for the pick record"})
    (case_before,), (case_after,) = before["cases"], after["cases"]
    assert case_after == case_before | {"updated_at": at(24, 11)}
    assert case_after["clocks"][0] == {
        "name": "first_response",
        "state": "on_track",
        "started_at": iso(24, 10),
        "due_at": iso(25, 11),
        "met_at": None,
        "breached_at": None,
    }
    assert {t: rows for t, rows in after.items() if t not in ("cases", "events")} == {
        t: rows for t, rows in before.items() if t not in ("cases", "events")
    }
    assert len(after["events"]) == len(before["events"]) + 1


def test_case_record_gives_messages_evidence_and_timeline_in_order(
    uow: SqlUnitOfWork, kit: RoutingKit, case_id: int
) -> None:
    reply(uow, kit, case_id, at(24, 10, 30))
    add_note(uow, case_id, "Carrier trace opened", by=BY, at=at(24, 11))
    take_in(
        uow,
        kit,
        Incoming(
            message("Thanks, waiting for news.", sent=at(24, 14), in_reply_to="first@cust.example"), "t"
        ),
        now=at(24, 14),
    )
    change_status(uow, kit, case_id, S.WAITING_ON_CUSTOMER, by=BY, at=at(24, 15))

    record = case_record(uow, case_id)

    assert set(record) == {"case", "messages", "evidence", "timeline"}
    assert (record["case"]["id"], record["case"]["customer"], record["case"]["status"]) == (
        case_id,
        "ana@example.com",
        "waiting_on_customer",
    )
    assert [(m["direction"], m["sent_at"], m["body"]) for m in record["messages"]] == [
        ("inbound", at(24, 10), WHERE_IS_1043),
        ("outbound", at(24, 10, 30), PROMISE),
        ("inbound", at(24, 14), "Thanks, waiting for news."),
    ]
    assert [(e["key"], e["present"]) for e in record["evidence"]] == [
        ("order_number", False),  # typed, not a stored order: suggested
        ("last_scan", False),
        ("promise_window", False),
        ("carrier_check", False),
        ("next_reply_time", False),
    ]
    assert [(e["kind"], e["at"]) for e in record["timeline"]] == [
        ("case_opened", at(24, 10)),
        ("routed", at(24, 10)),
        ("reply_sent", at(24, 10, 30)),
        ("status_changed", at(24, 10, 30)),
        ("note_added", at(24, 11)),
        ("message_received", at(24, 14)),
        ("status_changed", at(24, 15)),
    ]


# ----------------------------------------------------------------------------- the SLA tick


@dataclass(frozen=True)
class Ticks:
    given: str  # "new", "waiting" (since Tuesday 11:00) or "resolved" (Tuesday 11:00)
    ticks: list[datetime]
    results: list[TickResult]  # (cases looked at: only those with a clock turning by then, breaches)
    clock_events: list[tuple[str, datetime, str]]  # (kind, at, clock name)


TICKS = [
    pytest.param(
        # first response due Wednesday 11:00; noticed at 12:00, recorded at 11:00; not again at
        # 13:00, when no clock turns (resolution is due Friday): the case is not even read
        Ticks(
            "new",
            [at(25, 12), at(25, 13)],
            [TickResult(1, 1), TickResult(0, 0)],
            [("clock_breached", at(25, 11), "first_response")],
        ),
        id="a breach is recorded once, at the moment it happened",
    ),
    pytest.param(
        # 6 of 8 business hours used at Tuesday 17:00 (at-risk share 0.75)
        Ticks(
            "new",
            [at(24, 17), at(25, 9, 30)],
            [TickResult(1, 0), TickResult(0, 0)],
            [("clock_at_risk", at(24, 17), "first_response")],
        ),
        id="at risk is recorded once",
    ),
    pytest.param(
        Ticks(
            "new",
            [at(24, 17), at(25, 12), at(25, 13)],
            [TickResult(1, 0), TickResult(1, 1), TickResult(0, 0)],
            [
                ("clock_at_risk", at(24, 17), "first_response"),
                ("clock_breached", at(25, 11), "first_response"),
            ],
        ),
        id="at risk, then breached: one event each",
    ),
    pytest.param(
        Ticks("waiting", [at(30, 12), at(30, 13)], [TickResult(0, 0), TickResult(0, 0)], []),
        id="waiting on the customer: paused clocks never breach",
    ),
    pytest.param(
        Ticks("resolved", [at(30, 12)], [TickResult(0, 0)], []),
        id="a resolved case is not ticked",
    ),
]


@pytest.mark.parametrize("given", TICKS)
def test_tick_records_at_risk_and_breaches_once_each(
    uow: SqlUnitOfWork, kit: RoutingKit, case_id: int, given: Ticks
) -> None:
    if given.given == "waiting":
        move(uow, kit, case_id, (S.WAITING_ON_CUSTOMER, at(24, 11)))
    elif given.given == "resolved":
        move(uow, kit, case_id, (S.RESOLVED, at(24, 11)))

    results = [tick(uow, kit, now) for now in given.ticks]

    assert results == given.results
    with uow() as cases:
        recorded = [
            (e["kind"], e["at"], e["data"]["name"])
            for e in cases.timeline(case_id)
            if e["kind"].startswith("clock_")
        ]
    assert recorded == given.clock_events


def test_tick_sets_the_queue_sort_keys(uow: SqlUnitOfWork, kit: RoutingKit, case_id: int) -> None:
    tick(uow, kit, at(25, 12))

    case = case_row(uow, case_id)
    assert (case.risk, case.next_due_at) == (2, at(25, 11))
    assert clocks(uow, case_id)["first_response"] == ("breached", iso(25, 11))
    assert kinds(uow, case_id) == ["case_opened", "routed", "clock_breached"]


def test_a_tick_writes_only_the_cases_whose_clocks_moved(
    engine: Engine, uow: Any, kit: RoutingKit, case_id: int
) -> None:
    """Between two ticks most clocks stand as stored: reading them is enough."""
    tick(uow, kit, at(25, 12))  # the first response breached at 11:00: written
    assert tick(uow, kit, at(25, 13)) == TickResult(0, 0)  # no clock turns before Friday: not read
    writes: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        again = tick(uow, kit, at(25, 13), read=unit_of_work(engine, Path("unused"), writes=False), full=True)
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert again == TickResult(1, 0)
    assert writes == []
    assert kinds(uow, case_id) == ["case_opened", "routed", "clock_breached"]

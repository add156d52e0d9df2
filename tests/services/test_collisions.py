"""The collision guard inside the writing transaction: a reply or a status move made with a
``seen_event_id`` older than the case's latest change is refused, and stores nothing.

Given Ana's where-is-my-order case, when something happens after the agent's page was shown
and the agent then replies (or moves the status), then it is refused with what changed, or
stored, as the table says; and two sends racing with the same seen id store exactly one reply.
Runs on SQLite, and on PostgreSQL when configured (where the case row's lock does the work).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.domain.cases import CaseStatus
from aftersales.ports import CaseRepository, UnitOfWork
from aftersales.services.collisions import CaseChanged
from aftersales.services.desk import EvidenceMark, add_note, change_status, mark_evidence
from aftersales.services.intake import Incoming, take_in
from aftersales.services.replies import Reply, send_reply
from aftersales.services.routing import RoutingKit
from support.messages import at, case_of, dump, events, kinds, message

WHERE_IS_1043 = "Where is my order #1043? Tracking hasn't moved in 5 days."
PROMISE = "We're checking with the carrier; I'll update you by tomorrow 3 pm."
OTHER_PROMISE = "Sorry for the wait: the carrier is tracing it, I'll write again by tomorrow 4 pm."
AGENT_SAW = at(24, 10, 5)  # when the agent's page was shown


@pytest.fixture
def case_id(uow: SqlUnitOfWork, kit: RoutingKit) -> int:
    return case_of(take_in(uow, kit, Incoming(message(WHERE_IS_1043), "test"), now=at(24, 10)))


def latest_event(uow: SqlUnitOfWork, case_id: int) -> int:
    with uow() as cases:
        return max(int(e["id"]) for e in cases.timeline(case_id))


def another_reply(uow: SqlUnitOfWork, kit: RoutingKit, case_id: int) -> None:
    send_reply(uow, kit, Reply(case_id=case_id, text=OTHER_PROMISE, author="Sam", at=at(24, 10, 10)))


def customer_writes(uow: SqlUnitOfWork, kit: RoutingKit, case_id: int) -> None:
    later = message("Any news on order #1043?", sent=at(24, 10, 10))
    take_in(uow, kit, Incoming(later, "test"), now=at(24, 10, 10))


def status_moved(uow: SqlUnitOfWork, kit: RoutingKit, case_id: int) -> None:
    change_status(uow, kit, case_id, CaseStatus.OPEN, by="Sam", at=at(24, 10, 10))


def noted(uow: SqlUnitOfWork, kit: RoutingKit, case_id: int) -> None:
    add_note(uow, case_id, "asked UPS for a trace", by="Sam", at=at(24, 10, 10))


def evidence_marked(uow: SqlUnitOfWork, kit: RoutingKit, case_id: int) -> None:
    mark = EvidenceMark(key="carrier_check", present=True, note="UPS ticket 42", by="Sam", at=at(24, 10, 10))
    mark_evidence(uow, case_id, mark)


def nothing(uow: SqlUnitOfWork, kit: RoutingKit, case_id: int) -> None:
    return None


Meanwhile = Callable[[Any, RoutingKit, int], None]


@dataclass(frozen=True, kw_only=True)
class Expected:
    refused: bool
    kinds: tuple[str, ...] = ()  # the changes the refusal lists


MEANWHILE = [
    pytest.param(
        another_reply,
        Expected(refused=True, kinds=("reply_sent", "status_changed")),
        id="another agent replied",
    ),
    pytest.param(
        customer_writes, Expected(refused=True, kinds=("message_received",)), id="the customer wrote again"
    ),
    pytest.param(
        status_moved, Expected(refused=True, kinds=("status_changed",)), id="another agent moved the status"
    ),
    pytest.param(noted, Expected(refused=False), id="a note does not block"),
    pytest.param(evidence_marked, Expected(refused=False), id="an evidence mark does not block"),
    pytest.param(nothing, Expected(refused=False), id="nothing happened"),
]


@pytest.mark.parametrize(("meanwhile", "expected"), MEANWHILE)
def test_a_reply_after_an_unseen_change_is_refused_with_what_changed(
    uow: SqlUnitOfWork, kit: RoutingKit, case_id: int, meanwhile: Meanwhile, expected: Expected
) -> None:
    seen = latest_event(uow, case_id)
    meanwhile(uow, kit, case_id)
    before = dump(uow)
    reply = Reply(case_id=case_id, text=PROMISE, author="Marcus", at=at(24, 10, 20), seen_event_id=seen)

    if expected.refused:
        with pytest.raises(CaseChanged) as refused:
            send_reply(uow, kit, reply)
        assert tuple(e["kind"] for e in refused.value.changes) == expected.kinds
        assert refused.value.latest_event_id == latest_event(uow, case_id)
        assert dump(uow) == before
    else:
        send_reply(uow, kit, reply)
        assert kinds(uow, case_id).count("reply_sent") == 1


def test_a_status_move_after_an_unseen_reply_is_refused_and_nothing_moves(
    uow: SqlUnitOfWork, kit: RoutingKit, case_id: int
) -> None:
    seen = latest_event(uow, case_id)
    another_reply(uow, kit, case_id)
    before = dump(uow)

    with pytest.raises(CaseChanged):
        change_status(
            uow, kit, case_id, CaseStatus.RESOLVED, by="Marcus", at=at(24, 10, 20), seen_event_id=seen
        )

    assert dump(uow) == before


class _PausingAfterCheck:
    """The case repository, pausing right after the guard read the case's newer events and
    before the reply is written: the moment a second send made with the same seen id would
    slip in if the check were not under the case row's lock."""

    def __init__(self, cases: CaseRepository, locked: threading.Event) -> None:
        self._cases = cases
        self._locked = locked

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cases, name)

    def events_after(self, case_id: int, event_id: int) -> Any:
        found = self._cases.events_after(case_id, event_id)
        self._locked.set()
        time.sleep(0.5)  # the second send starts and reaches its own check meanwhile
        return found


def _pausing(uow: SqlUnitOfWork, locked: threading.Event) -> Callable[[], AbstractContextManager[Any]]:
    @contextmanager
    def begin() -> Iterator[Any]:
        with uow() as cases:
            yield _PausingAfterCheck(cases, locked)

    return begin


def test_two_sends_racing_with_the_same_seen_id_store_exactly_one_reply(
    uow: SqlUnitOfWork, kit: RoutingKit, case_id: int
) -> None:
    seen = latest_event(uow, case_id)
    locked = threading.Event()
    outcomes: dict[str, str] = {}

    def send(who: str, unit: UnitOfWork, text: str) -> None:
        reply = Reply(case_id=case_id, text=text, author=who, at=at(24, 10, 20), seen_event_id=seen)
        try:
            send_reply(unit, kit, reply)
            outcomes[who] = "sent"
        except CaseChanged as refused:
            outcomes[who] = "refused: " + ",".join(e["kind"] for e in refused.changes)

    first = threading.Thread(target=send, args=("Marcus", _pausing(uow, locked), PROMISE))
    first.start()
    assert locked.wait(timeout=10)
    second = threading.Thread(target=send, args=("Sam", uow, OTHER_PROMISE))
    second.start()
    first.join(timeout=30)
    second.join(timeout=30)

    # the first reply also moved the new case to open
    assert outcomes == {"Marcus": "sent", "Sam": "refused: reply_sent,status_changed"}
    assert [actor for kind, actor, _ in events(uow, case_id) if kind == "reply_sent"] == ["Marcus"]
    with uow() as cases:
        mails = [m.mail for m in cases.pending_mails() if m.mail.case_id == case_id]
    assert [m.body for m in mails] == [PROMISE]


def test_without_a_seen_id_nothing_is_checked(uow: SqlUnitOfWork, kit: RoutingKit, case_id: int) -> None:
    another_reply(uow, kit, case_id)

    send_reply(
        uow, kit, Reply(case_id=case_id, text=PROMISE, author="Marcus", at=AGENT_SAW + timedelta(minutes=15))
    )

    assert kinds(uow, case_id).count("reply_sent") == 2

"""Reading again by meaning the cases a file's intake routed by their words alone.

`aftersales intake` leaves the semantic reader out for speed (a backlog of thousands of mails
imports at several hundred a second by words, at about 200 with the semantic reader), and
marks each case it would have read (``meaning_due``). This reads them afterwards, from the
background jobs of `aftersales worker` and `serve`, or at once with `aftersales reread`:

- the case's opening message is routed again with the semantic reader, with the order's
  facts, as `aftersales route` and a polled mail would have routed it;
- the same route: the case keeps everything, and its timeline records the reading;
- another route: the case is planned again as a re-route plans it (services/rerouting.py:
  evidence, lead, decision, draft, clocks that never take a stricter target), the timeline
  says the semantic reader changed it, and the case carries "check the route". No labelled
  example is stored: a label is a person's word.

A case a person has already answered, re-routed or confirmed, or that is closed, is left as
it is (its mark is cleared). The model reads outside the transaction; the write checks the
mark again, so two workers, or a person acting meanwhile, never apply a stale reading.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aftersales.domain.card import DecisionCard
from aftersales.domain.cases import OPEN_STATUSES, CaseRecord, Event
from aftersales.domain.corrections import route_check
from aftersales.domain.messages import Direction
from aftersales.ports import CaseRepository, UnitOfWork
from aftersales.services.rerouting import Reroute, case_facts, replan
from aftersales.services.routing import RoutingKit

READ_BY = "semantic reader"  # the actor in the timeline


@dataclass(frozen=True, slots=True)
class RereadResult:
    read: int  # cases read again
    rerouted: int  # of them, cases the semantic reader put on another route
    left: int  # cases still waiting (the run's limit or time ran out)


class NoSemanticReader(RuntimeError):
    """The kit has no semantic reader: it is not installed, or the policy turns it off."""


def reread(
    uow: UnitOfWork,
    kit: RoutingKit,
    *,
    now: datetime,
    limit: int = 500,
    seconds: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> RereadResult:
    """Read again up to ``limit`` waiting cases, oldest first, for ``seconds`` at most."""
    if kit.semantic is None:
        raise NoSemanticReader("the semantic reader is not installed or the store policy turns it off")
    started = time.monotonic()
    with uow() as cases:
        waiting = cases.case_ids_due_meaning(limit)
    if not waiting:  # the model is not loaded for nothing
        return RereadResult(read=0, rerouted=0, left=0)
    if not kit.semantic("Where is my order?"):  # loads it once; the marks stay until it can read
        raise NoSemanticReader("the semantic reader cannot read (its model failed to load: see the log)")
    read = rerouted = 0
    for case_id in waiting:
        if seconds is not None and time.monotonic() - started > seconds:
            break
        changed = _reread_one(uow, kit, case_id, now)
        read += changed is not None
        rerouted += bool(changed)
        if progress is not None:
            progress(read)
    with uow() as cases:
        left = cases.meaning_due_count()
    return RereadResult(read=read, rerouted=rerouted, left=left)


def _reread_one(uow: UnitOfWork, kit: RoutingKit, case_id: int, now: datetime) -> bool | None:
    """True when the case changed route, False when it kept it, None when it was not read."""
    with uow() as cases:
        row = cases.case_row(case_id)
        if not row.meaning_due:
            return None  # another worker, or a person, got there first
        first = _readable_opening(cases, row)
        if first is None:
            cases.update_case(case_id, {"meaning_due": False})
            return None
        facts = case_facts(cases, row, first)
    card = facts.card(kit, now=now)  # the semantic reader reads here, outside any transaction
    with uow() as cases:
        row = cases.case_row(case_id)
        if not row.meaning_due:
            return None
        _apply(cases, kit, row, card, now)
        return card.routing.route is not row.route


def _readable_opening(cases: CaseRepository, row: CaseRecord) -> Mapping[str, Any] | None:
    """The case's opening message, when the case is still the router's to change: open, and
    not yet answered by a person."""
    if row.status not in OPEN_STATUSES:
        return None
    messages = cases.messages_of(row.id)
    if any(m["direction"] == Direction.OUTBOUND.value for m in messages):
        return None
    return next((m for m in messages if m["direction"] == Direction.INBOUND.value), None)


def _apply(
    cases: CaseRepository, kit: RoutingKit, row: CaseRecord, card: DecisionCard, now: datetime
) -> None:
    if card.routing.route is row.route:
        cases.update_case(row.id, {"meaning_due": False})
        cases.add_event(row.id, Event("route_read_again", now, READ_BY, _reading(card)))
        return
    change = Reroute(
        case_id=row.id, route=card.routing.route, by=READ_BY, at=now, reason=card.routing.decided_by
    )
    replan(cases, kit, row, card, change, route_check=route_check(card))


def _reading(card: DecisionCard) -> Mapping[str, Any]:
    """What the timeline records of a reading that kept the case's route."""
    return {
        "route": card.routing.route.value,
        "kept": True,
        "confidence": round(card.routing.confidence, 3),
        "decided_by": card.routing.decided_by,
    }

"""The SLA tick: recompute every open case's clocks and record new breaches, idempotently.

Two ticks may run at once (`aftersales sla tick` from cron beside a worker's): each case is
refreshed with its row locked (PostgreSQL: SELECT ... FOR UPDATE; SQLite's writers take
turns), so the second waits, then reads the breach the first recorded and records none."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aftersales.domain.cases import OPEN_STATUSES
from aftersales.ports import UnitOfWork
from aftersales.services.clocks import CaseHistory, refresh_clocks
from aftersales.services.routing import RoutingKit


@dataclass(frozen=True, slots=True)
class TickResult:
    cases: int
    breaches: int


def tick(uow: UnitOfWork, kit: RoutingKit, now: datetime) -> TickResult:
    with uow() as cases:
        ids = [c.id for c in cases.list_cases(sorted(OPEN_STATUSES), limit=10_000_000)]
    breaches = 0
    for case_id in ids:
        with uow() as cases:  # one case per transaction: a long tick never holds a lock long
            row = cases.locked_case_row(case_id)
            history = CaseHistory(
                row.route,
                row.clocks,
                cases.message_times(case_id),
                cases.timeline(case_id),
                current=row.queue_state(),
            )
            breaches += len(refresh_clocks(cases, kit, case_id, now, history))
    return TickResult(len(ids), breaches)

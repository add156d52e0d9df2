"""The SLA tick: advance the open cases' clocks and record new breaches, idempotently.

A case's clocks change with the passing of time alone only when one turns at risk or
breached, and every refresh stores when that next happens (``cases.next_check_at``). So a
tick reads only the cases whose moment has come; a sweep (``full``, hourly in the job
layer) reads every open case, in case anything changed a case's timeline without
refreshing its clocks.

Two ticks may run at once (`aftersales sla tick` from cron beside a worker's): each case is
refreshed with its row locked (PostgreSQL: SELECT ... FOR UPDATE; SQLite's writers take
turns), so the second waits, then reads the breach the first recorded and records none."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aftersales.domain.routes import Route
from aftersales.ports import ClockInputs, UnitOfWork
from aftersales.services.clocks import CaseHistory, plan_refresh, refresh_clocks
from aftersales.services.routing import RoutingKit

# Open cases read per statement: a few hundred keep each read short and its rows small.
CHUNK = 250


@dataclass(frozen=True, slots=True)
class TickResult:
    cases: int
    breaches: int


def tick(
    uow: UnitOfWork, kit: RoutingKit, now: datetime, *, read: UnitOfWork | None = None, full: bool = False
) -> TickResult:
    """Advance the clocks of the open cases due a look by ``now`` (``full``: of every open
    case) to ``now``.

    Between two ticks most cases' clocks stand as stored: only a clock turning at risk or
    breached changes anything. So the cases are read a chunk at a time (three
    statements a chunk, in ``read``'s read-only transactions when given: on SQLite those
    never queue for the write lock) and their clocks computed; only a case whose clocks,
    sort keys or events would change is refreshed, in a transaction of its own that reads it
    again, so a reply that landed meanwhile is counted and a long tick never holds a lock long.
    """
    reader = read or uow
    with reader() as cases:
        ids = cases.open_case_ids() if full else cases.case_ids_to_check(now)
    breaches = 0
    for start in range(0, len(ids), CHUNK):
        with reader() as cases:
            chunk = cases.clock_inputs(ids[start : start + CHUNK])
        for case_id, inputs in chunk.items():
            history = _history(inputs)
            if not plan_refresh(kit, history, now).changes(history):
                continue
            with uow() as cases:  # read again, its row locked: two ticks record a breach once
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


def _history(inputs: ClockInputs) -> CaseHistory:
    row = inputs.row
    return CaseHistory(Route(row["route"]), row["clocks"] or [], inputs.messages, inputs.events, current=row)

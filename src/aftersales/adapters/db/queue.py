"""The queue's listing on SQLAlchemy Core: filters, the two orders, search.

Each order is one indexed number on the case, kept by the repository whenever a case's
route, status, risk or due time changes (``queue_fields``), so a listing is one walk of an
index in order, stopped after ``limit`` rows:

* ``queue_order`` (the default, ``domain/queue.py``): who can act, route risk, SLA state,
  then the due time, as ``stage * 10**13 + route rank * 10**12 + SLA rank * 10**11 +
  seconds of the next due time`` (or ``_NEVER``). Open cases are those below ``OPEN_BELOW``.
* ``due_order`` ("most overdue first"): the seconds of the next due time, closed cases after
  ``CLOSED_DUE``.

Customers and assignees are joined for the listed rows only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, func, literal_column, select

from aftersales.adapters.db import schema as t
from aftersales.adapters.db.search import matching
from aftersales.domain.accounts import Role
from aftersales.domain.cases import OPEN_STATUSES, CaseStatus, CaseSummary
from aftersales.domain.queue import QueueOrder, QueueQuery, lead_matches, queue_position
from aftersales.domain.routes import Route

NEVER = 99_999_999_999  # seconds standing in for "no due time": after every real one
_SLA_STEP = 10**11
_ROUTE_STEP = 10**12
_STAGE_STEP = 10**13
OPEN_BELOW = 2 * _STAGE_STEP  # stage 2 is resolved and closed
CLOSED_DUE = _SLA_STEP
QUEUE_KEYS = frozenset({"status", "risk", "next_due_at", "route"})
_ALL_STATUSES = frozenset(CaseStatus)
_ROLES = frozenset(role.value for role in Role)
# what a queue row shows, plus the keys to join and sort on: not the decision and other JSON
SUMMARY_COLUMNS = tuple(
    t.cases.c[name]
    for name in (
        "id", "route", "status", "lead_role", "lead_name", "order_number", "subject",
        "opened_at", "next_due_at", "risk", "clocks", "customer_id", "queue_order", "due_order",
        "route_check", "assignee_user_id", "last_message_preview", "last_message_direction",
    )
)  # fmt: skip


def queue_fields(changes: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """``queue_order``, ``due_order`` and ``is_open`` for a case after ``changes`` over its
    ``current`` state (its route, status, risk and next due time)."""
    state = {**current, **changes}
    due = state.get("next_due_at")
    seconds = int(due.timestamp()) if due is not None else NEVER
    status = CaseStatus(state.get("status") or CaseStatus.NEW)
    stage, route_rank, sla_rank = queue_position(
        Route(state.get("route") or Route.OTHER), status, int(state.get("risk") or 0)
    )
    is_open = status in OPEN_STATUSES
    return {
        "queue_order": stage * _STAGE_STEP + route_rank * _ROUTE_STEP + sla_rank * _SLA_STEP + seconds,
        "due_order": seconds + (0 if is_open else CLOSED_DUE),
        "is_open": is_open,
    }


def list_queue(db: Connection, query: QueueQuery) -> list[CaseSummary]:
    """The cases ``query`` asks for, in its order."""
    key = t.cases.c.queue_order if query.order is QueueOrder.RISK else t.cases.c.due_order
    page = select(*SUMMARY_COLUMNS).order_by(key, t.cases.c.id).limit(query.limit)
    page = _filtered(_by_status(page, query.statuses, query.order), query)
    if query.lead.strip():
        leads = _lead_is(db, query.lead.strip())
        if leads is None:
            return []
        page = page.where(leads)
    if query.search.strip():
        found = matching(db.dialect.name, query.search)
        if found is None:
            return []
        page = page.where(found)
    rows = page.subquery()
    listed = (
        select(
            rows,
            t.customers.c.email.label("customer"),
            t.users.c.email.label("assignee_email"),
            t.users.c.name.label("assignee_name"),
        )
        .outerjoin(t.customers, t.customers.c.id == rows.c.customer_id)
        .outerjoin(t.users, t.users.c.id == rows.c.assignee_user_id)
        .order_by(rows.c.queue_order if query.order is QueueOrder.RISK else rows.c.due_order, rows.c.id)
    )
    # fetched at once, each row as a dict by _asdict(): a mapping row's dict() asks for its
    # keys anew each time, and fetching one by one crosses the driver per row
    return [summary(row._asdict()) for row in db.execute(listed).all()]


def _by_status(page: Select[Any], statuses: frozenset[CaseStatus], order: QueueOrder) -> Select[Any]:
    """The open queue and "everything" are ranges of the ordering index itself; other status
    sets are looked up by status."""
    if statuses >= _ALL_STATUSES:
        return page
    if statuses == OPEN_STATUSES:
        if order is QueueOrder.RISK:
            return page.where(t.cases.c.queue_order < OPEN_BELOW)
        return page.where(t.cases.c.due_order < CLOSED_DUE)
    return page.where(t.cases.c.status.in_(sorted(s.value for s in statuses)))


def _filtered(page: Select[Any], query: QueueQuery) -> Select[Any]:
    if query.route is not None:
        page = page.where(t.cases.c.route == query.route.value)
    if query.breaching:
        page = page.where(t.cases.c.risk >= 1)
    if query.assignee_id is not None:
        page = page.where(t.cases.c.assignee_user_id == query.assignee_id)
    if query.unassigned:
        page = page.where(t.cases.c.assignee_user_id.is_(None))
    return page


def _lead_is(db: Connection, lead: str) -> ColumnElement[bool] | None:
    """A role ("operations"), or the start of a word of the lead's name, any case: "Priya",
    "priya s", "Shah" all find Priya Shah. Names are matched here, in Python, against the
    few the cases hold, so the listing walks the (lead_name, queue_order) index (or the
    (lead_role, queue_order) one); None when no lead matches: nothing to list or scan."""
    if lead in _ROLES:
        return t.cases.c.lead_role == lead
    names = [name for name in db.execute(_LEAD_NAMES).scalars() if name and lead_matches(name, lead)]
    return t.cases.c.lead_name.in_(names) if names else None


# The cases' distinct lead names, one seek of the (lead_name, queue_order) index each (a
# "loose index scan"): a store has a handful of leads, however many cases.
_name = select(func.min(t.cases.c.lead_name).label("name")).cte("lead_name", recursive=True)
_LEAD_NAMES = select(
    _name.union_all(
        select(
            select(func.min(t.cases.c.lead_name)).where(t.cases.c.lead_name > _name.c.name).scalar_subquery()
        ).where(_name.c.name.is_not(None))
    )
    .alias("names")
    .c.name
).where(literal_column("name").is_not(None))


def summary(row: Mapping[str, Any]) -> CaseSummary:
    return CaseSummary(
        id=row["id"],
        route=Route(row["route"]),
        status=CaseStatus(row["status"]),
        lead_role=row["lead_role"],
        lead_name=row["lead_name"],
        customer=row["customer"] or "",
        order_number=row["order_number"],
        subject=row["subject"],
        opened_at=row["opened_at"],
        next_due_at=row["next_due_at"],
        risk=row["risk"],
        clocks=tuple(row["clocks"] or ()),
        route_check=row.get("route_check") or "",
        assignee_email=row.get("assignee_email") or "",
        assignee_name=row.get("assignee_name") or "",
        preview=row.get("last_message_preview") or "",
        last_direction=row.get("last_message_direction") or "",
    )

"""Automation holds and open cases per buyer, read on SQLAlchemy Core: what marketing tools
and the review-request job must respect (``holds_unit_of_work``).

A hold belongs to a case (intake and the review import set it; a status move to resolved or
closed lifts it, see ``services/desk.py``), so a buyer with two held cases stays on hold until
both are lifted. A hold counts as in force while it has no ``until`` and its case is still
open: a case closed by a path that forgot to lift its hold does not hold its buyer forever.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, or_, select, true, union_all

from aftersales.adapters.db import schema as t
from aftersales.adapters.db.engine import transactions
from aftersales.domain.review_requests import BuyerState, Hold, RequestStatus

_holds, _cases, _customers, _requests = t.automation_holds, t.cases, t.customers, t.review_requests

IN_FORCE = and_(
    _holds.c.until.is_(None),
    or_(_holds.c.case_id.is_(None), _cases.c.is_open == true()),
)
_HOLDS_IN_FORCE = (
    select(_holds.c.customer_id, _customers.c.email, _holds.c.case_id, _holds.c.reason, _holds.c.since)
    .join(_customers, _customers.c.id == _holds.c.customer_id)
    .outerjoin(_cases, _cases.c.id == _holds.c.case_id)
    .where(IN_FORCE)
    .order_by(_holds.c.since, _holds.c.id)
)


def holds_in_force(db: Connection, customer_ids: Collection[int] | None = None) -> dict[int, list[Hold]]:
    """The holds in force per customer id (of ``customer_ids`` only, when given)."""
    query = _HOLDS_IN_FORCE
    if customer_ids is not None:
        if not customer_ids:
            return {}
        query = query.where(_holds.c.customer_id.in_(sorted(customer_ids)))
    found: dict[int, list[Hold]] = defaultdict(list)
    for row in db.execute(query):
        found[row.customer_id].append(Hold(row.reason, row.since, row.case_id))
    return dict(found)


class SqlHoldRepository:
    def __init__(self, connection: Connection) -> None:
        self.db = connection

    def held_buyers(self) -> list[BuyerState]:
        """Buyers with a hold in force, by e-mail."""
        holds = holds_in_force(self.db)
        return sorted(self._states(holds, self._emails(holds.keys())), key=lambda s: s.email)

    def buyer_states(self) -> list[BuyerState]:
        """Every buyer who has had a case, a hold or a review request, by e-mail: a buyer whose
        last case closed is listed too, so a marketing tool sees the property turn false."""
        return sorted(self._states(holds_in_force(self.db), self._emails()), key=lambda s: s.email)

    def _emails(self, customer_ids: Collection[int] | None = None) -> dict[int, str]:
        query = select(_customers.c.id, _customers.c.email)
        if customer_ids is None:
            query = query.where(_customers.c.id.in_(_known()))
        else:
            query = query.where(_customers.c.id.in_(sorted(customer_ids)))
        return {row.id: row.email for row in self.db.execute(query)}

    def _states(self, holds: dict[int, list[Hold]], emails: dict[int, str]) -> list[BuyerState]:
        cases = {row.customer_id: (row.open_cases, row.changed) for row in self.db.execute(_CASE_COUNTS)}
        hold_changes = {row.customer_id: row.changed for row in self.db.execute(_HOLD_CHANGES)}
        requests = _last_requests(self.db)
        states = []
        for customer_id, email in emails.items():
            open_cases, case_changed = cases.get(customer_id, (0, None))
            order, requested_at = requests.get(customer_id, ("", None))
            moments = [m for m in (case_changed, hold_changes.get(customer_id), requested_at) if m]
            states.append(
                BuyerState(
                    email=email,
                    open_cases=int(open_cases or 0),
                    holds=tuple(holds.get(customer_id, ())),
                    updated_at=max(moments),
                    review_request_order=order,
                    review_requested_at=requested_at,
                )
            )
        return states


def _known() -> Any:
    """Customer ids with a case, a hold or a review request handed over."""
    return union_all(
        select(_cases.c.customer_id).where(_cases.c.customer_id.is_not(None)),
        select(_holds.c.customer_id),
        select(_requests.c.customer_id).where(
            _requests.c.customer_id.is_not(None), _requests.c.status == RequestStatus.SENT.value
        ),
    ).scalar_subquery()


_CASE_COUNTS = (
    select(
        _cases.c.customer_id,
        func.count().filter(_cases.c.is_open == true()).label("open_cases"),
        func.max(_cases.c.updated_at).label("changed"),
    )
    .where(_cases.c.customer_id.is_not(None))
    .group_by(_cases.c.customer_id)
)
_HOLD_CHANGES = select(
    _holds.c.customer_id, func.max(func.coalesce(_holds.c.until, _holds.c.since)).label("changed")
).group_by(_holds.c.customer_id)


def _last_requests(db: Connection) -> dict[int, tuple[str, datetime]]:
    """The last review request handed over per customer: (order number, when)."""
    query = (
        select(_requests.c.customer_id, _requests.c.order_number, _requests.c.sent_at)
        .where(_requests.c.status == RequestStatus.SENT.value, _requests.c.customer_id.is_not(None))
        .order_by(_requests.c.sent_at, _requests.c.id)
    )
    return {row.customer_id: (row.order_number, row.sent_at) for row in db.execute(query)}


def holds_unit_of_work(
    engine: Engine, *, writes: bool = False
) -> Callable[[], AbstractContextManager[SqlHoldRepository]]:
    """A factory: ``with holds() as repo:`` is one transaction (read-only by default)."""
    return transactions(engine, SqlHoldRepository, writes=writes)

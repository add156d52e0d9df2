"""Review requests on SQLAlchemy Core (``review_requests``, migration 0006): delivered orders
that have none yet, the requests due, and the holds in force on their buyers, in one unit of
work (``review_requests_unit_of_work``)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, select, update
from sqlalchemy.dialects import postgresql, sqlite

from aftersales.adapters.db import schema as t
from aftersales.adapters.db.engine import transactions
from aftersales.adapters.db.holds import holds_in_force
from aftersales.domain.review_requests import (
    Hold,
    RequestStatus,
    ReviewRequest,
    log_from_json,
    log_to_json,
)

_orders, _requests = t.orders, t.review_requests


class SqlReviewRequestRepository:
    def __init__(self, connection: Connection) -> None:
        self.db = connection

    def delivered_without_request(
        self, since: datetime | None, limit: int
    ) -> list[tuple[str, int, datetime]]:
        """Delivered, not cancelled orders of a known buyer that have no request yet (delivered
        at or after ``since``), as (order number, customer id, delivered at), oldest first."""
        query = (
            select(_orders.c.number, _orders.c.customer_id, _orders.c.delivered_at)
            .outerjoin(_requests, _requests.c.order_number == _orders.c.number)
            .where(
                _requests.c.id.is_(None),
                _orders.c.delivered_at.is_not(None),
                _orders.c.cancelled_at.is_(None),
                _orders.c.customer_id.is_not(None),
            )
            .order_by(_orders.c.delivered_at, _orders.c.id)
            .limit(limit)
        )
        if since is not None:
            query = query.where(_orders.c.delivered_at >= since)
        return [(row.number, row.customer_id, row.delivered_at) for row in self.db.execute(query)]

    def due(self, now: datetime, limit: int) -> list[ReviewRequest]:
        """Requests not sent yet whose time has come, the longest due first."""
        query = (
            select(_requests)
            .where(_requests.c.status != RequestStatus.SENT.value, _requests.c.due_at <= now)
            .order_by(_requests.c.due_at, _requests.c.id)
            .limit(limit)
            # a second run at the same time skips the rows this one decides (PostgreSQL;
            # SQLite runs one writer at a time anyway)
            .with_for_update(skip_locked=True)
        )
        return [_request(row) for row in self.db.execute(query).mappings()]

    def requests(self, status: RequestStatus | None = None) -> list[ReviewRequest]:
        query = select(_requests).order_by(_requests.c.due_at, _requests.c.id)
        if status is not None:
            query = query.where(_requests.c.status == status.value)
        return [_request(row) for row in self.db.execute(query).mappings()]

    def holds_in_force(self, customer_ids: Collection[int]) -> dict[int, list[Hold]]:
        return holds_in_force(self.db, customer_ids)

    def emails(self, customer_ids: Collection[int]) -> dict[int, str]:
        if not customer_ids:
            return {}
        query = select(t.customers.c.id, t.customers.c.email).where(
            t.customers.c.id.in_(sorted(customer_ids))
        )
        return {row.id: row.email for row in self.db.execute(query)}

    def add(self, request: ReviewRequest, at: datetime) -> bool:
        """Store a new request; False when another run stored one for the order meanwhile."""
        values = _values(request) | {"updated_at": at}
        dialect = postgresql if self.db.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(_requests)
            .values(values)
            .on_conflict_do_nothing(index_elements=["order_number"])
            .returning(_requests.c.id)
        )
        return self.db.execute(statement).scalar() is not None

    def save(self, request: ReviewRequest, at: datetime) -> None:
        values = _values(request) | {"updated_at": at}
        self.db.execute(
            update(_requests).where(_requests.c.order_number == request.order_number).values(values)
        )


def _values(request: ReviewRequest) -> dict[str, Any]:
    return {
        "order_number": request.order_number,
        "customer_id": request.customer_id,
        "delivered_at": request.delivered_at,
        "due_at": request.due_at,
        "status": request.status.value,
        "sent_at": request.sent_at,
        "log": log_to_json(request.log),
    }


def _request(row: RowMapping) -> ReviewRequest:
    return ReviewRequest(
        order_number=row["order_number"],
        customer_id=row["customer_id"],
        delivered_at=row["delivered_at"],
        due_at=row["due_at"],
        status=RequestStatus(row["status"]),
        sent_at=row["sent_at"],
        log=log_from_json(row["log"] or []),
    )


def review_requests_unit_of_work(
    engine: Engine, *, writes: bool = True
) -> Callable[[], AbstractContextManager[SqlReviewRequestRepository]]:
    """A factory: ``with requests() as repo:`` is one transaction, committed when it ends."""
    return transactions(engine, SqlReviewRequestRepository, writes=writes)

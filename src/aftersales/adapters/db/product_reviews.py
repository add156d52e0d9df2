"""Imported reviews on SQLAlchemy Core: one repository per transaction (see
``reviews_unit_of_work``). The catalogue (``product_variants``) is only read here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime

from sqlalchemy import Connection, Engine, RowMapping, bindparam, insert, select, update

from aftersales.adapters.db import schema as t
from aftersales.adapters.db.engine import transactions
from aftersales.domain.product_reviews import OrderMatch, ReviewRecord, ReviewSource

_RECORD_COLUMNS = (
    "rating",
    "title",
    "body",
    "reviewer_email",
    "reviewer_name",
    "order_number",
    "sku",
    "product_handle",
    "reviewed_at",
    "case_id",
)
_STORED = select(t.reviews).where(
    t.reviews.c.source == bindparam("source_"), t.reviews.c.external_id == bindparam("external_id_")
)
_ADD = insert(t.reviews)
# the SET clause comes from the parameters' column names
_UPDATE = update(t.reviews).where(
    t.reviews.c.source == bindparam("source_"), t.reviews.c.external_id == bindparam("external_id_")
)
_ORDER_COLUMNS = (t.orders.c.id, t.orders.c.number, t.customers.c.email, t.customers.c.name)
_ORDERS_BY_NUMBER = (
    select(*_ORDER_COLUMNS)
    .outerjoin(t.customers, t.customers.c.id == t.orders.c.customer_id)
    .where(t.orders.c.number.in_(bindparam("numbers", expanding=True)))
)
_ORDERS_BY_SHOPIFY_ID = (
    select(*_ORDER_COLUMNS)
    .outerjoin(t.customers, t.customers.c.id == t.orders.c.customer_id)
    .where(t.orders.c.shopify_id.in_(bindparam("numbers", expanding=True)))
)
_ORDER_SKUS = (
    select(t.order_lines.c.sku)
    .where(t.order_lines.c.order_id == bindparam("order_id_"), t.order_lines.c.sku != "")
    .order_by(t.order_lines.c.id)
)
# two distinct SKUs are enough to know a product has more than one
_HANDLE_SKUS = (
    select(t.product_variants.c.sku)
    .where(t.product_variants.c.handle == bindparam("handle"), t.product_variants.c.sku != "")
    .distinct()
    .limit(2)
)


class SqlReviewRepository:
    def __init__(self, connection: Connection) -> None:
        self.db = connection

    def stored_review(self, source: ReviewSource, external_id: str) -> ReviewRecord | None:
        keys = {"source_": source.value, "external_id_": external_id}
        row = self.db.execute(_STORED, keys).mappings().first()
        return None if row is None else _record(row)

    def matching_order(self, numbers: Sequence[str]) -> OrderMatch | None:
        for query in (_ORDERS_BY_NUMBER, _ORDERS_BY_SHOPIFY_ID):
            rows = {
                row["number"]: row for row in self.db.execute(query, {"numbers": list(numbers)}).mappings()
            }
            # the numbers come in order of preference: the reference as given first
            found = next((rows[number] for number in numbers if number in rows), None)
            found = found or next(iter(rows.values()), None)
            if found is not None:
                return self._match(found)
        return None

    def _match(self, row: RowMapping) -> OrderMatch:
        skus = self.db.execute(_ORDER_SKUS, {"order_id_": row["id"]}).scalars()
        return OrderMatch(row["number"], tuple(skus), row["email"] or "", row["name"] or "")

    def single_sku(self, handle: str) -> str:
        skus = list(self.db.execute(_HANDLE_SKUS, {"handle": handle}).scalars())
        return str(skus[0]) if len(skus) == 1 else ""

    def save_review(self, record: ReviewRecord, at: datetime) -> None:
        values = {name: getattr(record, name) for name in _RECORD_COLUMNS} | {"imported_at": at}
        keys = {"source_": record.source.value, "external_id_": record.external_id}
        if self.db.execute(_UPDATE, values | keys).rowcount == 0:
            self.db.execute(_ADD, values | {"source": record.source.value, "external_id": record.external_id})


def _record(row: RowMapping) -> ReviewRecord:
    return ReviewRecord(
        source=ReviewSource(row["source"]),
        external_id=row["external_id"],
        **{name: row[name] for name in _RECORD_COLUMNS},
    )


def reviews_unit_of_work(
    engine: Engine, *, writes: bool = True
) -> Callable[[], AbstractContextManager[SqlReviewRepository]]:
    """A factory: ``with reviews() as repo:`` is one transaction, committed when the block ends."""
    return transactions(engine, SqlReviewRepository, writes=writes)

"""The cases a feed finding is linked to, on SQLAlchemy Core (read only; see
``feed_links_unit_of_work``).

A case is on a SKU when the case says so (``cases.sku``, set when it is routed) or when the
order it names has a line with that SKU (cases routed before ``cases.sku`` was filled). A
message "says in stock" when a customer's message on it contains one of the stock phrases and
names the item (its SKU, or its title and variant).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

from sqlalchemy import Connection, Engine, RowMapping, Select, and_, func, or_, select, union

from aftersales.adapters.db import schema as t
from aftersales.adapters.db.engine import transactions
from aftersales.domain.feed_audit import CaseRef
from aftersales.domain.messages import Direction

_C = t.cases.c
_CHUNK = 500  # SKUs per IN (...): well under every database's parameter limit
_CASE_COLUMNS = (_C.id, _C.route, _C.subject, _C.is_open)


class SqlFeedLinks:
    def __init__(self, connection: Connection) -> None:
        self.db = connection

    def cases_on_skus(self, skus: Sequence[str]) -> dict[str, list[CaseRef]]:
        """For each SKU that has cases, its cases (oldest first)."""
        found: dict[str, dict[int, CaseRef]] = {}
        wanted = sorted(set(filter(None, skus)))
        for start in range(0, len(wanted), _CHUNK):
            for row in self.db.execute(_on_skus(wanted[start : start + _CHUNK])).mappings():
                found.setdefault(row["sku"], {})[row["id"]] = _ref(row)
        return {sku: [cases[key] for key in sorted(cases)] for sku, cases in found.items()}

    def cases_saying(self, phrases: Sequence[str], mentions: Sequence[str]) -> list[CaseRef]:
        """Cases with a customer message that contains one of ``phrases`` and one of
        ``mentions`` (both lower-case), oldest first."""
        if not phrases or not mentions:
            return []
        body = func.lower(t.messages.c.body)
        query = (
            select(*_CASE_COLUMNS)
            .distinct()
            .join(t.messages, t.messages.c.case_id == _C.id)
            .where(
                t.messages.c.direction == Direction.INBOUND.value,
                or_(*(body.contains(phrase, autoescape=True) for phrase in phrases)),
                or_(*(body.contains(needle, autoescape=True) for needle in mentions)),
            )
            .order_by(_C.id)
        )
        return [_ref(row) for row in self.db.execute(query).mappings()]


def _on_skus(skus: Sequence[str]) -> Select[tuple[int, str, str, bool, str]]:
    named = select(*_CASE_COLUMNS, _C.sku.label("sku")).where(_C.sku.in_(skus))
    ordered = (
        select(*_CASE_COLUMNS, t.order_lines.c.sku.label("sku"))
        .join(t.orders, and_(t.orders.c.number == _C.order_number, _C.order_number != ""))
        .join(t.order_lines, t.order_lines.c.order_id == t.orders.c.id)
        .where(t.order_lines.c.sku.in_(skus))
    )
    both = union(named, ordered).subquery()
    return select(both.c.id, both.c.route, both.c.subject, both.c.is_open, both.c.sku)


def _ref(row: RowMapping) -> CaseRef:
    return CaseRef(
        id=int(row["id"]), route=row["route"], subject=row["subject"], is_open=bool(row["is_open"])
    )


def feed_links_unit_of_work(engine: Engine) -> Callable[[], AbstractContextManager[SqlFeedLinks]]:
    """``with links() as repo:`` reads in one transaction; it never waits for a writer."""
    return transactions(engine, SqlFeedLinks, writes=False)

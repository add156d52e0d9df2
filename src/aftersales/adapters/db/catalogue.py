"""The catalogue's product variants on SQLAlchemy Core: one repository per transaction (see
``catalogue_unit_of_work``).

Variants are stored a batch at a time: one query finds what the batch's products already
hold, then one statement inserts the new variants and one updates the changed ones, so a
10,000-variant export takes a few dozen statements rather than tens of thousands.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, Engine, RowMapping, bindparam, insert, select, update

from aftersales.adapters.db import schema as t
from aftersales.adapters.db.engine import transactions
from aftersales.domain.catalogue import ProductVariant

Outcome = Literal["new", "updated", "unchanged"]
_Key = tuple[str, str]  # (handle, variant key)

_V = t.product_variants.c
_VARIANT_COLUMNS = (
    _V.handle,
    _V.variant_key,
    _V.sku,
    _V.title,
    _V.vendor,
    _V.product_type,
    _V.options,
    _V.gtin,
    _V.price,
    _V.compare_at_price,
    _V.inventory,
    _V.image_link,
    _V.status,
)
_OF_HANDLES = select(_V.id, *_VARIANT_COLUMNS).where(_V.handle.in_(bindparam("handles", expanding=True)))
_BY_SKU = select(*_VARIANT_COLUMNS).where(_V.sku == bindparam("sku")).order_by(_V.handle, _V.variant_key)
_ALL = select(*_VARIANT_COLUMNS).order_by(_V.handle, _V.variant_key)
_INSERT = insert(t.product_variants)
# bound names differ from the column names: SQLAlchemy reserves those for the SET values
_UPDATE = (
    update(t.product_variants)
    .where(_V.id == bindparam("variant_id"))
    .values({c.name: bindparam(f"new_{c.name}") for c in (*_VARIANT_COLUMNS, _V.updated_at)})
)


class SqlCatalogueRepository:
    def __init__(self, connection: Connection) -> None:
        self.db = connection

    def upsert_variant(self, variant: ProductVariant, at: datetime) -> Outcome:
        """Store one variant unless the stored one is the same: what happened to it."""
        return self.upsert_variants([variant], at)[0]

    def upsert_variants(self, variants: Sequence[ProductVariant], at: datetime) -> list[Outcome]:
        """Store each variant (keyed by handle and variant key) unless the stored one is the
        same; what happened to each, in order. A key given twice keeps the later variant."""
        stored = self._stored({variant.handle for variant in variants})
        inserts: dict[_Key, dict[str, Any]] = {}
        updates: dict[_Key, dict[str, Any]] = {}
        outcomes: list[Outcome] = []
        for variant in variants:
            key = (variant.handle, variant.variant_key)
            stored_id, stored_variant = stored.get(key, (None, None))
            if stored_variant == variant:
                outcomes.append("unchanged")
                continue
            outcomes.append("new" if stored_variant is None else "updated")
            if stored_id is None:
                inserts[key] = _values(variant, at)
            else:
                updates[key] = {"variant_id": stored_id} | {
                    f"new_{name}": value for name, value in _values(variant, at).items()
                }
            stored[key] = (stored_id, variant)
        if inserts:
            self.db.execute(_INSERT, list(inserts.values()))
        if updates:
            self.db.execute(_UPDATE, list(updates.values()))
        return outcomes

    def variants_by_sku(self, sku: str) -> list[ProductVariant]:
        return [_variant(row) for row in self.db.execute(_BY_SKU, {"sku": sku}).mappings()]

    def all_variants(self) -> list[ProductVariant]:
        return [_variant(row) for row in self.db.execute(_ALL).mappings()]

    def _stored(self, handles: set[str]) -> dict[_Key, tuple[int | None, ProductVariant | None]]:
        if not handles:
            return {}
        rows = self.db.execute(_OF_HANDLES, {"handles": sorted(handles)}).mappings()
        return {(row["handle"], row["variant_key"]): (int(row["id"]), _variant(row)) for row in rows}


def _values(variant: ProductVariant, at: datetime) -> dict[str, Any]:
    return {
        "handle": variant.handle,
        "variant_key": variant.variant_key,
        "sku": variant.sku,
        "title": variant.title,
        "vendor": variant.vendor,
        "product_type": variant.product_type,
        "options": dict(variant.options),
        "gtin": variant.gtin,
        "price": variant.price,
        "compare_at_price": variant.compare_at_price,
        "inventory": variant.inventory,
        "image_link": variant.image_link,
        "status": variant.status,
        "updated_at": at,
    }


def _variant(row: RowMapping) -> ProductVariant:
    return ProductVariant(
        handle=row["handle"],
        variant_key=row["variant_key"],
        sku=row["sku"],
        title=row["title"],
        vendor=row["vendor"],
        product_type=row["product_type"],
        options=tuple((str(name), str(value)) for name, value in dict(row["options"] or {}).items()),
        gtin=row["gtin"],
        price=row["price"],
        compare_at_price=row["compare_at_price"],
        inventory=row["inventory"],
        image_link=row["image_link"],
        status=row["status"],
    )


def catalogue_unit_of_work(
    engine: Engine, *, writes: bool = True
) -> Callable[[], AbstractContextManager[SqlCatalogueRepository]]:
    """A factory: ``with catalogue() as repo:`` is one transaction, committed when the block
    ends. ``writes=False`` is for reading only: on SQLite it does not queue for the write lock."""
    return transactions(engine, SqlCatalogueRepository, writes=writes)

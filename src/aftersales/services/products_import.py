"""Import the catalogue from a shop's product export: new variants are added, changed ones
updated, the same ones left alone, so importing the same file twice changes nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from aftersales.domain.catalogue import ProductVariant
from aftersales.domain.orders import OrderProblem
from aftersales.services.orders_import import ImportOutcome, ImportSummary

# Variants per transaction: a killed run loses only this many, and a rerun imports them again.
CHUNK = 500


class CatalogueRepository(Protocol):
    def upsert_variants(self, variants: Sequence[ProductVariant], at: datetime) -> Sequence[str]:
        """Store each variant unless the stored one is the same; for each, in order, "new",
        "updated" or "unchanged"."""
        ...


CatalogueUnitOfWork = Callable[[], AbstractContextManager[CatalogueRepository]]


def import_products(
    uow: CatalogueUnitOfWork,
    items: Iterable[ProductVariant | OrderProblem],
    at: datetime,
    on_each: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import every variant, ``CHUNK`` to a transaction; ``on_each`` is told how many items
    (variants and problems) have been handled so far, after each chunk."""
    counts: Counter[ImportOutcome] = Counter()
    failures: list[OrderProblem] = []
    chunk: list[ProductVariant] = []
    handled = 0
    for handled, item in enumerate(items, 1):
        if isinstance(item, OrderProblem):
            failures.append(item)
            continue
        chunk.append(item)
        if len(chunk) == CHUNK:
            counts.update(_store(uow, chunk, at))
            chunk = []
            if on_each is not None:
                on_each(handled)
    counts.update(_store(uow, chunk, at))
    if on_each is not None:
        on_each(handled)
    return ImportSummary(
        new=counts[ImportOutcome.NEW],
        updated=counts[ImportOutcome.UPDATED],
        unchanged=counts[ImportOutcome.UNCHANGED],
        failures=tuple(sorted(failures, key=lambda problem: problem.line)),
    )


def _store(uow: CatalogueUnitOfWork, chunk: Sequence[ProductVariant], at: datetime) -> list[ImportOutcome]:
    if not chunk:
        return []
    with uow() as catalogue:
        return [ImportOutcome(outcome) for outcome in catalogue.upsert_variants(chunk, at)]

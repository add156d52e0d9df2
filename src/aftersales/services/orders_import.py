"""Import orders from a shop export into the desk: new ones are added, changed ones updated,
the same ones left alone, so importing the same file twice changes nothing."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from aftersales.domain.orders import ImportedOrder, OrderFacts, OrderProblem
from aftersales.ports import CaseRepository, UnitOfWork


class ImportOutcome(StrEnum):
    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class ImportSummary:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    failures: tuple[OrderProblem, ...] = ()

    @property
    def failed(self) -> int:
        return len(self.failures)


def import_order(uow: UnitOfWork, imported: ImportedOrder, at: datetime) -> ImportOutcome:
    """Store one order in its own unit of work, unless the stored one is the same."""
    with uow() as cases:
        order = with_policy_version(cases, imported.order)
        stored = cases.order(order.number)
        if stored == order:
            return ImportOutcome.UNCHANGED
        customer_id = cases.customer_id(imported.email, imported.name, at) if imported.email else None
        cases.save_order(order, customer_id, at)
    return ImportOutcome.NEW if stored is None else ImportOutcome.UPDATED


def with_policy_version(cases: CaseRepository, order: OrderFacts) -> OrderFacts:
    """The order linked to the store policy texts in force when it was placed (the seed's
    "policy page version" evidence), unless its source already named a version."""
    if order.policy_version or order.placed_at is None:
        return order
    return dataclasses.replace(order, policy_version=cases.policy_version_at(order.placed_at))


def import_orders(
    uow: UnitOfWork,
    orders: Iterable[ImportedOrder | OrderProblem],
    at: datetime,
    on_each: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import every order; ``on_each`` is told how many have been handled so far."""
    counts: Counter[ImportOutcome] = Counter()
    failures: list[OrderProblem] = []
    for handled, item in enumerate(orders, 1):
        if isinstance(item, OrderProblem):
            failures.append(item)
        else:
            counts[import_order(uow, item, at)] += 1
        if on_each is not None:
            on_each(handled)
    return ImportSummary(
        new=counts[ImportOutcome.NEW],
        updated=counts[ImportOutcome.UPDATED],
        unchanged=counts[ImportOutcome.UNCHANGED],
        failures=tuple(sorted(failures, key=lambda problem: problem.line)),
    )

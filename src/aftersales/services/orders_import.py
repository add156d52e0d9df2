"""Import orders from a shop export into the desk: new ones are added, changed ones updated,
the same ones left alone, so importing the same file twice changes nothing."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Protocol, TypeVar

from aftersales.domain.orders import ImportedOrder, OrderFacts, OrderProblem, linked_to_policy
from aftersales.domain.shop_events import order_version, with_stored_refunds
from aftersales.ports import CustomerStore, OrderStore, UnitOfWork

T = TypeVar("T")


class _CustomersAndOrders(CustomerStore, OrderStore, Protocol):
    """What an import batch touches: the orders and their buyers."""


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


# Orders per unit of work: a few statements per batch instead of several per order; a killed
# run loses at most one batch, and a rerun imports it again.
BATCH = 200


def import_orders(
    uow: UnitOfWork,
    orders: Iterable[ImportedOrder | OrderProblem],
    at: datetime,
    on_each: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import every order, a batch per unit of work; ``on_each`` is told how many have been
    handled so far."""
    counts: Counter[ImportOutcome] = Counter()
    failures: list[OrderProblem] = []
    handled = 0
    for chunk in _batches(orders, BATCH):
        failures.extend(item for item in chunk if isinstance(item, OrderProblem))
        good = [item for item in chunk if isinstance(item, ImportedOrder)]
        with uow() as cases:
            good, conflicts = _without_id_conflicts(cases, good)
            failures.extend(conflicts)
            counts.update(_import_batch(cases, good, at))
        handled += len(chunk)
        if on_each is not None:
            on_each(handled)
    return ImportSummary(
        new=counts[ImportOutcome.NEW],
        updated=counts[ImportOutcome.UPDATED],
        unchanged=counts[ImportOutcome.UNCHANGED],
        failures=tuple(sorted(failures, key=lambda problem: problem.line)),
    )


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    # itertools.batched arrives in Python 3.12; the project supports 3.11
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _import_batch(
    cases: _CustomersAndOrders, batch: list[ImportedOrder], at: datetime
) -> list[ImportOutcome]:
    """Compare each order with the stored one and write only those that differ."""
    latest = {item.order.number: item for item in batch}  # an order named twice: the last wins
    versions = cases.policy_versions()
    stored = cases.orders(list(latest))
    outcomes, changed = [], []
    for number, item in latest.items():
        order = linked_to_policy(_over_stored(item.order, stored.get(number)), versions)
        if stored.get(number) == order:
            outcomes.append(ImportOutcome.UNCHANGED)
        else:
            outcomes.append(ImportOutcome.NEW if number not in stored else ImportOutcome.UPDATED)
            changed.append((item, order))
    buyers = cases.customer_ids({i.email: i.name for i, _ in changed if i.email}, at)
    cases.save_orders([(order, buyers.get(i.email.lower())) for i, order in changed], at)
    return outcomes


def _without_id_conflicts(
    cases: OrderStore, batch: list[ImportedOrder]
) -> tuple[list[ImportedOrder], list[OrderProblem]]:
    """The orders whose Shopify id is no other order's (stored, or earlier in this batch), and
    a problem for each that names another order's id: one id is one order in Shopify, so such
    a row is a broken export, and storing it would overwrite the other order or fail."""
    stored = cases.order_numbers_by_shopify_id({i.order.shopify_id for i in batch if i.order.shopify_id})
    owners = dict(stored)
    kept: list[ImportedOrder] = []
    problems: list[OrderProblem] = []
    for item in batch:
        shopify_id, number = item.order.shopify_id, item.order.number
        owner = owners.setdefault(shopify_id, number) if shopify_id else number
        if owner == number:
            kept.append(item)
        else:
            problems.append(
                OrderProblem(item.line, f"order {number}: Id {shopify_id} is already order {owner}'s")
            )
    return kept, problems


def _over_stored(exported: OrderFacts, stored: OrderFacts | None) -> OrderFacts:
    """The exported order over the stored one. An export has no updated_at, so it is written
    as it always was, and the version kept is the newer of the stored one and the latest time
    the export names; refunds Shopify reported one by one stay (the export's refunded total
    stands for them)."""
    return with_stored_refunds(replace(exported, shopify_updated_at=order_version(exported)), stored)

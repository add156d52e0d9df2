"""Policy text versions: orders link to the version in force when they were placed, the same
texts add no version, and a version added late relinks the orders placed after it. Runs on
SQLite, and on PostgreSQL when configured."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Engine

from aftersales.adapters.db.policy_texts import policy_texts_unit_of_work
from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.domain.errors import InputError
from aftersales.domain.orders import ImportedOrder, OrderFacts
from aftersales.domain.policy_texts import PolicyKind
from aftersales.services.orders_import import import_orders
from aftersales.services.policy_versions import (
    AddedTexts,
    PolicyTextUnitOfWork,
    add_policy_texts,
    policy_version,
    policy_versions,
)
from support.messages import at, dump

RETURNS = "Returns within 30 days of delivery; the buyer pays return shipping; unused items only."


@pytest.fixture
def texts(uow: SqlUnitOfWork, engine: Engine) -> PolicyTextUnitOfWork:
    """The policy texts of an emptied database (``uow`` empties it)."""
    return policy_texts_unit_of_work(engine)


def _add(texts: PolicyTextUnitOfWork, effective: datetime, **changes: str) -> AddedTexts:
    kinds = {PolicyKind(kind.rstrip("_")): text for kind, text in changes.items()}
    return add_policy_texts(texts, kinds, effective_at=effective, now=at(28, 9), by="test")


def _order(uow: SqlUnitOfWork, number: str, placed: datetime, version: str = "") -> None:
    order = OrderFacts(number=number, placed_at=placed, policy_version=version)
    import_orders(uow, [ImportedOrder(order, "ana@example.com", "Ana")], at(28, 9))


def _links(uow: SqlUnitOfWork, *numbers: str) -> list[str]:
    with uow() as cases:
        orders = [cases.order(number) for number in numbers]
    assert None not in orders, "every order was imported"
    return [order.policy_version for order in orders if order is not None]


def test_an_order_links_to_the_version_in_force_when_it_was_placed(
    uow: SqlUnitOfWork, texts: PolicyTextUnitOfWork
) -> None:
    added = _add(texts, at(10, 9), refund="Refunds within 5 days.", return_=RETURNS)
    assert (added.version.label, added.added, added.warnings) == ("v1", True, ())

    _order(uow, "1001", at(9, 9))  # before v1
    _order(uow, "1002", at(10, 9))  # the moment v1 takes effect
    _order(uow, "1003", at(20, 9))

    assert _links(uow, "1001", "1002", "1003") == ["", "v1", "v1"]


def test_the_same_texts_again_add_no_version(uow: SqlUnitOfWork, texts: PolicyTextUnitOfWork) -> None:
    _add(texts, at(10, 9), refund="Refunds within 5 days.", return_=RETURNS)
    before = dump(uow)

    again = _add(texts, at(12, 9), return_=f"\r\n{RETURNS}\r\n")

    assert (again.version.label, again.added, again.relinked) == ("v1", False, 0)
    assert dump(uow) == before


def test_a_later_version_with_a_past_effective_time_relinks_the_orders_after_it(
    uow: SqlUnitOfWork, texts: PolicyTextUnitOfWork
) -> None:
    _add(texts, at(1, 9), refund="Refunds within 5 days.", return_=RETURNS, shipping="Ships in 2 days.")
    for number, day in (("1001", 5), ("1002", 15), ("1003", 25)):
        _order(uow, number, at(day, 9))
    _order(uow, "1004", at(20, 9), version="2026-10-01")  # named by its source: kept
    # a version dated later than v2 but added first: v2 covers only until it
    _add(texts, at(22, 9), shipping="Ships in 3 days.")

    late = _add(texts, at(10, 9), return_="Returns within 14 days; buyer pays; receipt needed.")

    assert (late.version.label, late.added, late.relinked) == ("v3", True, 1)
    assert _links(uow, "1001", "1002", "1003", "1004") == ["v1", "v3", "v2", "2026-10-01"]
    # v3 carried v1's refund and shipping texts over: the texts in force on the 10th
    assert late.version.texts.texts[PolicyKind.SHIPPING] == "Ships in 2 days."
    assert [v.label for v in policy_versions(texts)] == ["v1", "v2", "v3"]


def test_a_return_policy_missing_its_terms_is_stored_with_warnings(texts: PolicyTextUnitOfWork) -> None:
    added = _add(texts, at(10, 9), return_="We love returns.")

    assert added.added is True
    assert len(added.warnings) == 3


@pytest.mark.parametrize(
    ("reference", "found"), [("v1", 1), ("1", 1), ("V1", 1), ("v9", None), ("latest", None)]
)
def test_a_version_is_found_by_number_or_label(
    texts: PolicyTextUnitOfWork, reference: str, found: int | None
) -> None:
    _add(texts, at(10, 9), refund="Refunds within 5 days.")

    if found is None:
        with pytest.raises(InputError, match="the versions are: v1"):
            policy_version(texts, reference)
    else:
        assert policy_version(texts, reference).version == found


def test_no_texts_is_refused(texts: PolicyTextUnitOfWork) -> None:
    with pytest.raises(InputError, match="no policy text given"):
        add_policy_texts(texts, {}, effective_at=at(10, 9), now=at(10, 9))

    assert policy_versions(texts) == []

"""Importing a Shopify orders export into the desk: new orders are added with their customer,
the same file again changes nothing, and a changed order is updated. Runs on SQLite, and on
PostgreSQL when configured."""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from pathlib import Path

from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.adapters.shopify.orders_csv import read_orders
from aftersales.domain.orders import Address, ImportedOrder, OrderFacts, OrderProblem
from aftersales.services.orders_import import ImportSummary, import_orders
from support.messages import at, dump

HEADER = (
    "Name,Email,Currency,Total,Created at,Fulfilled at,Lineitem quantity,Lineitem name,"
    "Lineitem price,Lineitem sku,Billing Name,Shipping Country,Refunded Amount,"
    "Shipping Name,Shipping Address1,Shipping City,Shipping Zip,Billing Address1,Billing Zip"
)
ROWS = (
    "#1043,ana@example.com,USD,64.00,2026-11-20 10:00:00 -0500,2026-11-21 09:00:00 -0500,"
    "2,Steel Tumbler,22.00,TUM-20,Ana Lima,US,12.50,Ana Lima,12 Elm St,Memphis,'38103,12 Elm St,38103",
    "#1043,,,,,,1,Lid,20.00,LID-1,,,,,,,,,",
    "#1044,bo@example.com,EUR,30.00,2026-11-22 08:00:00 +0100,,1,Mug,30.00,MUG-1,Bo Berg,SE,,,,,,,",
    "#1045,,USD,9.00,yesterday,,1,Straw,9.00,STR-1,,US,,,,,,,",
)


def _export(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "orders_export.csv"
    path.write_text("\n".join((HEADER, *rows)) + "\n", encoding="utf-8")
    return path


def _import(uow: SqlUnitOfWork, path: Path) -> ImportSummary:
    return import_orders(uow, read_orders(path), at(25, 9))


def test_importing_the_same_file_twice_changes_nothing(uow: SqlUnitOfWork, tmp_path: Path) -> None:
    path = _export(tmp_path, *ROWS)
    first = _import(uow, path)
    assert (first.new, first.updated, first.unchanged) == (2, 0, 0)
    assert first.failures == (
        OrderProblem(5, "Created at 'yesterday' is not a time like 2026-11-24 10:00:00 -0500"),
    )
    before = dump(uow)
    assert [row["number"] for row in before["orders"]] == ["1043", "1044"]
    assert [row["email"] for row in before["customers"]] == ["ana@example.com", "bo@example.com"]
    assert [row["sku"] for row in before["order_lines"]] == ["TUM-20", "LID-1", "MUG-1"]
    assert [row["amount"] for row in before["refunds"]] == [Decimal("12.50")]
    assert [row["shipping_address"] for row in before["orders"]] == [
        asdict(Address(name="Ana Lima", address1="12 Elm St", city="Memphis", zip="38103", country="US")),
        asdict(Address(country="SE")),
    ]
    assert [row["billing_address"] for row in before["orders"]] == [
        asdict(Address(name="Ana Lima", address1="12 Elm St", zip="38103")),
        asdict(Address(name="Bo Berg")),
    ]

    second = import_orders(uow, read_orders(path), at(26, 9))
    assert (second.new, second.updated, second.unchanged, second.failed) == (0, 0, 2, 1)
    assert dump(uow) == before


def test_a_changed_order_is_updated(uow: SqlUnitOfWork, tmp_path: Path) -> None:
    _import(uow, _export(tmp_path, *ROWS))
    changed = ROWS[2].replace(
        "2026-11-22 08:00:00 +0100,,", "2026-11-22 08:00:00 +0100,2026-11-23 12:00:00 +0100,"
    )
    summary = _import(uow, _export(tmp_path, ROWS[0], ROWS[1], changed))
    assert (summary.new, summary.updated, summary.unchanged, summary.failed) == (0, 1, 1, 0)
    with uow() as cases:
        order = cases.order("1044")
    assert order is not None
    assert order.fulfilled_at is not None
    assert order.fulfilled_at.isoformat() == "2026-11-23T11:00:00+00:00"


def test_an_export_larger_than_a_batch_imports_every_order_once(uow: SqlUnitOfWork, tmp_path: Path) -> None:
    """450 orders over three batches, from three buyers (one written in capitals once)."""
    buyers = ("ana@example.com", "bo@example.com", "Cy@Example.com", "cy@example.com")
    rows = [
        f"#{5000 + n},{buyers[n % 4]},USD,9.00,2026-11-20 10:00:00 -0500,,1,Straw,9.00,STR-1,Buyer {n},US,"
        for n in range(450)
    ]
    first = _import(uow, _export(tmp_path, *rows))
    state = dump(uow)
    again = _import(uow, _export(tmp_path, *rows))

    assert (first.new, again.unchanged, again.new + again.updated) == (450, 450, 0)
    assert len(state["orders"]) == len(state["order_lines"]) == 450
    assert sorted(row["email"] for row in state["customers"]) == [
        "ana@example.com",
        "bo@example.com",
        "cy@example.com",
    ]
    assert dump(uow) == state


def test_an_order_that_names_another_orders_shopify_id_is_reported_not_stored(uow: SqlUnitOfWork) -> None:
    """One Shopify id is one order: a row that gives a stored order's id to another number
    (a broken export) fails on its line, and the rest of the file is imported."""
    first = ImportedOrder(OrderFacts(number="2001", shopify_id="555001"), line=2)
    import_orders(uow, [first], at(24, 11))
    clash = ImportedOrder(OrderFacts(number="2003", shopify_id="555001"), line=2)
    fresh = ImportedOrder(OrderFacts(number="2004", shopify_id="555004"), line=3)
    twin = ImportedOrder(OrderFacts(number="2005", shopify_id="555004"), line=4)
    summary = import_orders(uow, [clash, fresh, twin], at(24, 11))
    assert (summary.new, summary.failed) == (1, 2)
    assert [p.reason for p in summary.failures] == [
        "order 2003: Id 555001 is already order 2001's",
        "order 2005: Id 555004 is already order 2004's",
    ]
    with uow() as cases:
        assert cases.order_number_for("555001") == "2001"
        assert cases.order("2003") is None

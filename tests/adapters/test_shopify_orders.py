"""Reading the Shopify Admin "Export orders" CSV: columns by name, rows grouped by Name, bad
rows reported with their line number while the good orders are kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from aftersales.adapters.shopify.orders_csv import read_orders
from aftersales.domain.errors import InputError
from aftersales.domain.orders import Address, ImportedOrder, LineItem, OrderProblem, Refund

# the newest export's header, all 79 columns
NEWEST_HEADER = (
    "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,"
    "Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,"
    "Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,"
    "Lineitem sku,Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,"
    "Billing Name,Billing Street,Billing Address1,Billing Address2,Billing Company,"
    "Billing City,Billing Zip,Billing Province,Billing Country,Billing Phone,Shipping Name,"
    "Shipping Street,Shipping Address1,Shipping Address2,Shipping Company,Shipping City,"
    "Shipping Zip,Shipping Province,Shipping Country,Shipping Phone,Notes,Note Attributes,"
    "Cancelled at,Payment Method,Payment Reference,Refunded Amount,Vendor,"
    "Outstanding Balance,Employee,Location,Device ID,Id,Tags,Risk Level,Source,"
    "Lineitem discount,Tax 1 Name,Tax 1 Value,Tax 2 Name,Tax 2 Value,Tax 3 Name,"
    "Tax 3 Value,Tax 4 Name,Tax 4 Value,Tax 5 Name,Tax 5 Value,Phone,Receipt Number,"
    "Duties,Billing Province Name,Shipping Province Name,Payment ID,Payment Terms Name,"
    "Next Payment Due At,Payment References"
)
NEWEST = NEWEST_HEADER.split(",")
EST = timezone(timedelta(hours=-5))


def _row(header: list[str], **values: str) -> str:
    """A row under ``header``: the given columns (spaces as underscores), the rest empty."""
    given = {name.replace("_", " "): value for name, value in values.items()}
    return ",".join(f'"{given.get(column, "")}"' for column in header)


def _newest_row(**values: str) -> str:
    return _row(NEWEST, **values)


def _write(tmp_path: Path, header: str, *rows: str) -> Path:
    path = tmp_path / "orders_export.csv"
    path.write_text("\ufeff" + "\n".join((header, *rows)) + "\n", encoding="utf-8")
    return path


def _read(path: Path) -> tuple[dict[str, ImportedOrder], list[OrderProblem]]:
    orders: dict[str, ImportedOrder] = {}
    problems: list[OrderProblem] = []
    for item in read_orders(path):
        if isinstance(item, OrderProblem):
            problems.append(item)
        else:
            orders[item.order.number] = item
    return orders, problems


def test_an_order_of_several_line_items_is_one_order(tmp_path: Path) -> None:
    assert len(NEWEST) == 79
    path = _write(
        tmp_path,
        NEWEST_HEADER,
        _newest_row(
            Name="#1043",
            Email="ana@example.com",
            Financial_Status="partially_refunded",
            Fulfilled_at="2026-11-21 09:00:00 -0500",
            Currency="USD",
            Total="69.00",
            Created_at="2026-11-20 10:00:00 -0500",
            Lineitem_quantity="2",
            Lineitem_name="Steel Tumbler 20oz - Black",
            Lineitem_price="22.00",
            Lineitem_sku="TUM-20-BLK",
            Billing_Name="Ana Lima",
            Shipping_Name="Ana Lima",
            Shipping_Country="US",
            Refunded_Amount="12.50",
        ),
        _newest_row(
            Name="#1043",
            Lineitem_quantity="1",
            Lineitem_name="Lid - Clear",
            Lineitem_price="20.00",
            Lineitem_sku="LID-CLR",
        ),
        _newest_row(
            Name="#1044",
            Email="bo@example.com",
            Currency="EUR",
            Total="30.00",
            Created_at="2026-11-22 08:00:00 +0100",
            Lineitem_quantity="1",
            Lineitem_name="Mug",
            Lineitem_price="30.00",
            Lineitem_sku="MUG-1",
            Shipping_Name="Bo Berg",
            Shipping_Country="SE",
            Refunded_Amount="0.00",
        ),
    )
    orders, problems = _read(path)
    assert problems == []
    first = orders["1043"]
    assert (first.email, first.name, first.line) == ("ana@example.com", "Ana Lima", 2)
    placed = datetime(2026, 11, 20, 10, 0, tzinfo=EST)
    assert first.order.placed_at == placed
    assert first.order.fulfilled_at == datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
    assert first.order.items == (
        LineItem("TUM-20-BLK", "Steel Tumbler 20oz - Black", quantity=2, price=Decimal("22.00")),
        LineItem("LID-CLR", "Lid - Clear", quantity=1, price=Decimal("20.00")),
    )
    assert (first.order.currency, first.order.total, first.order.destination) == (
        "USD",
        Decimal("69.00"),
        "US",
    )
    assert first.order.refunds == (Refund(Decimal("12.50"), placed, "refunded amount in the Shopify export"),)
    assert orders["1044"].order.refunds == ()
    assert orders["1044"].order.fulfilled_at is None
    assert orders["1044"].name == "Bo Berg"  # no billing name: the shipping name


ANA_SHIPPING = {
    "Shipping_Name": "Ana Lima",
    "Shipping_Street": "12 Elm St, Apt 4",
    "Shipping_Address1": "12 Elm St",
    "Shipping_Address2": "Apt 4",
    "Shipping_Company": "",
    "Shipping_City": "Memphis",
    "Shipping_Zip": "'38103",  # the export keeps a zip's leading zeros with a quote
    "Shipping_Province": "TN",
    "Shipping_Country": "us",
    "Shipping_Phone": "+1 901 555 0100",
}


@pytest.mark.parametrize(
    ("columns", "shipping", "billing"),
    [
        (
            ANA_SHIPPING,
            Address(
                name="Ana Lima",
                address1="12 Elm St",
                address2="Apt 4",
                city="Memphis",
                province="TN",
                zip="38103",
                country="US",
                phone="+1 901 555 0100",
            ),
            None,
        ),
        (
            {"Billing_Name": "Ana Lima", "Billing_Street": "1 Main St", "Billing_Company": "Lima Ltd"},
            None,
            Address(name="Ana Lima", company="Lima Ltd", address1="1 Main St"),  # Street: the older column
        ),
        ({"Shipping_Name": " ", "Shipping_Zip": "'", "Billing_Phone": ""}, None, None),  # all empty
    ],
)
def test_the_shipping_and_billing_columns_are_the_orders_addresses(
    tmp_path: Path, columns: dict[str, str], shipping: Address | None, billing: Address | None
) -> None:
    path = _write(
        tmp_path,
        NEWEST_HEADER,
        _newest_row(Name="#1043", Lineitem_sku="TUM-20-BLK", **columns),
        # a later row's address columns are not the order's (only the first row carries them)
        _newest_row(Name="#1043", Lineitem_sku="LID-CLR", Shipping_City="Elsewhere", Billing_City="Nowhere"),
    )
    order = _read(path)[0]["1043"].order
    assert (order.shipping_address, order.billing_address) == (shipping, billing)


def test_an_older_header_with_extra_reordered_columns_and_fulfillment_date(tmp_path: Path) -> None:
    header = "Exported By,Lineitem sku,Name,Created at,Fulfillment Date,Lineitem name,Total,Currency"
    path = _write(
        tmp_path,
        header,
        "tool,TUM-1,#2001,2026-11-20 10:00:00 +0000,2026-11-21 10:00:00 +0000,Tumbler,19.99,usd",
        "tool,TUM-2,#2002,2026-11-20 11:00:00 +0000,,Tumbler XL,24.99,USD",
        "tool,LID-1,#2001,,,Lid,,",  # a line item of #2001 that is not next to it
    )
    orders, problems = _read(path)
    assert problems == []
    assert list(orders) == ["2001", "2002"]
    order = orders["2001"].order
    assert order.fulfilled_at == datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    assert [item.sku for item in order.items] == ["TUM-1", "LID-1"]
    assert [item.quantity for item in order.items] == [1, 1]
    assert (order.currency, order.total, order.destination, order.refunds) == (
        "USD",
        Decimal("19.99"),
        "",
        (),
    )
    assert orders["2001"].email == ""


def test_an_older_export_that_stops_at_tax_5_and_says_fulfillment_date(tmp_path: Path) -> None:
    older = ["Exported By", *NEWEST[: NEWEST.index("Tax 5 Value") + 1]]
    older[older.index("Fulfilled at")] = "Fulfillment Date"
    path = _write(
        tmp_path,
        ",".join(older),
        _row(
            older,
            Exported_By="sheet-tool",
            Name="#900",
            Email="cy@example.com",
            Created_at="2025-01-02 03:04:05 +0000",
            Fulfillment_Date="2025-01-03 03:04:05 +0000",
            Lineitem_sku="OLD-1",
            Lineitem_name="Old tumbler",
            Lineitem_price="9.50",
            Lineitem_quantity="3",
            Billing_Name="Cy Old",
        ),
    )
    orders, problems = _read(path)
    assert problems == []
    order = orders["900"].order
    assert order.fulfilled_at == datetime(2025, 1, 3, 3, 4, 5, tzinfo=UTC)
    assert order.items == (LineItem("OLD-1", "Old tumbler", quantity=3, price=Decimal("9.50")),)
    assert orders["900"].name == "Cy Old"


def test_bad_rows_are_reported_with_their_line_and_the_good_orders_kept(tmp_path: Path) -> None:
    header = "Name,Email,Created at,Total,Lineitem sku,Lineitem name,Lineitem quantity"
    path = _write(
        tmp_path,
        header,
        "#3001,a@example.com,2026-11-20 10:00:00 -0500,10.00,A,Alpha,1",
        "#3002,b@example.com,20/11/2026 10:00,10.00,B,Beta,1",
        "#3003,c@example.com,2026-11-20 10:00:00 -0500,ten,C,Gamma,1",
        ",d@example.com,2026-11-20 10:00:00 -0500,10.00,D,Delta,1",
        "#3004,e@example.com,2026-11-20 10:00:00 -0500,10.00,E,Epsilon,1",
        "#3004,,,,F,Phi,many",
    )
    orders, problems = _read(path)
    assert list(orders) == ["3001"]
    assert [problem.line for problem in problems] == [5, 3, 4, 7]
    assert "Created at '20/11/2026 10:00' is not a time" in problems[1].reason
    assert "Total 'ten' is not an amount" in problems[2].reason
    assert "no order Name" in problems[0].reason
    assert "Lineitem quantity 'many'" in problems[3].reason


def test_a_file_without_a_name_column_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "Order,Email,Total", "#1,a@example.com,1.00")
    with pytest.raises(InputError, match=r"no Name column \(found: Order, Email, Total\)"):
        read_orders(path)


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(b"Name,Email\n#1,\xff\xfe@example.com\n")
    with pytest.raises(InputError, match="not UTF-8"):
        read_orders(path)

"""Beside a case: the link to the order in Shopify admin, file ids and download names, and the
order's JSON shape."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from aftersales.domain.attachments import download_name, file_id
from aftersales.domain.order_side import (
    SHOWN_SCANS,
    OtherCase,
    address_lines,
    cents,
    order_side,
    order_side_to_dict,
    shopify_admin_url,
)
from aftersales.domain.orders import Address, LineItem, OrderFacts, Refund, ScanStatus, TrackingEvent

AT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("shop", "number", "shopify_id", "url"),
    [
        (
            "northwind.myshopify.com",
            "1043",
            "5501234567",
            "https://northwind.myshopify.com/admin/orders/5501234567",
        ),
        ("northwind", "1043", "5501234567", "https://northwind.myshopify.com/admin/orders/5501234567"),
        (
            "https://Northwind.myshopify.com/",
            "1043",
            "5501234567",
            "https://northwind.myshopify.com/admin/orders/5501234567",
        ),
        (
            "northwind.myshopify.com",
            "1043",
            "gid://shopify/Order/77",
            "https://northwind.myshopify.com/admin/orders/77",
        ),
        ("northwind.myshopify.com", "1043", None, "https://northwind.myshopify.com/admin/orders?query=1043"),
        (
            "northwind.myshopify.com",
            "NW-1043/2",
            None,
            "https://northwind.myshopify.com/admin/orders?query=NW-1043%2F2",
        ),
        (None, "1043", "5501234567", ""),
        ("", "1043", "5501234567", ""),
        ("evil.example/x?y=", "1043", "5", ""),
        ("north wind", "1043", "5", ""),
    ],
    ids=[
        "shop domain and id",
        "a bare handle",
        "a URL is tidied",
        "a GraphQL gid",
        "no id: a search by number",
        "a number with a slash is encoded",
        "no shop",
        "empty shop",
        "not a host name",
        "a space",
    ],
)
def test_the_admin_link_needs_a_known_shop(
    shop: str | None, number: str, shopify_id: str | None, url: str
) -> None:
    assert shopify_admin_url(shop, number, shopify_id) == url


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("12", 12),
        ("2147483647", 2_147_483_647),
        ("2147483648", None),
        ("0", None),
        ("012", None),
        ("-1", None),
        ("+1", None),
        ("1.0", None),
        ("..", None),
        ("../1", None),
        ("1/..", None),
        ("%2e%2e", None),
        ("١٢", None),
        (" 1", None),
        ("", None),
        ("abc", None),
    ],
)
def test_only_a_plain_number_names_a_file(reference: str, expected: int | None) -> None:
    assert file_id(reference) == expected


@pytest.mark.parametrize(
    ("filename", "offered"),
    [
        ("dent.jpg", "dent.jpg"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ana\\photo 1.png", "photo 1.png"),
        ("re\u00e7u\n\r.pdf", "reçu.pdf"),
        ("...", "attachment"),
        ("", "attachment"),
        ("a" * 300, "a" * 200),
    ],
)
def test_a_download_name_is_one_clean_file_name(filename: str, offered: str) -> None:
    assert download_name(filename) == offered


def test_the_order_side_lists_newest_scans_first_and_keeps_addresses_line_by_line() -> None:
    address = Address(
        name="Ana Silva", address1="12 Elm St", city="Memphis", province="TN", zip="38103", country="US"
    )
    order = OrderFacts(
        number="1043",
        currency="USD",
        total=Decimal("48.00"),
        items=(LineItem("TMB-20-BLK", "Tumbler", quantity=2, price=Decimal("24.00")),),
        refunds=(Refund(Decimal("24.00"), AT, "dented"),),
        shipping_address=address,
        shopify_id="55",
        last_scan_status=ScanStatus.IN_TRANSIT,
        last_scan_at=AT,
    )
    scans = tuple(
        TrackingEvent(
            event_id=f"e{n}",
            status=ScanStatus.IN_TRANSIT,
            happened_at=AT.replace(hour=n),
            location=f"hub {n}",
        )
        for n in range(1, 9)
    )
    other = OtherCase(
        id=7, subject="Lid", route="damaged_item", status="resolved", order_number="1001", opened_at=AT
    )

    side = order_side("1043", order, scans, (other,), "northwind")
    shape = order_side_to_dict(side)

    assert [s.location for s in side.scans] == ["hub 8", "hub 7", "hub 6", "hub 5", "hub 4"]
    assert (len(side.scans), side.scan_count) == (SHOWN_SCANS, 8)
    assert side.shipping == ("Ana Silva", "12 Elm St", "Memphis TN 38103", "US")
    assert side.billing == ()
    assert side.admin_url == "https://northwind.myshopify.com/admin/orders/55"
    assert shape["items"] == [
        {"title": "Tumbler", "sku": "TMB-20-BLK", "variant": "", "quantity": 2, "price": "24.00"}
    ]
    assert shape["fulfilment"]["last_scan"] == {"status": "in_transit", "location": "", "at": AT.isoformat()}
    assert shape["refunds"] == [{"amount": "24.00", "at": AT.isoformat(), "reason": "dented"}]
    assert (shape["refunded"], shape["known"], shape["billing_address"]) == ("24.00", True, None)
    assert shape["shipping_address"]["formatted"] == "Ana Silva, 12 Elm St, Memphis TN 38103, US"
    assert shape["other_cases"][0]["id"] == 7


def test_an_order_the_desk_does_not_hold_is_named_only() -> None:
    shape = order_side_to_dict(order_side("2001", None, (), (), None))

    assert shape == {
        "number": "2001",
        "known": False,
        "admin_url": None,
        "scans": [],
        "scan_count": 0,
        "other_cases": [],
    }
    assert address_lines(None) == ()


@pytest.mark.parametrize(
    ("stored", "shown"),
    [("24.0000", "24.00"), ("5", "5.00"), ("0.125", "0.125"), ("12.5000", "12.50"), ("0", "0.00")],
)
def test_amounts_are_shown_in_cents_unless_they_have_more(stored: str, shown: str) -> None:
    assert str(cents(Decimal(stored))) == shown

"""The order beside the case, in-process on SQLite and PostgreSQL.

Given Ana's case about order #1043, and the order's facts stored (its lines, fulfilment and
carrier scans, addresses, a refund) and another case of hers, when an agent opens the case page
or the API's case, then the sidebar and the ``order`` object show them all, with a link to the
order in Shopify admin once the shop is known.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from html import unescape

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from aftersales.domain.accounts import Role
from aftersales.domain.orders import Address, LineItem, OrderFacts, Refund, ScanStatus, TrackingEvent
from aftersales.settings import ShopifySettings

from .test_web_desk import Headers, new_case

AT = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
LONG_SKU = "TMB-20-BLK-" + "X" * 60
SHIPPING = Address(
    name="Ana Silva",
    address1="12 Elm St",
    address2="Apt 4",
    city="Memphis",
    province="TN",
    zip="38103",
    country="US",
)
BILLING = Address(
    name="Ana Silva", address1="PO Box 9", city="Memphis", province="TN", zip="38101", country="US"
)
ORDER = OrderFacts(
    number="1043",
    placed_at=AT,
    fulfilled_at=AT,
    carrier="UPS",
    tracking_numbers=("1Z999AA10123456784",),
    last_scan_at=AT,
    last_scan_status=ScanStatus.IN_TRANSIT,
    last_scan_location="Memphis, TN",
    currency="USD",
    total=Decimal("48.00"),
    financial_status="partially_refunded",
    items=(
        LineItem("TMB-20-BLK", "Tumbler 20oz", "Black", 1, Decimal("24.00")),
        LineItem(LONG_SKU, "Lid", "", 2, Decimal("12.00")),
    ),
    refunds=(Refund(Decimal("12.00"), AT, "lid cracked", shopify_id="r1"),),
    shipping_address=SHIPPING,
    billing_address=BILLING,
    shopify_id="5501234567",
)
SCANS = (
    TrackingEvent(
        event_id="e1", status=ScanStatus.CARRIER_PICKED_UP, happened_at=AT, location="Nashville, TN"
    ),
    TrackingEvent(
        event_id="e2", status=ScanStatus.IN_TRANSIT, happened_at=AT.replace(hour=20), location="Memphis, TN"
    ),
)


def store_order(app: FastAPI) -> None:
    with app.state.web.desk.uow() as cases:
        customer = cases.customer_id("ana@example.com", "Ana", AT)
        cases.save_order(ORDER, customer, AT)
        for scan in SCANS:
            cases.add_tracking_event("1043", scan)


@pytest.fixture
def ana_cases(app: FastAPI, client: TestClient, token: Headers) -> tuple[int, int, dict[str, str]]:
    """Ana's earlier case about a lid, and her case about #1043, with the order stored."""
    bearer = token(Role.OPERATIONS)
    earlier = new_case(
        client,
        bearer,
        {"text": "The lid of order #1001 is cracked.", "from": "ana@example.com", "subject": "Lid"},
    )
    store_order(app)
    case_id = new_case(
        client, bearer, {"text": "Where is my order #1043? Tracking hasn't moved.", "from": "ana@example.com"}
    )
    return earlier, case_id, bearer


def test_the_sidebar_shows_the_stored_order(
    client: TestClient, signed_in: Callable[[Role], str], ana_cases: tuple[int, int, dict[str, str]]
) -> None:
    earlier, case_id, _ = ana_cases
    signed_in(Role.FRONTLINE)

    page = client.get(f"/cases/{case_id}").text
    side = unescape(
        page[page.index('<section id="order"') : page.index("</section>", page.index('id="order"'))]
    )

    for shown in (
        "Order #1043",
        "Tumbler 20oz · Black",
        "TMB-20-BLK</code> · 1 × 24.00 USD",
        f"{LONG_SKU}</code> · 2 × 12.00 USD",
        "UPS",
        "1Z999AA10123456784",
        "in transit at Memphis, TN",
        "carrier scans (2)",
        "carrier picked up at Nashville, TN",
        "12 Elm St<br>Apt 4<br>Memphis TN 38103<br>US",
        "PO Box 9",
        "12.00 USD",
        "lid cracked",
        f'<a href="/cases/{earlier}">case {earlier}</a>',
        "#1001",
    ):
        assert shown in side, shown
    assert "Shopify admin" not in side  # the shop is not configured


def test_the_admin_link_appears_once_the_shop_is_known(
    app: FastAPI,
    client: TestClient,
    signed_in: Callable[[Role], str],
    ana_cases: tuple[int, int, dict[str, str]],
) -> None:
    _, case_id, bearer = ana_cases
    web = app.state.web
    web.settings = dataclasses.replace(web.settings, shopify=ShopifySettings(shop="northwind.myshopify.com"))
    signed_in(Role.FRONTLINE)

    page = client.get(f"/cases/{case_id}").text
    case = client.get(f"/api/cases/{case_id}", headers=bearer).json()

    url = "https://northwind.myshopify.com/admin/orders/5501234567"
    assert f'<a href="{url}" id="shopify-admin-link" target="_blank" rel="noopener noreferrer">' in page
    assert case["order"]["admin_url"] == url


def test_the_api_case_carries_the_order_object(
    client: TestClient, ana_cases: tuple[int, int, dict[str, str]]
) -> None:
    earlier, case_id, bearer = ana_cases

    order = client.get(f"/api/cases/{case_id}", headers=bearer).json()["order"]

    assert (order["number"], order["known"], order["admin_url"]) == ("1043", True, None)
    assert [(i["sku"], i["quantity"], i["price"]) for i in order["items"]] == [
        ("TMB-20-BLK", 1, "24.00"),
        (LONG_SKU, 2, "12.00"),
    ]
    assert order["fulfilment"]["carrier"] == "UPS"
    assert order["fulfilment"]["tracking_numbers"] == ["1Z999AA10123456784"]
    assert order["fulfilment"]["last_scan"] == {
        "status": "in_transit",
        "location": "Memphis, TN",
        "at": "2026-11-20T14:00:00+00:00",
    }
    assert [s["status"] for s in order["scans"]] == ["in_transit", "carrier_picked_up"]  # newest first
    assert order["shipping_address"]["formatted"] == "Ana Silva, 12 Elm St, Apt 4, Memphis TN 38103, US"
    assert order["billing_address"]["address1"] == "PO Box 9"
    assert order["refunds"] == [
        {"amount": "12.00", "at": "2026-11-20T14:00:00+00:00", "reason": "lid cracked"}
    ]
    assert order["refunded"] == "12.00"
    assert [(c["id"], c["order_number"]) for c in order["other_cases"]] == [(earlier, "1001")]


def test_a_stored_order_makes_its_evidence_present(
    client: TestClient, ana_cases: tuple[int, int, dict[str, str]]
) -> None:
    _, case_id, bearer = ana_cases

    evidence = client.get(f"/api/cases/{case_id}", headers=bearer).json()["evidence"]

    states = {e["key"]: (e["state"], e["source"]) for e in evidence}
    assert states["order_number"] == ("present", "order #1043 linked")
    assert states["last_scan"] == ("present", "order 1043: last_scan")


def test_an_order_the_desk_does_not_hold_is_named_in_the_sidebar(
    client: TestClient, signed_in: Callable[[Role], str], token: Headers
) -> None:
    case_id = new_case(
        client, token(Role.OPERATIONS), {"text": "Order #2001 came dented.", "from": "bo@example.com"}
    )
    signed_in(Role.FRONTLINE)

    page = client.get(f"/cases/{case_id}").text

    assert "The desk holds no facts of order #2001" in page
    assert '<ul class="other-cases" id="other-cases">\n    <li class="hint">none</li>' in page

"""Shopify webhook signatures and payloads read into records (REST webhook shapes)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersales.adapters.shopify.webhooks import (
    HANDLED_TOPICS,
    WebhookPayloadError,
    read_payload,
    sign,
    signature_is_valid,
)
from aftersales.domain.orders import Address, Dispute, ScanStatus
from aftersales.domain.shop_events import FulfillmentUpdate, RefundRecord, ScanReport, ShopOrder

SECRET = "hush"


@given(st.binary(max_size=500), st.binary(min_size=1, max_size=3))
def test_a_signature_holds_for_its_body_only(body: bytes, extra: bytes) -> None:
    signature = sign(SECRET, body)
    assert signature_is_valid(SECRET, body, signature)
    assert not signature_is_valid(SECRET, body + extra, signature)
    assert not signature_is_valid("other", body, signature)


@pytest.mark.parametrize("header", [None, "", "not base64", sign(SECRET, b"x")[:-2]])
def test_missing_or_mangled_signatures_fail(header: str | None) -> None:
    assert not signature_is_valid(SECRET, b"x", header)


ORDER = {
    "id": 450789469,
    "name": "#1043",
    "email": "Dana@Example.com",
    "created_at": "2026-11-02T10:00:00-05:00",
    "cancelled_at": None,
    "financial_status": "partially_refunded",
    "currency": "usd",
    "total_price": "54.00",
    "customer": {"first_name": "Dana", "last_name": "Reyes"},
    "shipping_address": {
        "first_name": "Dana",
        "last_name": "Reyes",
        "name": "Dana Reyes",
        "company": None,
        "address1": "400 Broadway",
        "address2": "Apt 2",
        "city": "Nashville",
        "province": "Tennessee",
        "province_code": "TN",
        "zip": "37203",
        "country": "United States",
        "country_code": "us",
        "phone": "+1 615 555 0101",
    },
    "billing_address": {
        "first_name": "Dana",
        "last_name": "Reyes",
        "address1": "400 Broadway ",
        "city": "Nashville",
        "province_code": "TN",
        "zip": "37203",
        "country_code": "US",
    },
    "line_items": [
        {
            "sku": "TUMBLER-20-BLK",
            "title": "Tumbler",
            "variant_title": "Black",
            "quantity": 2,
            "price": "27.00",
        }
    ],
    "fulfillments": [
        {
            "id": 255858046,
            "order_id": 450789469,
            "created_at": "2026-11-03T09:00:00-05:00",
            "updated_at": "2026-11-04T09:00:00-05:00",
            "tracking_company": "UPS",
            "tracking_numbers": ["1Z2345"],
            "shipment_status": "in_transit",
        }
    ],
    "refunds": [
        {
            "id": 1,
            "created_at": "2026-11-05T09:00:00-05:00",
            "note": "scratched",
            "transactions": [
                {"kind": "refund", "status": "success", "amount": "5.00"},
                {"kind": "refund", "status": "failure", "amount": "5.00"},
            ],
        }
    ],
}


def test_an_order_payload() -> None:
    event = read_payload("orders/updated", ORDER)
    assert isinstance(event, ShopOrder)
    order = event.order
    assert (order.number, order.shopify_id, order.financial_status) == (
        "1043",
        "450789469",
        "partially_refunded",
    )
    assert (event.email, event.name) == ("dana@example.com", "Dana Reyes")
    assert (order.currency, order.destination, order.total, order.carrier) == (
        "USD",
        "US",
        Decimal("54.00"),
        "UPS",
    )
    assert order.tracking_numbers == ("1Z2345",)
    assert order.placed_at == datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
    assert [(i.sku, i.variant, i.quantity) for i in order.items] == [("TUMBLER-20-BLK", "Black", 2)]
    assert [r.amount for r in order.refunds] == [Decimal("5.00")]
    assert order.shipping_address == Address(
        name="Dana Reyes",
        address1="400 Broadway",
        address2="Apt 2",
        city="Nashville",
        province="TN",
        zip="37203",
        country="US",
        phone="+1 615 555 0101",
    )
    assert order.billing_address == Address(
        name="Dana Reyes", address1="400 Broadway", city="Nashville", province="TN", zip="37203", country="US"
    )


@pytest.mark.parametrize(
    ("shipping", "expected"),
    [
        (None, None),
        ({}, None),
        ({"name": "", "address1": None, "country_code": None}, None),
        (
            {"first_name": "Bo", "last_name": "Berg", "province": "Stockholm", "country": "Sweden"},
            Address(name="Bo Berg", province="Stockholm", country="Sweden"),  # names when no codes
        ),
    ],
)
def test_an_order_payloads_address_is_read_or_none(
    shipping: dict[str, Any] | None, expected: Address | None
) -> None:
    event = read_payload("orders/create", ORDER | {"shipping_address": shipping})
    assert isinstance(event, ShopOrder)
    assert event.order.shipping_address == expected


@pytest.mark.parametrize(
    ("topic", "payload", "kind"),
    [
        ("fulfillments/update", ORDER["fulfillments"][0], FulfillmentUpdate),  # type: ignore[index]
        (
            "fulfillment_events/create",
            {"id": 9, "order_id": 1, "status": "delivered", "happened_at": "2026-11-06T12:00:00Z"},
            ScanReport,
        ),
        (
            "refunds/create",
            {"order_id": 1, "created_at": "2026-11-05T09:00:00Z", "transactions": []},
            RefundRecord,
        ),
        (
            "disputes/create",
            {"id": 7, "order_id": 1, "status": "needs_response", "evidence_due_by": "2026-11-20T00:00:00Z"},
            Dispute,
        ),
    ],
)
def test_each_topic_reads_into_its_record(topic: str, payload: dict[str, Any], kind: type) -> None:
    assert isinstance(read_payload(topic, payload), kind)


def test_a_scan_keeps_its_place_and_status() -> None:
    payload = {
        "id": 9,
        "order_id": 1,
        "status": "out_for_delivery",
        "happened_at": "2026-11-06T12:00:00Z",
        "city": "Ottawa",
        "country": "Canada",
        "message": "On the van",
    }
    report = read_payload("fulfillment_events/create", payload)
    assert isinstance(report, ScanReport)
    assert (report.order_shopify_id, report.scan.status, report.scan.location) == (
        "1",
        ScanStatus.OUT_FOR_DELIVERY,
        "Ottawa, Canada",
    )


def test_a_topic_the_desk_does_not_act_on_reads_as_nothing() -> None:
    assert read_payload("products/update", {"id": 1}) is None
    assert "disputes/update" in HANDLED_TOPICS


@pytest.mark.parametrize(
    ("topic", "payload", "field"),
    [
        ("orders/create", ORDER | {"total_price": "lots"}, "total_price"),
        ("orders/create", ORDER | {"name": ""}, "name"),
        ("orders/create", ORDER | {"created_at": "2026-11-02 10:00"}, "created_at"),
        ("orders/create", ORDER | {"line_items": "none"}, "line_items"),
        ("orders/create", ORDER | {"line_items": [{"quantity": "two"}]}, "quantity"),
        ("orders/create", ORDER | {"billing_address": "x"}, "billing_address"),
        ("orders/create", ORDER | {"shipping_address": {"zip": [37203]}}, r"shipping_address\.zip"),
        (
            "fulfillment_events/create",
            {"id": 9, "order_id": 1, "status": "teleported", "happened_at": "2026-11-06T12:00:00Z"},
            "status",
        ),
        (
            "fulfillment_events/create",
            {"id": 9, "status": "delivered", "happened_at": "2026-11-06T12:00:00Z"},
            "order_id",
        ),
        ("disputes/create", {"order_id": 1}, "id"),
        ("disputes/create", [1, 2], "JSON object"),
    ],
)
def test_a_payload_it_cannot_use_names_the_field(topic: str, payload: Any, field: str) -> None:
    with pytest.raises(WebhookPayloadError, match=field):
        read_payload(topic, payload)

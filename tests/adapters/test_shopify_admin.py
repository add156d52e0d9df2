"""The Shopify Admin GraphQL client, run against a local fake server (tests/support/shopify_fake.py)
that speaks the documented protocol: the access-token header, operation names, ``nodes`` +
``pageInfo`` pages, ``extensions.cost`` and THROTTLED errors. Waits go to an injected sleep,
so nothing here really sleeps."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersales.adapters.shopify.admin import ShopifyAdmin, ShopifyApiError, ShopifyThrottled
from aftersales.adapters.shopify.graphql import read_order_snapshot
from aftersales.domain.errors import ConfigError, InputError
from aftersales.domain.orders import Address, Dispute, LineItem, Refund, ScanStatus, TrackingEvent
from aftersales.settings import ShopifySettings
from support.shopify_fake import (
    TOKEN,
    FakeShopify,
    dispute_summary,
    fulfillment,
    fulfillment_event,
    line_item,
    mailing_address,
    order,
    payments_dispute,
    refund,
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def northwind_1043() -> dict[str, object]:
    """Order #1043: two parcels (UPS delivered, USPS out for delivery), a refund, a chargeback."""
    ups = fulfillment(
        7001,
        "2026-11-03T10:00:00Z",
        company="UPS",
        number="1Z999AA10123456784",
        display_status="DELIVERED",
        events=[
            fulfillment_event(9101, "LABEL_PURCHASED", "2026-11-03T10:05:00Z"),
            fulfillment_event(
                9102, "IN_TRANSIT", "2026-11-04T08:00:00Z", city="Louisville", province="KY", country="US"
            ),
            fulfillment_event(
                9103, "DELIVERED", "2026-11-06T14:30:00Z", message="Left at front door", city="Chicago"
            ),
        ],
    )
    usps = fulfillment(
        7002,
        "2026-11-05T09:00:00Z",
        company="USPS",
        number="9400111899223197428490",
        events=[
            fulfillment_event(9201, "IN_TRANSIT", "2026-11-05T18:00:00Z"),
            fulfillment_event(
                9202, "OUT_FOR_DELIVERY", "2026-11-07T07:45:00-05:00", city="Springfield", province="IL"
            ),
        ],
    )
    return order(
        5501234567,
        "#1043",
        created_at="2026-11-02T15:04:05Z",
        total="129.90",
        email="ada@example.com",
        buyer="Ada Lovelace",
        line_items=[
            line_item("MUG-BLK", "Enamel mug", variant_title="Black", quantity=2, price="24.95"),
            line_item(None, "Gift wrap", price="5.00"),
        ],
        fulfillments=[ups, usps],
        refunds=[refund("2026-11-10T11:00:00Z", "25.00", "chipped mug")],
        disputes=[dispute_summary(88001)],
        financial_status="PARTIALLY_REFUNDED",
        shipping_address=mailing_address(
            "Ada Lovelace",
            address1="233 S Wacker Dr",
            address2="Suite 400",
            city="Chicago",
            province="Illinois",
            province_code="IL",
            zip_code="60606",
            phone="+1 312 555 0100",
        ),
        billing_address=mailing_address(
            "Ada Lovelace",
            company="Analytical Engines",
            address1="12 St James's Square",
            city="London",
            province=None,
            zip_code="SW1Y 4JH",
            country_code="GB",
        ),
    )


CHARGEBACK = payments_dispute(
    88001,
    amount="129.90",
    reason="PRODUCT_NOT_RECEIVED",
    network_reason_code="13.1",
    evidence_due_by="2026-12-01",
    initiated_at="2026-11-20T12:00:00Z",
)


@pytest.fixture
def shop() -> Iterator[FakeShopify]:
    with FakeShopify() as fake:
        fake.orders.append(northwind_1043())
        fake.disputes[CHARGEBACK["id"]] = CHARGEBACK
        yield fake


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def admin(shop: FakeShopify, sleeps: list[float]) -> Iterator[ShopifyAdmin]:
    with ShopifyAdmin(shop.graphql_url, TOKEN, sleep=sleeps.append, clock=lambda: 0.0) as client:
        yield client


def test_an_order_is_read_with_its_parcels_scans_refunds_and_dispute(admin: ShopifyAdmin) -> None:
    snapshot = admin.order_snapshot("#1043")

    assert snapshot is not None
    facts = snapshot.order
    assert (facts.number, facts.shopify_id, facts.financial_status) == (
        "1043",
        "5501234567",
        "partially_refunded",
    )
    assert (facts.placed_at, facts.fulfilled_at) == (at("2026-11-02T15:04:05"), at("2026-11-03T10:00:00"))
    assert (facts.currency, facts.total, facts.destination) == ("USD", Decimal("129.90"), "US")
    assert facts.items == (
        LineItem(sku="MUG-BLK", title="Enamel mug", variant="Black", quantity=2, price=Decimal("24.95")),
        LineItem(sku="", title="Gift wrap", price=Decimal("5.00")),
    )
    assert facts.refunds == (Refund(Decimal("25.00"), at("2026-11-10T11:00:00"), "chipped mug"),)
    assert facts.carrier == "UPS"
    assert facts.tracking_numbers == ("1Z999AA10123456784", "9400111899223197428490")
    assert facts.delivered_at == at("2026-11-06T14:30:00")
    assert (facts.last_scan_status, facts.last_scan_location) == (
        ScanStatus.OUT_FOR_DELIVERY,
        "Springfield, IL",
    )
    assert facts.last_scan_at == at("2026-11-07T12:45:00")
    assert (snapshot.email, snapshot.name) == ("ada@example.com", "Ada Lovelace")
    assert facts.shipping_address == Address(
        name="Ada Lovelace",
        address1="233 S Wacker Dr",
        address2="Suite 400",
        city="Chicago",
        province="IL",  # the code, as the orders export and webhooks give it
        zip="60606",
        country="US",
        phone="+1 312 555 0100",
    )
    assert facts.billing_address == Address(
        name="Ada Lovelace",
        company="Analytical Engines",
        address1="12 St James's Square",
        city="London",
        zip="SW1Y 4JH",
        country="GB",
    )
    assert snapshot.tracking_events == (
        TrackingEvent(
            event_id="9101",
            status=ScanStatus.LABEL_PURCHASED,
            happened_at=at("2026-11-03T10:05:00"),
            carrier="UPS",
            tracking_number="1Z999AA10123456784",
        ),
        TrackingEvent(
            event_id="9102",
            status=ScanStatus.IN_TRANSIT,
            happened_at=at("2026-11-04T08:00:00"),
            location="Louisville, KY, US",
            carrier="UPS",
            tracking_number="1Z999AA10123456784",
        ),
        TrackingEvent(
            event_id="9201",
            status=ScanStatus.IN_TRANSIT,
            happened_at=at("2026-11-05T18:00:00"),
            carrier="USPS",
            tracking_number="9400111899223197428490",
        ),
        TrackingEvent(
            event_id="9103",
            status=ScanStatus.DELIVERED,
            happened_at=at("2026-11-06T14:30:00"),
            message="Left at front door",
            location="Chicago",
            carrier="UPS",
            tracking_number="1Z999AA10123456784",
        ),
        TrackingEvent(
            event_id="9202",
            status=ScanStatus.OUT_FOR_DELIVERY,
            happened_at=at("2026-11-07T12:45:00"),
            location="Springfield, IL",
            carrier="USPS",
            tracking_number="9400111899223197428490",
        ),
    )
    assert snapshot.disputes == (
        Dispute(
            dispute_id="88001",
            order_shopify_id="5501234567",
            order_number="1043",
            kind="chargeback",
            reason="product_not_received",
            network_reason_code="13.1",
            status="needs_response",
            amount=Decimal("129.90"),
            currency="USD",
            evidence_due_by=at("2026-12-01T00:00:00"),  # a Date: the start of that day, in UTC
            initiated_at=at("2026-11-20T12:00:00"),
        ),
    )


@pytest.mark.parametrize("ref", ["#1043", "1043", "  #1043 ", "gid://shopify/Order/5501234567"])
def test_an_order_is_found_by_name_number_or_gid(admin: ShopifyAdmin, ref: str) -> None:
    snapshot = admin.order_snapshot(ref)
    assert snapshot is not None
    assert snapshot.order.number == "1043"


def test_only_the_exact_name_counts(admin: ShopifyAdmin, shop: FakeShopify) -> None:
    shop.orders.insert(0, order(5509999999, "#10430"))  # the search also finds it: it starts alike
    snapshot = admin.order_snapshot("#1043")
    assert snapshot is not None
    assert snapshot.order.shopify_id == "5501234567"


@pytest.mark.parametrize("ref", ["#104", "999", "gid://shopify/Order/1"])
def test_an_order_the_shop_does_not_have_is_none(admin: ShopifyAdmin, ref: str) -> None:
    assert admin.order_snapshot(ref) is None


def test_the_request_carries_the_token_and_names_its_operation(
    admin: ShopifyAdmin, shop: FakeShopify
) -> None:
    admin.order_snapshot("#1043")
    assert shop.operations() == ["Orders", "DisputeById"]
    assert shop.requests[0].variables["query"] == "name:#1043"
    assert shop.requests[1].variables == {"id": "gid://shopify/ShopifyPaymentsDispute/88001"}


def test_line_items_and_scans_past_the_first_page_are_fetched(admin: ShopifyAdmin, shop: FakeShopify) -> None:
    scans = [
        fulfillment_event(100 + n, "IN_TRANSIT", f"2026-11-{1 + n // 24:02d}T{n % 24:02d}:00:00Z")
        for n in range(45)
    ]
    parcel = fulfillment(7100, "2026-11-01T00:00:00Z", company="DHL", number="JD0123", events=scans)
    items = [line_item(f"SKU-{n}", f"Item {n}") for n in range(41)]
    shop.orders.append(order(6600, "#2000", line_items=items, fulfillments=[parcel]))

    snapshot = admin.order_snapshot("#2000")

    assert snapshot is not None
    assert [item.sku for item in snapshot.order.items] == [f"SKU-{n}" for n in range(41)]
    assert [event.event_id for event in snapshot.tracking_events] == [str(100 + n) for n in range(45)]
    assert shop.operations() == [
        "Orders",
        "OrderLineItems",
        "OrderLineItems",
        "FulfillmentEvents",
        "FulfillmentEvents",
    ]
    assert shop.requests[2].variables["first"] == 20


def test_orders_updated_since_walks_every_page(admin: ShopifyAdmin, shop: FakeShopify) -> None:
    shop.orders[:] = [
        order(100 + n, f"#{1100 + n}", updated_at=f"2026-11-{10 + n:02d}T00:00:00Z") for n in range(8)
    ]

    numbers = [snapshot.order.number for snapshot in admin.orders_updated_since(at("2026-11-11T00:00:00"))]

    assert numbers == [str(1100 + n) for n in range(1, 8)]
    pages = [request.variables for request in shop.requests]
    assert [page["after"] is None for page in pages] == [True, False, False]
    assert pages[0]["query"] == "updated_at:>='2026-11-11T00:00:00Z'"


def test_a_query_the_bucket_cannot_pay_for_waits_until_it_refills(
    admin: ShopifyAdmin, shop: FakeShopify, sleeps: list[float]
) -> None:
    shop.orders[:] = [order(100 + n, f"#{1100 + n}") for n in range(9)]
    shop.requested_cost, shop.currently_available, shop.restore_rate = 50, 10.0, 50.0

    assert len(list(admin.orders_updated_since(at("2026-01-01T00:00:00")))) == 9
    # the first page teaches the cost (50) and the bucket (10, refilling 50/s): (50 - 10) / 50
    assert sleeps == [pytest.approx(0.8), pytest.approx(0.8)]


def test_the_wait_counts_the_refill_since_the_last_answer(shop: FakeShopify, sleeps: list[float]) -> None:
    shop.requested_cost, shop.currently_available, shop.restore_rate = 50, 10.0, 50.0
    now = iter([0.0, 0.5, 0.5])  # the answer is read at 0.0; the next query is ready at 0.5
    with ShopifyAdmin(shop.graphql_url, TOKEN, sleep=sleeps.append, clock=lambda: next(now)) as admin:
        admin.order_snapshot("gid://shopify/Order/1")
        admin.order_snapshot("gid://shopify/Order/1")
    assert sleeps == [pytest.approx(0.3)]  # (50 - (10 + 0.5 * 50)) / 50


def test_a_throttled_answer_is_retried_after_a_wait(
    admin: ShopifyAdmin, shop: FakeShopify, sleeps: list[float]
) -> None:
    shop.throttle_times = 1
    shop.requested_cost, shop.currently_available, shop.restore_rate = 752, 666.0, 50.0

    assert admin.order_snapshot("gid://shopify/Order/5501234567") is not None
    assert shop.operations() == ["OrderById", "OrderById", "DisputeById"]
    # THROTTLED: (752 - 666) / 50 = 1.72 s, more than the first backoff (1 s), and then the
    # bucket holds enough for the retry
    assert sleeps == [pytest.approx(1.72)]


def test_throttled_every_time_gives_up_after_the_retries(
    admin: ShopifyAdmin, shop: FakeShopify, sleeps: list[float]
) -> None:
    shop.throttle_times = 99
    with pytest.raises(ShopifyThrottled, match="OrderById: Shopify still answered THROTTLED after 4 retries"):
        admin.order_snapshot("gid://shopify/Order/5501234567")
    assert len(shop.requests) == 5
    assert sleeps == [1.0, 2.0, 4.0, 8.0]  # the bucket is full: the backoff alone decides


def test_a_refused_token_is_a_config_error_that_does_not_show_it(shop: FakeShopify) -> None:
    wrong = "shpat_wrong_9f8e7d6c5b4a"
    with (
        ShopifyAdmin(shop.graphql_url, wrong, sleep=lambda _s: None) as admin,
        pytest.raises(ConfigError) as refused,
    ):
        admin.order_snapshot("#1043")
    message = str(refused.value)
    assert "AFTERSALES_SHOPIFY_ACCESS_TOKEN" in message
    assert "HTTP 401" in message
    assert wrong not in message


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, b'{"data": {"orders": ', "Orders: Shopify's answer is not a JSON object (HTTP 200"),
        (200, b"[]", "Orders: Shopify's answer is not a JSON object"),
        (502, b"<html>Bad gateway</html>", "Orders: Shopify answered HTTP 502"),
        (500, b'{"errors": "Internal error"}', "Orders: Shopify answered HTTP 500"),
        (
            200,
            b'{"data": {"orders": {"nodes": "x"}}}',
            "unexpected answer about Orders: nodes: expected a list",
        ),
    ],
)
def test_an_unusable_answer_says_what_failed(
    admin: ShopifyAdmin, shop: FakeShopify, status: int, body: bytes, expected: str
) -> None:
    shop.queue_raw(status, body)
    with pytest.raises(ShopifyApiError, match=re.escape(expected)):
        admin.order_snapshot("#1043")


def test_graphql_errors_are_reported_with_their_message(admin: ShopifyAdmin, shop: FakeShopify) -> None:
    shop.queue_raw(200, b'{"errors": [{"message": "Field \'nme\' doesn\'t exist on type \'Order\'"}]}')
    with pytest.raises(ShopifyApiError, match="Orders failed: Field 'nme' doesn't exist"):
        admin.order_snapshot("#1043")


def test_a_missing_scope_is_a_config_error_naming_the_scopes(admin: ShopifyAdmin, shop: FakeShopify) -> None:
    denied = b'{"errors": [{"message": "Access denied for dispute field.", "extensions": {"code": "ACCESS_DENIED"}}]}'
    shop.queue_raw(200, denied)
    with pytest.raises(ConfigError, match="Access denied for dispute field.*read_shopify_payments_disputes"):
        admin.order_snapshot("#1043")


def test_a_malformed_field_names_the_order_and_the_field(admin: ShopifyAdmin, shop: FakeShopify) -> None:
    shop.orders[0]["totalPriceSet"]["shopMoney"]["amount"] = "12,9O"
    with pytest.raises(
        ShopifyApiError, match=r"order #1043: totalPriceSet.shopMoney.amount: '12,9O' is not an amount"
    ):
        admin.order_snapshot("#1043")


@pytest.mark.parametrize(
    ("shipping", "expected"),
    [
        (None, None),
        (mailing_address(None, country_code=None), None),  # every field null: no address
        (mailing_address(" Bo Berg ", country_code="se"), Address(name="Bo Berg", country="SE")),
        (
            mailing_address("Bo", address1="Storgatan 1", province="Stockholm", zip_code="111 22"),
            Address(name="Bo", address1="Storgatan 1", province="Stockholm", zip="111 22", country="US"),
        ),
    ],
)
def test_a_shipping_address_is_read_field_by_field(
    shipping: dict[str, object] | None, expected: Address | None
) -> None:
    node = order(5, "#5", country=None, shipping_address=shipping)
    assert read_order_snapshot(node, [], [], []).order.shipping_address == expected


def test_a_malformed_address_field_names_its_path(admin: ShopifyAdmin, shop: FakeShopify) -> None:
    shop.orders[0]["shippingAddress"]["zip"] = 60606
    with pytest.raises(ShopifyApiError, match=r"order #1043: shippingAddress.zip: expected text"):
        admin.order_snapshot("#1043")


def test_an_unreachable_shop_is_a_clear_error(sleeps: list[float]) -> None:
    with FakeShopify() as gone:
        url = gone.graphql_url
    with (
        ShopifyAdmin(url, TOKEN, sleep=sleeps.append) as admin,
        pytest.raises(ShopifyApiError, match="cannot reach http://127.0.0.1"),
    ):
        admin.order_snapshot("#1043")


def test_a_wrong_api_path_points_at_the_settings(shop: FakeShopify) -> None:
    url = shop.graphql_url.replace("2026-10", "2019-01")
    with (
        ShopifyAdmin(url, TOKEN) as admin,
        pytest.raises(ShopifyApiError, match="HTTP 404.*AFTERSALES_SHOPIFY_API_VERSION"),
    ):
        admin.order_snapshot("#1043")


def test_a_given_client_is_used_and_left_open(shop: FakeShopify) -> None:
    with httpx2.Client() as client:
        with ShopifyAdmin(shop.graphql_url, TOKEN, client=client) as admin:
            assert admin.order_snapshot("#1043") is not None
        assert not client.is_closed


@pytest.mark.parametrize(
    ("settings", "missing"),
    [
        (ShopifySettings(access_token="shpat_x"), "AFTERSALES_SHOPIFY_SHOP"),
        (ShopifySettings(shop="northwind.myshopify.com"), "AFTERSALES_SHOPIFY_ACCESS_TOKEN"),
    ],
)
def test_from_settings_names_what_is_missing(settings: ShopifySettings, missing: str) -> None:
    with pytest.raises(ConfigError, match=missing):
        ShopifyAdmin.from_settings(settings)


@pytest.mark.parametrize(
    ("shopify_status", "scan"),
    [
        ("LABEL_PRINTED", ScanStatus.LABEL_PRINTED),
        ("CARRIER_PICKED_UP", ScanStatus.CARRIER_PICKED_UP),
        ("ATTEMPTED_DELIVERY", ScanStatus.ATTEMPTED_DELIVERY),
        ("DELAYED", ScanStatus.DELAYED),
        ("FAILURE", ScanStatus.FAILURE),
        ("PICKED_UP", ScanStatus.DELIVERED),
        ("READY_FOR_RECIPIENT_PICKUP", ScanStatus.READY_FOR_PICKUP),
        ("BUYER_ACTION_REQUIRED", None),  # newer than the desk knows: not a scan
    ],
)
def test_fulfilment_event_statuses_map_to_scans(
    admin: ShopifyAdmin, shop: FakeShopify, shopify_status: str, scan: ScanStatus | None
) -> None:
    event = fulfillment_event(1, shopify_status, "2026-11-04T08:00:00Z")
    parcel = fulfillment(2, "2026-11-03T00:00:00Z", company="UPS", number="1Z1", events=[event])
    shop.orders.append(order(3, "#3000", fulfillments=[parcel]))

    snapshot = admin.order_snapshot("#3000")

    assert snapshot is not None
    assert [event.status for event in snapshot.tracking_events] == ([scan] if scan else [])


_STATUSES = [status.name for status in ScanStatus] + ["PICKED_UP", "BUYER_ACTION_REQUIRED"]


@given(
    scans=st.lists(
        st.tuples(
            st.sampled_from(_STATUSES),
            st.datetimes(
                min_value=datetime(2020, 1, 1),  # noqa: DTZ001 - bounds for hypothesis, zone added below
                max_value=datetime(2030, 1, 1),  # noqa: DTZ001
                timezones=st.just(UTC),
            ),
        ),
        max_size=12,
    ),
    amount=st.decimals(min_value=0, max_value=10**9, places=2),
)
def test_any_documented_answer_reads_into_a_consistent_snapshot(
    scans: list[tuple[str, datetime]], amount: Decimal
) -> None:
    events = [
        fulfillment_event(n, status, moment.isoformat().replace("+00:00", "Z"))
        for n, (status, moment) in enumerate(scans)
    ]
    parcel = fulfillment(1, "2026-01-01T00:00:00Z", company="UPS", number="1Z1", events=events)
    node = order(5, "#5", total=str(amount), fulfillments=[parcel])

    fulfillments: list[tuple[Mapping[str, Any], list[Mapping[str, Any]]]] = [(parcel, list(events))]
    snapshot = read_order_snapshot(node, [], fulfillments, [])

    known = [moment for status, moment in scans if status != "BUYER_ACTION_REQUIRED"]
    assert [event.happened_at for event in snapshot.tracking_events] == sorted(known)
    assert snapshot.order.last_scan_at == max(known, default=None)
    assert snapshot.order.total == amount
    assert snapshot.order.tracking_numbers == ("1Z1",)


def test_from_settings_reaches_the_configured_endpoint(shop: FakeShopify) -> None:
    settings = ShopifySettings(admin_url=shop.graphql_url, access_token=TOKEN)
    with ShopifyAdmin.from_settings(settings) as admin:
        assert admin.order_snapshot("1043") is not None


def test_a_time_without_an_offset_is_refused(admin: ShopifyAdmin) -> None:
    with pytest.raises(InputError, match="no UTC offset"):
        list(admin.orders_updated_since(datetime(2026, 11, 1)))  # noqa: DTZ001 - the point of the test

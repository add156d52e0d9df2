"""`POST /webhooks/shopify` over the real database: signatures, one effect per delivery, what
each topic changes, and a burst of 1,000 deliveries. Payloads follow Shopify's REST webhook
shapes (docs/integrations.md)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from aftersales.adapters.db import schema
from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.adapters.shopify.webhooks import sign
from aftersales.domain.cases import CaseRecord
from aftersales.domain.messages import Channel, InboundMessage
from aftersales.services.intake import Incoming, take_in
from aftersales.settings import Settings, ShopifySettings
from aftersales.web.app import create_app

SECRET = "shpss_test_secret"
PLACED = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
OPENED = datetime.now(UTC).replace(microsecond=0)  # disputes are live: their clocks run now
EVIDENCE_DUE = OPENED + timedelta(days=7)

CaseReader = Callable[[str], CaseRecord]  # the ``app_case`` fixture


@pytest.fixture
def hook_app(uow: SqlUnitOfWork, engine: Engine, tmp_path: Path) -> Iterator[FastAPI]:
    url = engine.url.render_as_string(hide_password=False)
    settings = Settings(
        data_dir=tmp_path, policy_file=None, database_url=url, shopify=ShopifySettings(webhook_secret=SECRET)
    )
    app = create_app(settings, tick_seconds=None)
    yield app
    app.state.web.desk.engine.dispose()


@pytest.fixture
def hooks(hook_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(hook_app) as client:
        yield client


def deliver(
    client: TestClient, topic: str, payload: Any, webhook_id: str, *, signature: str | None = None
) -> Any:
    body = json.dumps(payload).encode()
    headers = {
        "X-Shopify-Topic": topic,
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Shop-Domain": "northwind.myshopify.com",
        "X-Shopify-Hmac-Sha256": sign(SECRET, body) if signature is None else signature,
        "Content-Type": "application/json",
    }
    return client.post("/webhooks/shopify", content=body, headers=headers)


def order_payload(order_id: int, name: str, email: str = "dana@example.com", **extra: Any) -> dict[str, Any]:
    return {
        "id": order_id,
        "name": name,
        "email": email,
        "created_at": PLACED.isoformat(),
        "financial_status": "paid",
        "currency": "USD",
        "total_price": "54.00",
        "customer": {"first_name": "Dana", "last_name": "Reyes", "email": email},
        "shipping_address": {"country_code": "US"},
        "line_items": [
            {
                "sku": "TUMBLER-20-BLK",
                "title": "Tumbler 20oz",
                "variant_title": "Black",
                "quantity": 2,
                "price": "27.00",
            }
        ],
        "fulfillments": [],
        "refunds": [],
    } | extra


def scan_payload(event_id: int, order_id: int, status: str, at: datetime) -> dict[str, Any]:
    return {
        "id": event_id,
        "fulfillment_id": 5001,
        "order_id": order_id,
        "status": status,
        "message": f"Parcel {status}",
        "happened_at": at.isoformat(),
        "city": "Memphis",
        "province": "Tennessee",
        "country": "United States",
    }


def dispute_payload(
    dispute_id: int, order_id: int, status: str = "needs_response", **extra: Any
) -> dict[str, Any]:
    return {
        "id": dispute_id,
        "order_id": order_id,
        "type": "chargeback",
        "amount": "54.00",
        "currency": "USD",
        "reason": "product_not_received",
        "network_reason_code": "13.1",
        "status": status,
        "evidence_due_by": EVIDENCE_DUE.isoformat(),
        "evidence_sent_on": None,
        "finalized_on": None,
        "initiated_at": OPENED.isoformat(),
    } | extra


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def footprint(engine: Engine) -> tuple[int, ...]:
    tables = (
        schema.webhook_deliveries,
        schema.orders,
        schema.cases,
        schema.disputes,
        schema.fulfillment_events,
    )
    return tuple(count(engine, table) for table in tables)


# --- forged deliveries change nothing -----------------------------------------------------


def _one_byte_changed(body: bytes) -> bytes:
    return body.replace(b"54.00", b"55.00", 1)


@pytest.mark.parametrize(
    "case",
    ["no signature", "wrong secret", "body changed by one byte", "signature of another body", "garbage"],
)
def test_a_forged_delivery_gets_401_and_changes_nothing(hooks: TestClient, engine: Engine, case: str) -> None:
    body = json.dumps(order_payload(1, "#1001")).encode()
    signatures = {
        "no signature": None,
        "wrong secret": sign("not-the-secret", body),
        "body changed by one byte": sign(SECRET, body),
        "signature of another body": sign(SECRET, b"{}"),
        "garbage": "!!not base64!!",
    }
    sent = _one_byte_changed(body) if case == "body changed by one byte" else body
    headers = {"X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": "w-1"}
    if signatures[case] is not None:
        headers["X-Shopify-Hmac-Sha256"] = str(signatures[case])
    before = footprint(engine)
    response = hooks.post("/webhooks/shopify", content=sent, headers=headers)
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "bad_signature"
    assert footprint(engine) == before


def test_webhooks_are_off_without_a_secret(uow: SqlUnitOfWork, engine: Engine, tmp_path: Path) -> None:
    url = engine.url.render_as_string(hide_password=False)
    app = create_app(Settings(data_dir=tmp_path, policy_file=None, database_url=url), tick_seconds=None)
    with TestClient(app) as client:
        response = deliver(client, "orders/create", order_payload(1, "#1001"), "w-1")
    app.state.web.desk.engine.dispose()
    assert response.status_code == 503
    assert "AFTERSALES_SHOPIFY_WEBHOOK_SECRET" in response.json()["error"]["message"]


def test_a_signed_payload_the_desk_cannot_read_is_refused_with_the_field(
    hooks: TestClient, engine: Engine
) -> None:
    response = deliver(hooks, "orders/create", order_payload(1, "#1001", total_price="lots"), "w-1")
    assert response.status_code == 422
    assert "total_price" in response.json()["error"]["message"]
    assert footprint(engine) == (0, 0, 0, 0, 0)


# --- one effect per delivery --------------------------------------------------------------


def test_the_same_delivery_twice_has_one_effect(hooks: TestClient, engine: Engine) -> None:
    assert (
        deliver(hooks, "orders/create", order_payload(1, "#1001"), "w-1").json()["outcome"]
        == "order 1001 saved"
    )
    refund = {
        "id": 9,
        "order_id": 1,
        "created_at": PLACED.isoformat(),
        "note": "late",
        "transactions": [{"kind": "refund", "status": "success", "amount": "10.00"}],
    }
    first = deliver(hooks, "refunds/create", refund, "w-2").json()
    again = deliver(hooks, "refunds/create", refund, "w-2").json()
    assert first == {
        "webhook_id": "w-2",
        "duplicate": False,
        "outcome": "refund of 10.00 on order 1001 stored",
    }
    assert again["duplicate"] is True
    assert count(engine, schema.refunds) == 1
    assert count(engine, schema.webhook_deliveries) == 2


def test_an_unhandled_topic_is_acknowledged_and_recorded(hooks: TestClient, engine: Engine) -> None:
    response = deliver(hooks, "products/update", {"id": 1}, "w-9")
    assert response.status_code == 200
    assert response.json()["outcome"].startswith("ignored")
    assert count(engine, schema.webhook_deliveries) == 1


# --- what each topic changes --------------------------------------------------------------


def test_scans_move_the_last_scan_only_forward_and_delivery_sets_delivered_at(
    hooks: TestClient, app_order: Any
) -> None:
    deliver(hooks, "orders/create", order_payload(1, "#1001"), "w-1")
    day = PLACED + timedelta(days=1)
    deliver(
        hooks, "fulfillment_events/create", scan_payload(71, 1, "in_transit", day + timedelta(days=1)), "w-2"
    )
    deliver(hooks, "fulfillment_events/create", scan_payload(70, 1, "confirmed", day), "w-3")  # late, older
    order = app_order("1001")
    assert order.last_scan_status == "in_transit"
    assert order.last_scan_location == "Memphis, Tennessee, United States"
    deliver(
        hooks, "fulfillment_events/create", scan_payload(72, 1, "delivered", day + timedelta(days=3)), "w-4"
    )
    order = app_order("1001")
    assert order.delivered_at == day + timedelta(days=3)
    assert [e.status for e in app_order.events("1001")] == ["confirmed", "in_transit", "delivered"]


def test_a_later_order_update_keeps_the_scans(hooks: TestClient, app_order: Any) -> None:
    deliver(hooks, "orders/create", order_payload(1, "#1001"), "w-1")
    deliver(
        hooks,
        "fulfillment_events/create",
        scan_payload(71, 1, "in_transit", PLACED + timedelta(days=1)),
        "w-2",
    )
    deliver(hooks, "orders/updated", order_payload(1, "#1001", financial_status="partially_refunded"), "w-3")
    order = app_order("1001")
    assert (order.financial_status, order.last_scan_status) == ("partially_refunded", "in_transit")


def test_a_dispute_opens_a_chargeback_case_with_an_evidence_clock(
    hooks: TestClient, app_case: CaseReader
) -> None:
    deliver(hooks, "orders/create", order_payload(1, "#1001"), "w-1")
    due = datetime.now(UTC) + timedelta(days=7)
    outcome = deliver(
        hooks, "disputes/create", dispute_payload(77, 1, evidence_due_by=due.isoformat()), "w-2"
    ).json()
    case = app_case(outcome["outcome"])
    assert (case.route, case.order_number, case.customer) == (
        "chargeback_risk",
        "1001",
        "dana@example.com",
    )
    clock = next(c for c in case.clocks if c["name"] == "dispute_evidence")
    assert datetime.fromisoformat(clock["due_at"]) == due
    assert clock["state"] == "on_track"


def test_a_dispute_turns_the_buyers_open_case_into_a_chargeback_case(
    hooks: TestClient, hook_app: FastAPI, app_case: CaseReader
) -> None:
    deliver(hooks, "orders/create", order_payload(1, "#1001"), "w-1")
    web = hook_app.state.web
    now = datetime.now(UTC)
    text = "Where is my order #1001? Tracking has not moved in a week."
    message = InboundMessage(
        message_id="m1@example.com",
        dedupe_key="k1",
        channel=Channel.EMAIL,
        from_address="dana@example.com",
        from_name="Dana",
        to_addresses=(),
        subject="Where is it",
        sent_at=now,
        body=text,
        full_body=text,
        html="",
    )
    opened = take_in(web.desk.uow, web.kit, Incoming(message, "test"), now=now).case_id
    assert app_case(f"case {opened}").route == "shipping_delay"
    outcome = deliver(hooks, "disputes/create", dispute_payload(77, 1), "w-2").json()["outcome"]
    assert outcome == f"dispute 77 opened case {opened}"
    assert app_case(outcome).route == "chargeback_risk"


def test_a_dispute_update_meets_or_stops_the_evidence_clock(hooks: TestClient, app_case: CaseReader) -> None:
    deliver(hooks, "orders/create", order_payload(1, "#1001"), "w-1")
    opened = deliver(hooks, "disputes/create", dispute_payload(77, 1), "w-2").json()["outcome"]
    sent = datetime.now(UTC).isoformat()
    updated = deliver(
        hooks, "disputes/update", dispute_payload(77, 1, "under_review", evidence_sent_on=sent), "w-3"
    )
    assert updated.json()["outcome"].startswith("dispute 77 updated case")
    clock = next(c for c in app_case(opened).clocks if c["name"] == "dispute_evidence")
    assert clock["state"] == "met"
    deliver(hooks, "disputes/update", dispute_payload(78, 1, "won"), "w-4")
    assert (
        deliver(hooks, "disputes/update", dispute_payload(78, 1, "won"), "w-5").json()["outcome"]
        == "dispute 78 unchanged"
    )


# --- a burst ------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_burst_of_1000_deliveries_has_exactly_the_expected_effects(
    hooks: TestClient, engine: Engine
) -> None:
    """200 orders, each with 3 scans; 100 disputes; and 100 of those deliveries sent again,
    all at once from 8 threads."""
    orders = [
        ("orders/create", order_payload(i, f"#{5000 + i}", email=f"b{i}@example.com"), f"o-{i}")
        for i in range(200)
    ]
    scans = [
        (
            "fulfillment_events/create",
            scan_payload(i * 10 + k, i, status, PLACED + timedelta(days=k)),
            f"s-{i}-{k}",
        )
        for i in range(200)
        for k, status in enumerate(("confirmed", "in_transit", "out_for_delivery"))
    ]
    disputes = [("disputes/create", dispute_payload(900 + i, i), f"d-{i}") for i in range(100)]
    for batch in (orders, scans + disputes + [*orders[:50], *scans[:50]]):
        with ThreadPoolExecutor(8) as pool:
            responses = list(pool.map(lambda d: deliver(hooks, *d), batch))
        assert all(r.status_code == 200 for r in responses), {
            r.text for r in responses if r.status_code != 200
        }
    assert len(orders) + len(scans) + len(disputes) + 100 == 1000
    assert count(engine, schema.webhook_deliveries) == 900
    assert count(engine, schema.orders) == 200
    assert count(engine, schema.fulfillment_events) == 600
    assert count(engine, schema.disputes) == 100
    with engine.connect() as connection:
        routes = connection.execute(
            select(schema.cases.c.route, func.count()).group_by(schema.cases.c.route)
        ).all()
        statuses = set(connection.execute(select(schema.orders.c.last_scan_status)).scalars())
    assert dict(routes) == {"chargeback_risk": 100}
    assert statuses == {"out_for_delivery"}


# --- reading back -------------------------------------------------------------------------


@pytest.fixture
def app_order(hook_app: FastAPI) -> Any:
    web = hook_app.state.web

    class Orders:
        def __call__(self, number: str) -> Any:
            with web.desk.read() as cases:
                return cases.order(number)

        def events(self, number: str) -> Any:
            with web.desk.read() as cases:
                return cases.tracking_events(number)

    return Orders()


@pytest.fixture
def app_case(hook_app: FastAPI) -> CaseReader:
    """The case named at the end of an outcome ("… case 12")."""
    web = hook_app.state.web

    def read(outcome: str) -> CaseRecord:
        case_id = int(outcome.rsplit(" ", 1)[-1])
        with web.desk.read() as cases:
            case: CaseRecord = cases.case_row(case_id)
        return case

    return read

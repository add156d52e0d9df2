"""Hardening regressions of the `webhooks` slice: Shopify webhooks that arrive out of order
(finding 6), half-written files (finding 7), and of finding 15 the signed webhook payloads that
answered 500 and the data files others could read. Through the real web app, on SQLite and
PostgreSQL."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from aftersales.adapters.db import schema
from aftersales.adapters.shopify_webhooks import sign
from aftersales.settings import Settings, ShopifySettings
from aftersales.web.app import create_app

SECRET = "shpss_hardening_secret"
PLACED = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


@pytest.fixture
def hook_app(uow: Any, engine: Engine, tmp_path: Path) -> Iterator[FastAPI]:
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


def post(client: TestClient, topic: str, body: bytes, webhook_id: str) -> Any:
    headers = {
        "X-Shopify-Topic": topic,
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Shop-Domain": "northwind.myshopify.com",
        "X-Shopify-Hmac-Sha256": sign(SECRET, body),
        "Content-Type": "application/json",
    }
    return client.post("/webhooks/shopify", content=body, headers=headers)


def deliver(client: TestClient, topic: str, payload: Any, webhook_id: str) -> Any:
    return post(client, topic, json.dumps(payload).encode(), webhook_id)


def order_payload(order_id: int, name: str, updated: datetime = PLACED, **extra: Any) -> dict[str, Any]:
    return {
        "id": order_id,
        "name": name,
        "email": "dana@example.com",
        "created_at": PLACED.isoformat(),
        "updated_at": updated.isoformat(),
        "cancelled_at": None,
        "financial_status": "paid",
        "currency": "USD",
        "total_price": "54.00",
        "customer": {"first_name": "Dana", "last_name": "Reyes", "email": "dana@example.com"},
        "shipping_address": {"country_code": "US", "address1": "12 Elm St", "zip": "38103"},
        "line_items": [{"sku": "TUMBLER-20-BLK", "title": "Tumbler", "quantity": 2, "price": "27.00"}],
        "fulfillments": [],
        "refunds": [],
    } | extra


def refund_payload(refund_id: int, order_id: int, at: datetime, amount: str = "10.00") -> dict[str, Any]:
    return {
        "id": refund_id,
        "order_id": order_id,
        "created_at": at.isoformat(),
        "note": "scratched lid",
        "transactions": [{"kind": "refund", "status": "success", "amount": amount}],
    }


def stored_order(app: FastAPI, number: str) -> Any:
    with app.state.web.desk.read() as cases:
        return cases.order(number)


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


# --- finding 6: webhooks go back in time ----------------------------------------------------


def test_finding_06_cancelled_order_stays_cancelled(hooks: TestClient, hook_app: FastAPI, engine: Engine) -> None:
    cancelled_at = PLACED + timedelta(hours=5)
    assert deliver(hooks, "orders/create", order_payload(1, "#1001"), "w-1").status_code == 200
    cancelled = order_payload(
        1, "#1001", cancelled_at, cancelled_at=cancelled_at.isoformat(), financial_status="voided"
    )
    assert deliver(hooks, "orders/cancelled", cancelled, "w-2").json()["outcome"] == "order 1001 updated"
    # Shopify's retry of an orders/updated made before the cancellation arrives last
    stale = deliver(hooks, "orders/updated", order_payload(1, "#1001", PLACED + timedelta(hours=1)), "w-3")
    assert stale.status_code == 200
    assert stale.json()["outcome"] == "order 1001 unchanged: the payload is older than the stored order"
    order = stored_order(hook_app, "1001")
    assert (order.cancelled_at, order.financial_status) == (cancelled_at, "voided")
    assert order.shopify_updated_at == cancelled_at
    assert count(engine, schema.webhook_deliveries) == 3  # the stale one is recorded as received
    # a newer update applies, and the cancellation in it stands
    newer = order_payload(
        1, "#1001", cancelled_at + timedelta(minutes=1), cancelled_at=cancelled_at.isoformat(), financial_status="refunded"
    )
    assert deliver(hooks, "orders/updated", newer, "w-4").json()["outcome"] == "order 1001 updated"
    assert stored_order(hook_app, "1001").financial_status == "refunded"


def test_finding_06_refund_survives_stale_order_update(
    hooks: TestClient, hook_app: FastAPI, engine: Engine
) -> None:
    deliver(hooks, "orders/create", order_payload(1, "#1001"), "w-1")
    refunded_at = PLACED + timedelta(days=2)
    stored = deliver(hooks, "refunds/create", refund_payload(9, 1, refunded_at), "w-2").json()
    assert stored["outcome"] == "refund of 10.00 on order 1001 stored"
    # an orders/updated from before the refund, without it: older, so nothing changes
    deliver(hooks, "orders/updated", order_payload(1, "#1001", PLACED + timedelta(days=1)), "w-3")
    assert [r.shopify_id for r in stored_order(hook_app, "1001").refunds] == ["9"]
    # even a newer order payload that leaves the refund out never deletes it
    later = order_payload(1, "#1001", refunded_at + timedelta(hours=1), financial_status="partially_refunded")
    assert deliver(hooks, "orders/updated", later, "w-4").json()["outcome"] == "order 1001 updated"
    order = stored_order(hook_app, "1001")
    assert (order.financial_status, order.refunded) == ("partially_refunded", 10)
    # the order payload naming the refund, and the refund again: still one refund
    with_refund = order_payload(
        1, "#1001", refunded_at + timedelta(hours=2), refunds=[refund_payload(9, 1, refunded_at)]
    )
    deliver(hooks, "orders/updated", with_refund, "w-5")
    deliver(hooks, "refunds/create", refund_payload(9, 1, refunded_at), "w-6")
    assert count(engine, schema.refunds) == 1
    assert stored_order(hook_app, "1001").refunded == 10


# --- finding 15: signed payloads that answered 500 ------------------------------------------


def _nothing_stored(engine: Engine) -> bool:
    tables = (schema.webhook_deliveries, schema.orders, schema.refunds, schema.disputes, schema.cases)
    return all(count(engine, table) == 0 for table in tables)


def test_finding_15_webhook_nested_json_is_4xx(hooks: TestClient, engine: Engine) -> None:
    for depth in (1_000, 100_000):
        body = b'{"a":' * depth + b"1" + b"}" * depth
        response = post(hooks, "orders/create", body, f"w-{depth}")
        assert response.status_code == 422, response.text
        assert "nested too deeply" in response.json()["error"]["message"]
    assert post(hooks, "orders/create", b"[" * 1000 + b"]" * 1000, "w-list").status_code == 422
    assert _nothing_stored(engine)


@pytest.mark.parametrize(
    ("topic", "payload", "field"),
    [
        ("orders/create", order_payload(1, "#1001", created_at="9999-12-31T23:00:00-12:00"), "created_at"),
        ("orders/updated", order_payload(1, "#1001", updated=datetime(9999, 6, 1, tzinfo=UTC)), "updated_at"),
        ("refunds/create", refund_payload(9, 1, datetime(9999, 6, 1, tzinfo=UTC)), "created_at"),
        (
            "disputes/create",
            {"id": 77, "order_id": 1, "status": "needs_response", "evidence_due_by": "9999-12-31T00:00:00Z"},
            "evidence_due_by",
        ),
        ("orders/create", order_payload(1, "#1001", created_at="0001-01-01T00:00:00+00:00"), "created_at"),
    ],
)
def test_finding_15_webhook_year_9999_is_out_of_range(
    hooks: TestClient, engine: Engine, topic: str, payload: Any, field: str
) -> None:
    response = deliver(hooks, topic, payload, "w-1")
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["message"]
    assert "out of range" in response.json()["error"]["message"]
    assert _nothing_stored(engine)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"line_items": [{"sku": "A", "quantity": 10**30, "price": "1.00"}]}, "line_items.quantity"),
        ({"line_items": [{"sku": "A", "quantity": 1, "price": "1e30"}]}, "price"),
        ({"total_price": 10**30}, "total_price"),
        ({"id": 10**100}, "id"),
    ],
)
def test_finding_15_webhook_huge_quantity_is_422(
    hooks: TestClient, engine: Engine, change: dict[str, Any], field: str
) -> None:
    response = deliver(hooks, "orders/create", order_payload(1, "#1001") | change, "w-1")
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["message"]
    assert _nothing_stored(engine)


def test_finding_15_webhook_second_order_name_with_an_existing_id_is_409(
    hooks: TestClient, hook_app: FastAPI, engine: Engine
) -> None:
    assert deliver(hooks, "orders/create", order_payload(1, "#1001"), "w-1").status_code == 200
    renamed = deliver(hooks, "orders/create", order_payload(1, "#1002"), "w-2")
    assert renamed.status_code == 409, renamed.text
    assert "order id 1 is order 1001" in renamed.json()["error"]["message"]
    other_id = deliver(hooks, "orders/updated", order_payload(2, "#1001"), "w-3")
    assert other_id.status_code == 409, other_id.text
    assert "order 1001 has id 1" in other_id.json()["error"]["message"]
    assert (count(engine, schema.orders), count(engine, schema.webhook_deliveries)) == (1, 1)
    assert stored_order(hook_app, "1001").shopify_id == "1"
    assert deliver(hooks, "orders/create", order_payload(2, "#1002"), "w-4").status_code == 200

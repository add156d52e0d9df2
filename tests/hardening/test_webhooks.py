"""Hardening regressions of the `webhooks` slice: Shopify webhooks that arrive out of order
(finding 6), half-written files (finding 7), and of finding 15 the signed webhook payloads that
answered 500 and the data files others could read. Through the real web app, on SQLite and
PostgreSQL."""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import itertools
import json
import os
import re
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from aftersales.adapters.db import schema
from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.adapters.files.atomic import write_atomically
from aftersales.adapters.shopify.webhooks import sign
from aftersales.domain.messages import AttachmentMeta, Channel, InboundMessage
from aftersales.domain.orders import ImportedOrder, Refund
from aftersales.services.intake import Incoming, take_in
from aftersales.services.orders_import import import_orders
from aftersales.services.routing import RoutingKit
from aftersales.settings import Settings, ShopifySettings
from aftersales.web.app import create_app
from web.test_webhooks import SECRET

PLACED = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


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


def test_finding_06_cancelled_order_stays_cancelled(
    hooks: TestClient, hook_app: FastAPI, engine: Engine
) -> None:
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
        1,
        "#1001",
        cancelled_at + timedelta(minutes=1),
        cancelled_at=cancelled_at.isoformat(),
        financial_status="refunded",
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


# --- finding 15: any value in any field of any topic is never a 500 ---------------------------

_BASE: dict[str, dict[str, Any]] = {
    "orders/create": order_payload(1, "#1001"),
    "orders/updated": order_payload(1, "#1001", PLACED + timedelta(hours=1)),
    "orders/cancelled": order_payload(1, "#1001", cancelled_at=PLACED.isoformat()),
    "fulfillments/create": {
        "id": 5001,
        "order_id": 1,
        "created_at": PLACED.isoformat(),
        "updated_at": PLACED.isoformat(),
        "shipment_status": "in_transit",
        "tracking_company": "UPS",
        "tracking_numbers": ["1Z999AA10123456784"],
    },
    "fulfillments/update": {
        "id": 5001,
        "order_id": 1,
        "shipment_status": "delivered",
        "updated_at": PLACED.isoformat(),
    },
    "fulfillment_events/create": {
        "id": 71,
        "fulfillment_id": 5001,
        "order_id": 1,
        "status": "in_transit",
        "happened_at": PLACED.isoformat(),
        "city": "Memphis",
    },
    "refunds/create": refund_payload(9, 1, PLACED + timedelta(days=1)),
    "disputes/create": {
        "id": 77,
        "order_id": 1,
        "type": "chargeback",
        "amount": "54.00",
        "currency": "USD",
        "reason": "fraudulent",
        "status": "needs_response",
        "evidence_due_by": (PLACED + timedelta(days=7)).isoformat(),
        "initiated_at": PLACED.isoformat(),
    },
    "disputes/update": {
        "id": 77,
        "order_id": 1,
        "status": "under_review",
        "initiated_at": PLACED.isoformat(),
    },
}
_BASE["orders/create"]["fulfillments"] = [_BASE["fulfillments/create"]]
_BASE["orders/updated"]["refunds"] = [_BASE["refunds/create"]]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every field of a payload, nested ones included, as a path of keys and indexes."""
    found: list[tuple[Any, ...]] = [prefix] if prefix else []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, inner in items:
        found += _paths(inner, (*prefix, key))
    return found


def _replaced(payload: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = dict(payload) if isinstance(payload, dict) else list(payload)
    copy[path[0]] = _replaced(copy[path[0]], path[1:], new)
    return copy


_EDGE_TEXTS = (
    "9999-12-31T23:00:00-12:00",
    "0001-01-01T00:00:00+14:00",
    "2026-02-30T00:00:00Z",
    "2026-11-02T15:00:00",
    "1e30",
    "-1e30",
    "NaN",
    "Infinity",
    "1" * 5_000,
    "x" * 400,
    "nul\x00byte",
    "lone \ud800 surrogate",
    "gid://shopify/Order/1",
    "#",
    " ",
    "²",
)
_OFFSETS = st.sampled_from([UTC, timezone(timedelta(hours=-12)), timezone(timedelta(hours=14))])
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats()
    | st.text(max_size=40)
    | st.sampled_from(_EDGE_TEXTS)
    | st.datetimes(timezones=_OFFSETS).map(datetime.isoformat)
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=6,
)
_SERIAL = itertools.count()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_finding_15_webhook_random_values_in_every_field_are_never_5xx(
    hooks: TestClient, hook_app: FastAPI, data: st.DataObject
) -> None:
    deliver(hooks, "orders/create", order_payload(1, "#1001"), "w-the-order")  # once: a repeat is a no-op
    topic = data.draw(st.sampled_from(sorted(_BASE)), label="topic")
    payload = _BASE[topic]
    for path in data.draw(st.lists(st.sampled_from(_paths(payload)), min_size=1, max_size=3), label="fields"):
        with contextlib.suppress(KeyError, IndexError, TypeError):  # an earlier change removed it
            payload = _replaced(payload, path, data.draw(_JSON, label=str(path)))
    serial = next(_SERIAL)
    response = deliver(hooks, topic, payload, f"w-random-{serial}")
    assert response.status_code < 500, response.text
    good = order_payload(10_000 + serial, f"#G{serial}")
    assert deliver(hooks, "orders/create", good, f"w-good-{serial}").status_code == 200
    assert stored_order(hook_app, f"G{serial}") is not None


# --- finding 7: a half-written attachment becomes permanent ----------------------------------

PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 400


def _photo_meta() -> AttachmentMeta:
    return AttachmentMeta("lid.png", "image/png", len(PHOTO), hashlib.sha256(PHOTO).hexdigest())


def _mail_with_photo() -> InboundMessage:
    text = "The lid of order #1001 arrived cracked, photo attached."
    return InboundMessage(
        message_id="photo@example.com",
        dedupe_key="photo-1",
        channel=Channel.EMAIL,
        from_address="dana@example.com",
        from_name="Dana",
        to_addresses=(),
        subject="Cracked lid",
        sent_at=PLACED,
        body=text,
        full_body=text,
        html="",
        attachments=(_photo_meta(),),
    )


def test_finding_07_truncated_attachment_is_repaired_by_the_next_intake(
    uow: SqlUnitOfWork, kit: RoutingKit, tmp_path: Path
) -> None:
    incoming = Incoming(_mail_with_photo(), "inbox.mbox#1", attachments=[(_photo_meta(), PHOTO)])
    assert take_in(uow, kit, incoming, now=PLACED).outcome.value != "duplicate"
    stored = tmp_path / "attachments" / _photo_meta().sha256[:2] / _photo_meta().sha256
    assert stored.read_bytes() == PHOTO
    stored.write_bytes(PHOTO[:1000])  # what a crash or a full disk mid-write used to leave
    again = take_in(uow, kit, incoming, now=PLACED)  # the same mail, read again
    assert again.outcome.value == "duplicate"
    assert stored.read_bytes() == PHOTO
    stored.write_bytes(b"x" * len(PHOTO))  # the right size, the wrong bytes
    take_in(uow, kit, incoming, now=PLACED)
    assert stored.read_bytes() == PHOTO
    assert [p.name for p in stored.parent.iterdir()] == [stored.name]  # no temporary file left


_KILLED_MID_WRITE = """
import os, signal, sys
from pathlib import Path
from aftersales.adapters.files import atomic as files
os.fsync = lambda descriptor: os.kill(os.getpid(), signal.SIGKILL)  # killed before the rename
files.write_atomically(Path(sys.argv[1]), b"new content" * 1000)
"""


def test_finding_07_a_write_killed_before_the_rename_leaves_no_file(tmp_path: Path) -> None:
    fresh, existing = tmp_path / "fresh.bin", tmp_path / "existing.bin"
    existing.write_bytes(b"old content")
    for target in (fresh, existing):
        run = subprocess.run([sys.executable, "-c", _KILLED_MID_WRITE, str(target)], check=False)
        assert run.returncode == -signal.SIGKILL
    assert not fresh.exists()  # never a half-written file at the final name
    assert existing.read_bytes() == b"old content"  # the old one stands whole


def test_finding_07_one_atomic_writer_for_attachments_packets_exports_and_caches() -> None:
    """The three writers that had drifted apart (0600 or not, fsync or not) are one helper."""
    source = Path(__file__).parents[2] / "src" / "aftersales"
    writers = [
        str(path.relative_to(source))
        for path in source.rglob("*.py")
        if re.search(
            r"os\.replace|\.replace\(path\)|mkstemp|NamedTemporaryFile", path.read_text(encoding="utf-8")
        )
    ]
    assert writers == ["adapters/files/atomic.py"]


def test_finding_07_a_full_disk_leaves_neither_a_temporary_nor_a_final_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_atomically(tmp_path / "photo.png", PHOTO)
    assert list(tmp_path.iterdir()) == []


# --- finding 15: data files readable by everyone ---------------------------------------------


def test_finding_15_data_files_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"  # a fresh desk: nothing there yet
    previous = os.umask(0o022)  # the usual umask, under which files came out 0644
    try:
        settings = Settings(data_dir=data, policy_file=None, shopify=ShopifySettings(webhook_secret=SECRET))
        app = create_app(settings, tick_seconds=None)
        web = app.state.web
        incoming = Incoming(_mail_with_photo(), "inbox.mbox#1", attachments=[(_photo_meta(), PHOTO)])
        take_in(web.desk.uow, web.kit, incoming, now=PLACED)
        with TestClient(app) as client:
            assert deliver(client, "orders/create", order_payload(1, "#1001"), "w-1").status_code == 200
        app.state.web.desk.engine.dispose()
    finally:
        os.umask(previous)
    made = [data, *data.rglob("*")]
    names = {p.name for p in made}
    assert {"aftersales.db", "attachments", "secret_key", "cache", _photo_meta().sha256} <= names
    readable = {
        str(p.relative_to(tmp_path)): oct(p.stat().st_mode & 0o777) for p in made if p.stat().st_mode & 0o077
    }
    assert readable == {}


def test_finding_15_an_older_desks_readable_files_are_made_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    create_app(Settings(data_dir=data, policy_file=None), tick_seconds=None).state.web.desk.engine.dispose()
    for path, mode in ((data, 0o755), (data / "aftersales.db", 0o644)):
        path.chmod(mode)
    (data / "attachments").mkdir(mode=0o755)
    create_app(Settings(data_dir=data, policy_file=None), tick_seconds=None).state.web.desk.engine.dispose()
    modes = {p.name: p.stat().st_mode & 0o777 for p in (data, data / "aftersales.db", data / "attachments")}
    assert modes == {"data": 0o700, "aftersales.db": 0o600, "attachments": 0o700}


def test_finding_06_a_late_fulfilment_keeps_the_newer_orders_carrier(
    hooks: TestClient, hook_app: FastAPI
) -> None:
    shipped = PLACED + timedelta(days=1)
    fulfilment = {"id": 5001, "order_id": 1, "created_at": shipped.isoformat(), "tracking_company": "USPS"}
    newer = dict(fulfilment, tracking_company="UPS", updated_at=(shipped + timedelta(hours=2)).isoformat())
    deliver(
        hooks,
        "orders/updated",
        order_payload(1, "#1001", shipped + timedelta(hours=2), fulfillments=[newer]),
        "w-1",
    )
    late = dict(fulfilment, updated_at=(shipped + timedelta(hours=1)).isoformat())
    assert deliver(hooks, "fulfillments/update", late, "w-2").status_code == 200
    assert stored_order(hook_app, "1001").carrier == "UPS"
    on_time = dict(fulfilment, tracking_company="DHL", updated_at=(shipped + timedelta(hours=3)).isoformat())
    deliver(hooks, "fulfillments/update", on_time, "w-3")
    assert stored_order(hook_app, "1001").carrier == "DHL"


def test_finding_06_a_stale_dispute_update_changes_nothing(hooks: TestClient, engine: Engine) -> None:
    deliver(hooks, "orders/create", order_payload(1, "#1001"), "w-1")
    opened = {
        "id": 77,
        "order_id": 1,
        "type": "chargeback",
        "status": "needs_response",
        "initiated_at": PLACED.isoformat(),
    }
    sent = dict(opened, status="under_review", evidence_sent_on=(PLACED + timedelta(days=2)).isoformat())
    deliver(hooks, "disputes/create", opened, "w-2")
    assert (
        deliver(hooks, "disputes/update", sent, "w-3").json()["outcome"].startswith("dispute 77 updated case")
    )
    stale = deliver(hooks, "disputes/update", opened, "w-4").json()["outcome"]
    assert stale == "dispute 77 unchanged: the payload is older than the stored one"
    with engine.connect() as connection:
        status = connection.execute(select(schema.disputes.c.status)).scalar_one()
    assert status == "under_review"


def test_finding_06_an_orders_import_keeps_refunds_by_id_and_does_not_count_them_twice(
    uow: SqlUnitOfWork, hooks: TestClient, hook_app: FastAPI, engine: Engine
) -> None:
    deliver(hooks, "orders/create", order_payload(1, "#1001"), "w-1")
    deliver(hooks, "refunds/create", refund_payload(9, 1, PLACED + timedelta(days=2)), "w-2")
    stored = stored_order(hook_app, "1001")
    # the orders export's row for it: the same facts, its refunds as one total without an id
    exported = dataclasses.replace(
        stored, refunds=(Refund(Decimal("10.00"), PLACED, "export total"),), shopify_updated_at=None
    )
    summary = import_orders(
        hook_app.state.web.desk.uow, [ImportedOrder(exported, "dana@example.com")], PLACED
    )
    assert (summary.new, summary.updated, summary.unchanged) == (0, 0, 1)
    assert [r.shopify_id for r in stored_order(hook_app, "1001").refunds] == ["9"]
    assert count(engine, schema.refunds) == 1


def test_finding_15_webhook_the_same_new_order_twice_at_once_is_never_5xx(
    hooks: TestClient, engine: Engine
) -> None:
    """orders/create and orders/updated of one new order race to insert it: the loser is
    applied again over the winner's row, not answered 500."""
    deliveries = [
        (topic, order_payload(i, f"#{7000 + i}", PLACED + timedelta(minutes=k)), f"{topic}-{i}")
        for i in range(30)
        for k, topic in enumerate(("orders/create", "orders/updated"))
    ]
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda d: deliver(hooks, *d).status_code, deliveries))
    assert statuses == [200] * 60
    assert (count(engine, schema.orders), count(engine, schema.webhook_deliveries)) == (30, 60)

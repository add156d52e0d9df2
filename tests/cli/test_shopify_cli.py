"""`aftersales shopify sync` against a local fake of Shopify's Admin GraphQL API (a real HTTP
server answering with the documented response shapes: tests/support/shopify_fake.py). The order's
facts, scans and dispute land in the desk; syncing again changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select

from aftersales.adapters.db import schema
from aftersales.cli import cli
from aftersales.domain.errors import ConfigError
from support.shopify_fake import (
    TOKEN,
    FakeShopify,
    dispute_summary,
    fulfillment,
    fulfillment_event,
    line_item,
    order,
    payments_dispute,
)


@pytest.fixture
def shop() -> Iterator[FakeShopify]:
    parcel = fulfillment(
        7001,
        "2026-11-03T10:00:00Z",
        company="UPS",
        number="1Z999AA10123456784",
        events=[
            fulfillment_event(9101, "IN_TRANSIT", "2026-11-04T08:00:00Z", city="Louisville"),
            fulfillment_event(9102, "OUT_FOR_DELIVERY", "2026-11-05T08:00:00Z", city="Chicago"),
        ],
    )
    with FakeShopify() as fake:
        fake.orders.append(
            order(
                5501234567,
                "#1043",
                total="49.90",
                email="ada@example.com",
                buyer="Ada Lovelace",
                line_items=[line_item("MUG-BLK", "Enamel mug", quantity=2, price="24.95")],
                fulfillments=[parcel],
                disputes=[dispute_summary(88001)],
            )
        )
        chargeback = payments_dispute(
            88001,
            amount="49.90",
            reason="PRODUCT_NOT_RECEIVED",
            evidence_due_by="2026-12-01",
            initiated_at="2026-11-20T12:00:00Z",
        )
        fake.disputes[chargeback["id"]] = chargeback
        yield fake


def _sync(tmp_path: Path, shop: FakeShopify, *args: str) -> tuple[int, str, BaseException | None]:
    env = {
        "AFTERSALES_DATA_DIR": str(tmp_path),
        "AFTERSALES_SHOPIFY_ADMIN_URL": shop.graphql_url,
        "AFTERSALES_SHOPIFY_ACCESS_TOKEN": TOKEN,
    }
    result = CliRunner().invoke(cli, ["shopify", "sync", *args], env=env)
    return result.exit_code, result.stdout, result.exception


def test_sync_stores_the_order_its_scans_and_its_dispute_then_changes_nothing(
    tmp_path: Path, shop: FakeShopify
) -> None:
    code, out, _ = _sync(tmp_path, shop, "#1043", "--json")
    assert code == 0, out
    record = json.loads(out)
    assert record["order"] == "1043"
    assert record["outcomes"][0] == "order 1043 saved"
    assert any(o.startswith("dispute 88001 opened case") for o in record["outcomes"])

    engine = create_engine(f"sqlite:///{tmp_path / 'aftersales.db'}")
    with engine.connect() as connection:
        scans = connection.execute(select(schema.fulfillment_events.c.status)).scalars().all()
        last = connection.execute(select(schema.orders.c.last_scan_status)).scalar_one()
        routes = connection.execute(select(schema.cases.c.route)).scalars().all()
    engine.dispose()
    assert (sorted(scans), last, routes) == (
        ["in_transit", "out_for_delivery"],
        "out_for_delivery",
        ["chargeback_risk"],
    )

    code, again, _ = _sync(tmp_path, shop, "1043", "--json")
    assert code == 0
    assert json.loads(again)["outcomes"] == [
        "order 1043 unchanged",
        "scan 9101 of order 1043 already stored",
        "scan 9102 of order 1043 already stored",
        "dispute 88001 unchanged",
    ]


def test_an_order_the_shop_does_not_have_exits_1(tmp_path: Path, shop: FakeShopify) -> None:
    code, out, _ = _sync(tmp_path, shop, "9999")
    assert code == 1
    assert "9999: no such order in the shop" in out


def test_sync_without_the_admin_api_configured_names_the_setting(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["shopify", "sync", "1043"], env={"AFTERSALES_DATA_DIR": str(tmp_path)})
    assert isinstance(result.exception, ConfigError)
    assert "AFTERSALES_SHOPIFY_SHOP" in str(result.exception)

"""`aftersales shopify sync`: order facts from the shop's Admin GraphQL API into the desk."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import click

from aftersales.domain.errors import InputError
from aftersales.domain.orders import OrderSnapshot
from aftersales.ports import ShopOrders
from aftersales.services.shopify_events import apply_snapshot
from aftersales.settings import Settings
from aftersales.wiring import build_routing_kit, open_desk, shop_admin


@click.group()
def shopify() -> None:
    """The shop's live data: the Admin GraphQL API (webhooks arrive at `aftersales serve`)."""


@shopify.command("sync")
@click.argument("orders", nargs=-1)
@click.option(
    "--since",
    metavar="TIME",
    help="Also fetch every order updated at or after TIME (ISO 8601, e.g. 2026-11-01 or 2026-11-01T09:00+00:00).",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was stored as JSON lines.")
@click.pass_obj
def sync_command(settings: Settings, *, orders: tuple[str, ...], since: str | None, as_json: bool) -> None:
    """Fetch ORDERS (names such as "#1043" or 1043, or gids) from the shop and store their
    facts, every carrier scan and every dispute, as the webhooks would.

    \b
    Examples:
      aftersales shopify sync 1043 1044
      aftersales shopify sync --since 2026-11-01 --json

    Needs AFTERSALES_SHOPIFY_SHOP and AFTERSALES_SHOPIFY_ACCESS_TOKEN. Syncing the same order
    twice changes nothing the second time. Requests are paced by the API's query-cost budget.
    """
    if not orders and since is None:
        raise click.UsageError("name at least one order, or give --since")
    start = _since(since) if since else None
    desk = open_desk(settings)
    kit = build_routing_kit(settings)
    synced = missing = 0
    with shop_admin(settings.shopify) as admin:
        for reference, snapshot in _snapshots(admin, orders, start):
            if snapshot is None:
                missing += 1
                _say(
                    {"order": reference, "found": False},
                    f"{reference}: no such order in the shop",
                    as_json=as_json,
                )
                continue
            outcomes = apply_snapshot(desk.uow, kit, snapshot, now=datetime.now(UTC))
            synced += 1
            record = {"order": snapshot.order.number, "found": True, "outcomes": outcomes}
            _say(record, "; ".join(outcomes), as_json=as_json)
    if not as_json:
        click.echo(f"{synced} orders synced, {missing} not found")
    if missing:
        sys.exit(1)


def _snapshots(
    admin: ShopOrders, orders: tuple[str, ...], since: datetime | None
) -> Iterator[tuple[str, OrderSnapshot | None]]:
    """Each named order, then each order updated since ``since``, as they are fetched."""
    for reference in orders:
        yield reference, admin.order_snapshot(reference)
    if since is not None:
        for snapshot in admin.orders_updated_since(since):
            yield snapshot.order.number, snapshot


def _since(raw: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise InputError(f"--since {raw!r} is not an ISO 8601 date or time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _say(record: dict[str, object], line: str, *, as_json: bool) -> None:
    click.echo(json.dumps(record) if as_json else line)

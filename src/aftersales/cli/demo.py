"""`aftersales demo`: the seed's Routing Lab and first-order incidents, routed end to end."""

from __future__ import annotations

import json
import tomllib
from datetime import datetime, timedelta
from typing import Any

import click

from aftersales.adapters.order_file import parse_order
from aftersales.adapters.packaged import read_packaged_text
from aftersales.cli.options import now_option, parse_now
from aftersales.cli.render import render_card
from aftersales.domain.card import card_to_dict
from aftersales.domain.notes import render_notes
from aftersales.domain.orders import OrderFacts
from aftersales.domain.signals import Attachment
from aftersales.services.routing import build_card
from aftersales.settings import Settings
from aftersales.wiring import build_routing_kit

_DAY_FIELDS = {
    "placed_days_ago": "placed_at",
    "fulfilled_days_ago": "fulfilled_at",
    "delivered_days_ago": "delivered_at",
    "last_scan_days_ago": "last_scan_at",
}


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the cards as JSON lines.")
@click.option("--notes", is_flag=True, help="Print the copyable notes after each card.")
@now_option
@click.pass_obj
def demo(settings: Settings, as_json: bool, notes: bool, now_text: str | None) -> None:
    """Route the seed's seven example messages for the demo store and print their cards.

    Uses the built-in demo policy (Northwind Tumblers, New York business hours) unless a
    policy is configured; order facts are placed relative to now.
    """
    kit = build_routing_kit(settings)
    now = parse_now(now_text).astimezone(kit.calendar.tz)
    for message in tomllib.loads(read_packaged_text("demo.toml"))["message"]:
        order = _order(message.get("order"), now)
        attachments = [Attachment(*a.split(":", 1)) for a in message.get("attachments", [])]
        card = build_card(kit, message["text"], now=now, order=order, attachments=attachments)
        if as_json:
            click.echo(json.dumps({"title": message["title"], **card_to_dict(card)}, ensure_ascii=False))
            continue
        click.echo(click.style(f"=== {message['title']}", fg="cyan", bold=True))
        click.echo(f'"{message["text"]}"\n')
        click.echo(render_card(card))
        click.echo("\n" + render_notes(card) if notes else "")


def _order(data: dict[str, Any] | None, now: datetime) -> OrderFacts | None:
    if data is None:
        return None
    facts = {k: v for k, v in data.items() if k not in _DAY_FIELDS}
    for days_field, time_field in _DAY_FIELDS.items():
        if days_field in data:
            facts[time_field] = (now - timedelta(days=data[days_field])).isoformat()
    return parse_order(facts, f"demo order {data.get('number')}")

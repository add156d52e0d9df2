"""`aftersales route`: one message, stdin, or a batch file into decision cards."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import click

from aftersales.adapters.files.order_json import load_order, parse_order
from aftersales.cli.options import now_option, parse_now, policy_option, read_catalogue, with_policy
from aftersales.cli.pasted import sender_text
from aftersales.cli.render import render_card
from aftersales.domain.card import card_to_dict
from aftersales.domain.errors import InputError
from aftersales.domain.notes import render_notes
from aftersales.domain.signals import Attachment
from aftersales.services.routing import RoutingKit, build_card
from aftersales.settings import Settings
from aftersales.wiring import build_routing_kit


@click.command()
@click.argument("text", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (one per line with --batch).")
@click.option("--notes", is_flag=True, help="Also print the copyable lesson notes (Markdown).")
@click.option(
    "--order",
    "order_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Order facts as JSON: placed, fulfilled, last scan, delivered, promise window, items, refunds.",
)
@click.option(
    "--attach",
    "attachments",
    multiple=True,
    metavar="NAME:TYPE",
    help="An attachment that came with the message, e.g. photo.jpg:image/jpeg (repeatable).",
)
@click.option(
    "--batch",
    "batch_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help='Route every line of a JSONL ({"id", "text", "order"?}) or CSV (id,text) file.',
)
@click.option(
    "--catalogue",
    "catalogue_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="CSV of the store's SKUs (sku,title,variant) so SKU mentions are recognised.",
)
@policy_option
@now_option
@click.pass_obj
def route(
    settings: Settings,
    *,
    text: str | None,
    as_json: bool,
    notes: bool,
    order_file: Path | None,
    attachments: tuple[str, ...],
    batch_file: Path | None,
    catalogue_file: Path | None,
    policy_file: Path | None,
    now_text: str | None,
) -> None:
    """Route a customer message into a decision card.

    TEXT is the message; "-" (or nothing, with input piped in) reads it from stdin.

    \b
    Examples:
      aftersales route "I ordered black and got white, I don't want to wait"
      aftersales route --order order.json --notes "Tracking hasn't moved for 5 days"
      aftersales route --json - < message.txt
      aftersales route --batch messages.jsonl --json > cards.jsonl
    """
    kit = build_routing_kit(with_policy(settings, policy_file), read_catalogue(catalogue_file))
    now = parse_now(now_text)
    if batch_file is not None:
        _route_batch(kit, batch_file, now)
        return
    message = _message_text(text)
    order = load_order(order_file) if order_file else None
    card = build_card(kit, sender_text(message), now=now, order=order, attachments=_attachments(attachments))
    if as_json:
        payload = card_to_dict(card)
        if notes:
            payload["notes"] = render_notes(card)
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    click.echo(render_card(card))
    if notes:
        click.echo("\n" + render_notes(card))


def _message_text(text: str | None) -> str:
    if text is not None and text != "-":
        return text
    if text is None and sys.stdin.isatty():
        raise click.UsageError('give the message as TEXT, or "-" to read it from stdin')
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"stdin is not UTF-8 text (byte {error.start}: {data[error.start]:#04x})") from None


def _attachments(values: tuple[str, ...]) -> list[Attachment]:
    found = []
    for value in values:
        name, _, content_type = value.partition(":")
        if not content_type:
            raise click.BadParameter(
                f"{value!r}: write NAME:TYPE, e.g. photo.jpg:image/jpeg", param_hint="--attach"
            )
        found.append(Attachment(name, content_type))
    return found


def _route_batch(kit: RoutingKit, path: Path, now: Any) -> None:
    """One JSON object per input line, in input order; a bad line gets an error object."""
    show_progress = sys.stderr.isatty()
    routed = failed = 0
    with _open_text(path) as handle:
        for number, item in enumerate(_batch_items(handle, path), 1):
            result = _route_item(kit, item, now)
            failed += "error" in result
            routed += "error" not in result
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
            if show_progress and number % 500 == 0:
                click.echo(f"\r{number} messages routed", err=True, nl=False)
    prefix = "\r" if show_progress else ""
    click.echo(f"{prefix}{routed} routed, {failed} failed: {path}", err=True)


def _open_text(path: Path) -> TextIO:
    try:
        return path.open(encoding="utf-8", errors="replace", newline="")
    except OSError as error:
        raise InputError(f"cannot read the batch file: {error.strerror}", str(path)) from None


def _batch_items(handle: TextIO, path: Path) -> Iterator[dict[str, Any]]:
    """Decoded lines: {"line", "id", "text", "order"?} or {"line", "error"}."""
    if path.suffix.lower() == ".csv":
        yield from _csv_items(handle, path)
        return
    for number, line in enumerate(handle, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            yield {"line": number, "error": f"line {number}: not valid JSON ({error.msg})"}
            continue
        if not isinstance(item, dict):
            yield {"line": number, "error": f'line {number}: expected an object with "id" and "text"'}
            continue
        yield {"line": number, **item}


def _csv_items(handle: TextIO, path: Path) -> Iterator[dict[str, Any]]:
    reader = csv.DictReader(handle)
    if reader.fieldnames is None or "text" not in reader.fieldnames:
        raise InputError("the CSV needs a header with columns id,text", str(path))
    for row in reader:
        yield {"line": reader.line_num, "id": row.get("id"), "text": row.get("text")}


def _route_item(kit: RoutingKit, item: dict[str, Any], now: Any) -> dict[str, Any]:
    line = item.get("line")
    base = {"id": item.get("id", line), "line": line}
    if "error" in item:
        return {**base, "error": item["error"]}
    text = item.get("text")
    if not isinstance(text, str):
        return {**base, "error": f'line {line}: "text" must be a string'}
    try:
        order = parse_order(item["order"], f"line {line}: order") if item.get("order") else None
        card = build_card(kit, sender_text(text), now=now, order=order)
    except InputError as error:
        problem = error.problem if error.where else str(error)
        where = error.where or f"line {line}"
        return {**base, "error": f"{where}: {problem}"}
    return {**base, **card_to_dict(card)}

"""`aftersales demo`: the demo store's week in the case desk, and the seed's Routing Lab."""

from __future__ import annotations

import json
import secrets
import tempfile
import tomllib
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import click

from aftersales.adapters.files.order_json import parse_order
from aftersales.adapters.files.packaged import read_packaged_text
from aftersales.adapters.mail.message_files import read_messages
from aftersales.adapters.shopify.products_csv import read_products
from aftersales.cli.audit import write_demo_files
from aftersales.cli.cases import cases as cases_command
from aftersales.cli.demo_disputes import seed_demo_disputes
from aftersales.cli.options import now_option, parse_now
from aftersales.cli.render import render_card
from aftersales.cli.serve import serve
from aftersales.domain.accounts import Role
from aftersales.domain.card import card_to_dict
from aftersales.domain.cases import CaseStatus
from aftersales.domain.messages import ParseProblem
from aftersales.domain.notes import render_notes
from aftersales.domain.orders import OrderFacts
from aftersales.domain.policy_texts import PolicyKind
from aftersales.domain.replies import format_moment, render_reply
from aftersales.domain.signals import Attachment
from aftersales.domain.sla.calendar import due_at
from aftersales.services.accounts import add_user, set_password
from aftersales.services.desk import change_status
from aftersales.services.intake import Incoming, take_in
from aftersales.services.policy_versions import add_policy_texts
from aftersales.services.products_import import import_products
from aftersales.services.replies import Reply, send_reply
from aftersales.services.review_requests import schedule_and_send
from aftersales.services.routing import RoutingKit, build_card
from aftersales.services.sla import tick
from aftersales.settings import Settings
from aftersales.wiring import Desk, build_routing_kit, open_desk, password_hasher

DEMO_EMAIL = "demo@northwind.example"
_DAY_FIELDS = {
    "placed_days_ago": "placed_at",
    "fulfilled_days_ago": "fulfilled_at",
    "delivered_days_ago": "delivered_at",
    "last_scan_days_ago": "last_scan_at",
}


@click.command()
@click.option("--lab", is_flag=True, help="Print the seed's Routing Lab cards instead of filling the desk.")
@click.option("--json", "as_json", is_flag=True, help="With --lab: the cards as JSON lines.")
@click.option("--notes", is_flag=True, help="With --lab: the copyable notes after each card.")
@click.option("--serve", "then_serve", is_flag=True, help="Then serve the web desk (as `aftersales serve`).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65_535), help="With --serve.")
@now_option
@click.pass_context
def demo(
    ctx: click.Context,
    *,
    lab: bool,
    as_json: bool,
    notes: bool,
    then_serve: bool,
    port: int,
    now_text: str | None,
) -> None:
    """The demo store (Northwind Tumblers): a week of customer messages in the case desk.

    Fills the desk's database (the data folder's SQLite file by default) with the store's
    orders and a week of messages over every route, with some replies and status moves,
    advances the clocks, and prints the queue. It fills an empty desk only; run it with
    another AFTERSALES_DATA_DIR for a fresh one. `--lab` prints the seed's Routing Lab
    messages and first-order incidents as decision cards instead (no database).
    """
    settings: Settings = ctx.obj
    kit = build_routing_kit(settings)
    now = parse_now(now_text).astimezone(kit.calendar.tz)
    if lab:
        _lab(kit, now, as_json=as_json, notes=notes)
        return
    desk = open_desk(settings)
    seeded = _seed_week(desk, kit, now)
    products, feed = write_demo_files(settings.data_dir / "demo")
    if seeded:
        _import_catalogue(desk, products, now)
    click.echo(
        f"demo store {kit.policy.store_name}: {seeded}\n"
        if seeded
        else "the desk already has cases; showing them\n"
    )
    ctx.invoke(cases_command)
    click.echo("\nNext: `aftersales case ID` for one case, `aftersales reply ID --text ...` to answer.")
    click.echo(
        "The week's repeats as write-back tasks: `aftersales review`; a dispute's evidence: `aftersales packet 1043`."
    )
    click.echo(
        f"The catalogue's feed, with planted defects: aftersales audit-feed --products {products} --feed {feed}"
    )
    password = _demo_account(desk, now)
    click.echo(f"Web desk (`aftersales serve`): sign in as {DEMO_EMAIL} with the password {password}")
    if then_serve:
        ctx.invoke(serve, port=port)


def _seed_policy_texts(desk: Desk, now: datetime) -> None:
    """The store's refund, return and shipping texts as version 1, linking every demo order."""
    data = tomllib.loads(read_packaged_text("demo_policy_texts.toml"))
    texts = {kind: data[kind.value].strip() for kind in PolicyKind}
    effective = now - timedelta(days=data["effective_days_ago"])
    add_policy_texts(desk.policy_texts, texts, effective_at=effective, now=now, by="demo")


def _import_catalogue(desk: Desk, products: Path, now: datetime) -> None:
    """The demo store's products export into the catalogue (the feed audit compares with it)."""
    summary = import_products(desk.catalogue, read_products(products), now)
    if summary.failures:  # the packaged file is ours: a failure here is a bug, said plainly
        raise click.ClickException(f"{products}: {summary.failures[0].reason}")


def _demo_account(desk: Desk, now: datetime) -> str:
    """The demo desk's admin account, with a new random password each run (printed once):
    a fixed password would be a known way into any desk that ever ran the demo."""
    password = secrets.token_urlsafe(12)
    hasher = password_hasher()
    with desk.users() as users:
        if users.user_by_email(DEMO_EMAIL) is None:
            add_user(
                users, hasher, email=DEMO_EMAIL, name="Demo Lead", role=Role.ADMIN, password=password, at=now
            )
        else:
            set_password(users, hasher, DEMO_EMAIL, password)
    return password


def _seed_week(desk: Desk, kit: RoutingKit, now: datetime) -> str:
    with desk.uow() as repo:
        if repo.list_cases(list(CaseStatus), limit=1):
            return ""
    week = tomllib.loads(read_packaged_text("demo_week.toml"))
    with desk.uow() as repo:
        for data in week["order"]:
            order = _order(data, now)
            repo.save_order(order, repo.customer_id(data["customer"], "", now), now)
    counts = {"new_case": 0, "updated_case": 0, "screened": 0, "duplicate": 0}
    with tempfile.TemporaryDirectory() as folder:
        inbox = _write_inbox(Path(folder), week["message"], now)
        for item, plan in zip(
            read_messages(inbox, received_at=now, own_addresses=[kit.policy.support_email]),
            week["message"],
            strict=True,
        ):
            if isinstance(item.result, ParseProblem):
                continue
            message, attachments = item.result
            result = take_in(desk.uow, kit, Incoming(message, item.source, attachments), now=message.sent_at)
            counts[result.outcome.value] += 1
            if result.case_id is not None:
                _follow_up(desk, kit, result.case_id, plan, message.sent_at)
    seed_demo_disputes(desk, kit, now)
    _seed_policy_texts(desk, now)
    tick(desk.uow, kit, now)
    schedule_and_send(desk.review_requests, usage_days=kit.policy.review_request_days, now=now)
    return f"{counts['new_case']} cases opened, {counts['updated_case']} updated, {counts['screened']} auto-replies screened"


def _write_inbox(folder: Path, messages: list[dict[str, Any]], now: datetime) -> Path:
    lines = []
    for number, data in enumerate(messages):
        sent = _moment(now, data["days_ago"], data["at"])
        record = {
            "id": f"demo-{number}",
            "from": data["from"],
            "name": data["name"],
            "subject": data["subject"],
            "text": data["text"],
            "sent_at": sent.isoformat(),
            "channel": "email",
        }
        lines.append(json.dumps(record))
    path = folder / "week.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _follow_up(desk: Desk, kit: RoutingKit, case_id: int, plan: dict[str, Any], sent: datetime) -> None:
    if "reply" in plan:
        at = sent + timedelta(hours=plan["reply"]["after_hours"])
        text = _with_promise(kit, plan["reply"], at)
        send_reply(desk.uow, kit, Reply(case_id=case_id, text=text, author="Sam (support)", at=at))
    if "status" in plan:
        at = sent + timedelta(hours=plan["status"]["after_hours"])
        change_status(desk.uow, kit, case_id, CaseStatus(plan["status"]["to"]), by="Sam (support)", at=at)


def _with_promise(kit: RoutingKit, reply: dict[str, Any], at: datetime) -> str:
    """The reply's text with ``{next_update}`` written as a time the store is open, so the
    demo's replies pass the reply check whatever day the demo is run on."""
    promised = due_at(at, reply.get("promise_business_hours", 8) * 60, kit.calendar)
    return render_reply(reply["text"], {"next_update": format_moment(promised)})


def _moment(now: datetime, days_ago: int, clock: str) -> datetime:
    day = (now - timedelta(days=days_ago)).date()
    moment = datetime.combine(day, time.fromisoformat(clock), tzinfo=now.tzinfo)
    return min(moment, now)


def _lab(kit: RoutingKit, now: datetime, *, as_json: bool, notes: bool) -> None:
    for message in tomllib.loads(read_packaged_text("demo.toml"))["message"]:
        order = _order(message.get("order"), now) if message.get("order") else None
        attachments = [Attachment(*a.split(":", 1)) for a in message.get("attachments", [])]
        card = build_card(kit, message["text"], now=now, order=order, attachments=attachments)
        if as_json:
            click.echo(json.dumps({"title": message["title"], **card_to_dict(card)}, ensure_ascii=False))
            continue
        click.echo(click.style(f"=== {message['title']}", fg="cyan", bold=True))
        click.echo(f'"{message["text"]}"\n')
        click.echo(render_card(card))
        click.echo("\n" + render_notes(card) if notes else "")


def _order(data: dict[str, Any], now: datetime) -> OrderFacts:
    facts = {k: v for k, v in data.items() if k not in _DAY_FIELDS and k != "customer"}
    for days_field, time_field in _DAY_FIELDS.items():
        if days_field in data:
            facts[time_field] = (now - timedelta(days=data[days_field])).isoformat()
    return parse_order(facts, f"demo order {data.get('number')}")

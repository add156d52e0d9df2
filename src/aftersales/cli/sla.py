"""`aftersales sla`: advance the clocks, and answer "when is this due?"."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path

import click

from aftersales.cli.options import now_option, parse_now, policy_option, with_policy
from aftersales.domain.replies import format_moment
from aftersales.domain.sla.calendar import due_at
from aftersales.settings import Settings
from aftersales.wiring import build_routing_kit, business_calendar, open_desk


@click.group()
def sla() -> None:
    """SLA clocks in the store's business hours (time zone, opening hours, holidays)."""


@sla.command("tick")
@now_option
@click.option(
    "--all",
    "every_case",
    is_flag=True,
    help="Look at every open case, not only those whose clocks turn by now (the job layer sweeps hourly).",
)
@click.option("--json", "as_json", is_flag=True, help="Print {cases, breaches, all}.")
@click.pass_obj
def tick_command(settings: Settings, now_text: str | None, *, every_case: bool, as_json: bool) -> None:
    """Advance the open cases' clocks; record at-risk and breach events once each.

    Each case keeps when one of its clocks next turns at risk or breached, so a tick looks
    only at the cases whose moment has come (`--all`: at every open case). Safe to run as
    often as you like (e.g. every minute from cron); `aftersales serve` and `aftersales
    worker` run it on a timer.

    \b
    Examples:
      aftersales sla tick                      the cases due a look now
      aftersales sla tick --all --json         every open case, as JSON
      aftersales sla tick --now 2026-12-01T09:00:00-05:00
    """
    now = parse_now(now_text).astimezone(UTC)
    desk = open_desk(settings)
    from aftersales.services.sla import tick  # noqa: PLC0415 (`sla due` answers without the tick's imports)

    result = tick(desk.uow, build_routing_kit(settings), now, read=desk.read, full=every_case)
    if as_json:
        click.echo(json.dumps({"cases": result.cases, "breaches": result.breaches, "all": every_case}))
        return
    looked_at = "open cases" if every_case else "open cases due a look"
    click.echo(f"{result.cases} {looked_at}: {result.breaches} new breaches recorded")


@sla.command("due")
@click.argument("start", metavar="START")
@click.argument("hours", type=float)
@click.option("--json", "as_json", is_flag=True, help="Print {start, business_hours, due}.")
@policy_option
@click.pass_obj
def due_command(
    settings: Settings, *, start: str, hours: float, as_json: bool, policy_file: Path | None
) -> None:
    """When is something due, HOURS business hours after START (ISO 8601 with offset)?

    \b
    Example:
      aftersales sla due 2026-11-27T16:00:00-05:00 4     -> 2026-11-30T10:00:00-05:00
      (the demo store: Friday closes at 16:00, Saturday is open 10:00-13:00)
    """
    calendar = business_calendar(with_policy(settings, policy_file))
    begin = parse_now(start)
    moment = due_at(begin, hours * 60, calendar)
    if as_json:
        click.echo(
            json.dumps({"start": begin.isoformat(), "business_hours": hours, "due": moment.isoformat()})
        )
        return
    click.echo(f"{moment.isoformat()}  ({format_moment(moment)})")

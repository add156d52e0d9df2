"""`aftersales report`: the trend over the last weeks and the figures per agent."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from aftersales.adapters.files.atomic import write_atomically
from aftersales.adapters.reports.trends import trend_csv, trend_json, trend_markdown, trend_text
from aftersales.cli.options import now_option, parse_now
from aftersales.domain.errors import InputError
from aftersales.domain.trends import MAX_WEEKS
from aftersales.services.trends import DEFAULT_WEEKS, run_trend
from aftersales.settings import Settings
from aftersales.wiring import build_routing_kit, open_desk


@click.command()
@click.option(
    "--weeks",
    type=click.IntRange(1, MAX_WEEKS),
    default=DEFAULT_WEEKS,
    show_default=True,
    help="How many weeks, the last one being --week's.",
)
@click.option(
    "--week",
    "week_day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="DATE",
    help="The last week is the one (Monday to Sunday, store time) containing DATE. Default: this week so far.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON: one object per week, and the agents.")
@click.option(
    "--csv", "as_csv", is_flag=True, help="Print CSV: one figure per row (week, scope, name, metric, value)."
)
@click.option("--markdown", "as_markdown", is_flag=True, help="Print Markdown tables.")
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False, writable=True),
    help="Write the report to this file instead of the terminal.",
)
@now_option
@click.pass_obj
def report(  # noqa: PLR0913  (one parameter per option)
    settings: Settings,
    weeks: int,
    week_day: datetime | None,
    *,
    as_json: bool,
    as_csv: bool,
    as_markdown: bool,
    output: Path | None,
    now_text: str | None,
) -> None:
    """Trends over the last weeks: cases by route, first-response and resolution hours
    (business hours: median and 90th percentile), SLA attainment and satisfaction per week,
    and per agent the cases handled, first-response hours and reopen rate.

    A case counts in the week (Monday 00:00 to Monday 00:00, store time) it opened in;
    imported cases count like any other. docs/reports.md says how each figure is measured.

    \b
    Examples:
      aftersales report                               the last 12 weeks, this one so far
      aftersales report --weeks 12 --json | jq '.weeks[] | {week, first_response_hours}'
      aftersales report --weeks 26 --week 2026-11-29 --csv --output trend.csv
    """
    if sum((as_json, as_csv, as_markdown)) > 1:
        raise click.UsageError("choose one of --json, --csv and --markdown")
    now = parse_now(now_text)
    kit = build_routing_kit(settings)
    day = week_day.date() if week_day is not None else now.astimezone(kit.calendar.tz).date()
    desk = open_desk(settings)
    try:
        trend = run_trend(desk.read_trends, kit, last_day=day, weeks=weeks, now=now.astimezone(UTC))
    finally:
        desk.close()  # a command that ends leaves no connection to a database server behind
    render = trend_json if as_json else trend_csv if as_csv else trend_markdown if as_markdown else trend_text
    text = render(trend)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        write_atomically(output, text.encode("utf-8"))
    except OSError as error:
        raise InputError(f"cannot write the report: {error.strerror or error}", str(output)) from None
    cases = sum(week.cases for week in trend.weeks)
    click.echo(
        f"{trend.weeks[0].week.label} to {trend.weeks[-1].week.label}: {cases} cases; written to {output}",
        err=True,
    )

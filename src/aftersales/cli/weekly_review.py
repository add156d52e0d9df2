"""`aftersales review` (the weekly review) and `aftersales tasks` (its write-back tasks)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from aftersales.adapters.files.atomic import write_atomically
from aftersales.adapters.reports.weekly_review import review_html, review_json, review_markdown, review_text
from aftersales.cli.options import now_option, parse_now
from aftersales.domain.errors import InputError
from aftersales.domain.trends import MAX_WEEKS
from aftersales.domain.writeback import Task, task_to_dict
from aftersales.services.trends import DEFAULT_WEEKS
from aftersales.services.weekly_review import close_task, open_tasks, run_review
from aftersales.settings import Settings
from aftersales.wiring import build_routing_kit, open_desk

_RENDER = {"text": review_text, "markdown": review_markdown, "json": review_json, "html": review_html}


@click.command()
@click.option(
    "--week",
    "week_day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="DATE",
    help="Review the week (Monday to Sunday, store time) containing DATE. Default: this week so far.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(list(_RENDER)),
    default="text",
    show_default=True,
    help="text for the terminal; markdown, json, or a standalone html report with charts.",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False, writable=True),
    help="Write the report to this file instead of the terminal.",
)
@click.option(
    "--trend-weeks",
    type=click.IntRange(0, MAX_WEEKS),
    default=DEFAULT_WEEKS,
    show_default=True,
    help="Weeks of the trend that ends the review (0: none); `aftersales report` prints it alone.",
)
@now_option
@click.pass_obj
def review(  # noqa: PLR0913  (one parameter per option)
    settings: Settings,
    week_day: datetime | None,
    output_format: str,
    output: Path | None,
    trend_weeks: int,
    now_text: str | None,
) -> None:
    """The weekly review: cases by route, SKU, carrier and reason, SLA attainment, and the
    repeats, each filed as a write-back task (a rerun files nothing twice); then the trend
    of the last 12 weeks (docs/reports.md).

    \b
    Examples:
      aftersales review                               this week so far, in the terminal
      aftersales review --week 2026-11-23 --format html --output week48.html
      aftersales review --format json | jq '.findings[].key'
    """
    now = parse_now(now_text)
    kit = build_routing_kit(settings)
    day = week_day.date() if week_day is not None else now.astimezone(kit.calendar.tz).date()
    desk = open_desk(settings)
    try:
        result = run_review(
            desk.weekly_review, kit, day=day, now=now.astimezone(UTC), trend_weeks=trend_weeks
        )
    finally:
        desk.close()  # a command that ends leaves no connection to a database server behind
    report = _RENDER[output_format](result)
    if output is None:
        click.echo(report, nl=False)
        return
    try:
        write_atomically(output, report.encode("utf-8"))
    except OSError as error:
        raise InputError(f"cannot write the report: {error.strerror or error}", str(output)) from None
    click.echo(f"{result.week.label}: {len(result.findings)} findings; report written to {output}", err=True)


@click.group(invoke_without_command=True)
@click.option("--all", "include_closed", is_flag=True, help="Closed tasks too, with their notes.")
@click.option("--json", "as_json", is_flag=True, help="Print the tasks as a JSON list.")
@click.pass_context
def tasks(ctx: click.Context, *, include_closed: bool, as_json: bool) -> None:
    """Write-back tasks: open ones carry over week to week until closed with a note.

    \b
    Examples:
      aftersales tasks                                the open tasks, soonest due first
      aftersales tasks --all --json
      aftersales tasks close 3 --note "Pick bin labels for TMB-20 now show the colour" --by ops@shop.example
    """
    if ctx.invoked_subcommand is not None:
        return
    settings: Settings = ctx.obj
    found = open_tasks(open_desk(settings).weekly_review, include_closed=include_closed)
    if as_json:
        click.echo(json.dumps([task_to_dict(t) for t in found], indent=2, ensure_ascii=False))
        return
    if not found:
        click.echo("no open write-back tasks" if not include_closed else "no write-back tasks")
    for task in found:
        click.echo(_task_line(task))


def _task_line(task: Task) -> str:
    draft = task.draft
    due = draft.due_at.date().isoformat() if draft.due_at else "-"
    owner = draft.owner_name or draft.owner_role or "-"
    line = f"{task.id:>5}  {task.status.value:<6}  due {due}  {owner:<16}  {draft.title}"
    if not task.is_open:
        line += f"\n       closed by {task.closed_by or '-'}: {task.close_note}"
    return line


@tasks.command("close")
@click.argument("task_id", type=int, metavar="ID")
@click.option("--note", required=True, help="What was changed, and where (required).")
@click.option("--by", "closed_by", default="cli", show_default=True, metavar="EMAIL", help="Who closes it.")
@now_option
@click.pass_obj
def close_command(settings: Settings, task_id: int, note: str, closed_by: str, now_text: str | None) -> None:
    """Close write-back task ID with a note saying what was changed.

    \b
    Example:
      aftersales tasks close 3 --note "Variant photos retaken; black and white now differ" --by ana@shop.example
    """
    uow = open_desk(settings).weekly_review
    task = close_task(uow, task_id, by=closed_by, note=note, now=parse_now(now_text).astimezone(UTC))
    click.echo(f"closed task {task.id}: {task.draft.title}")

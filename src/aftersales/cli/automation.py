"""`aftersales holds`, `aftersales review-requests run` and `aftersales export ...`: automation
holds, fair review timing, and the files marketing and review tools import."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from aftersales.adapters.files.atomic import write_atomically
from aftersales.adapters.reports.marketing_exports import (
    as_json_text,
    judgeme_csv,
    judgeme_json,
    open_cases_csv,
    open_cases_json,
    review_requests_csv,
    review_requests_json,
    suppression_csv,
    suppression_json,
)
from aftersales.domain.errors import InputError
from aftersales.domain.review_requests import BuyerState
from aftersales.services.marketing_exports import (
    HoldUnitOfWork,
    held_buyers,
    judgeme_blocklist,
    open_case_properties,
    released_requests,
    suppression_list,
)
from aftersales.services.review_requests import RunSummary, schedule_and_send
from aftersales.settings import Settings
from aftersales.wiring import load_active_policy, open_desk

BACKFILL_DAYS = 60  # a first run asks buyers of the last 60 days, not every order ever delivered


def _time(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else ""


# ---------------------------------------------------------------- holds


@click.command("holds")
@click.option(
    "--json", "as_json", is_flag=True, help="Print [{email, on_hold_since, reason, holds}] as JSON."
)
@click.pass_obj
def holds(settings: Settings, *, as_json: bool) -> None:
    """List the buyers whose automation is on hold, and why.

    A hold is set when a case pauses automation (a damaged, wrong-item or chargeback case, an
    angry message, a review of 2 stars or less) and lifted when that case is resolved or
    closed; a buyer with two held cases stays on hold until both are. Marketing mail and
    review requests wait while a buyer is on hold.

    \b
    Example:
      aftersales holds
      ana@example.com  since 2026-11-24T15:00:00+00:00  wrong_item: wrong_item_collect_proof (case 4)
    """
    buyers = held_buyers(open_desk(settings).holds)
    if as_json:
        click.echo(json.dumps([_buyer_json(b) for b in buyers], indent=2))
        return
    if not buyers:
        click.echo("no buyer is on hold")
    for buyer in buyers:
        cases = ", ".join(f"case {h.case_id}" for h in buyer.holds if h.case_id is not None)
        click.echo(f"{buyer.email}  since {_time(buyer.on_hold_since)}  {buyer.hold_reason} ({cases})")


def _buyer_json(buyer: BuyerState) -> dict[str, Any]:
    return {
        "email": buyer.email,
        "on_hold_since": _time(buyer.on_hold_since),
        "reason": buyer.hold_reason,
        "open_cases": buyer.open_cases,
        "holds": [{"case_id": h.case_id, "reason": h.reason, "since": _time(h.since)} for h in buyer.holds],
    }


# ---------------------------------------------------------------- review requests


@click.group("review-requests")
def review_requests() -> None:
    """Fair review timing: ask every buyer, after the usage window, later while on hold.

    \b
      aftersales review-requests run     schedule, defer or send (run it hourly from cron)
    """


@review_requests.command("run")
@click.option(
    "--json", "as_json", is_flag=True, help="Print {scheduled, deferred, still_deferred, sent, steps}."
)
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help=f"Only orders delivered on or after this date (default: {BACKFILL_DAYS} days ago).",
)
@click.pass_obj
def run_review_requests(settings: Settings, *, as_json: bool, since: datetime | None) -> None:
    """Schedule a review request for each delivered order, then defer or send those due.

    A request is due the policy's review_request_days ([review] in the policy file, 14 by
    default) after delivery. When it is due and the buyer is on hold (see `aftersales holds`)
    it is deferred and the hold's reason is logged; the first run after the hold is lifted
    sends it. No buyer is skipped. "Sent" hands the request to the review tool through the
    exports (`aftersales export review-requests`, and review_requested_at in the open-cases
    feed). Running it again does nothing more.

    \b
    Example (cron, hourly):
      aftersales review-requests run
      scheduled 2, sent 1, deferred 1, still deferred 0
        #1043 ana@example.com  deferred: on hold: wrong_item: wrong_item_collect_proof (case 4, ...)
    """
    now = datetime.now(UTC)
    start = since.replace(tzinfo=UTC) if since else now - timedelta(days=BACKFILL_DAYS)
    days = load_active_policy(settings).review_request_days
    uow = open_desk(settings).review_requests
    summary = schedule_and_send(uow, usage_days=days, now=now, since=start)
    _report_run(summary, as_json=as_json)


def _report_run(summary: RunSummary, *, as_json: bool) -> None:
    counts = {
        "scheduled": summary.scheduled,
        "sent": summary.sent,
        "deferred": summary.deferred,
        "still_deferred": summary.still_deferred,
    }
    if as_json:
        steps = [
            {
                "order_number": s.order_number,
                "email": s.email,
                "action": s.action,
                "reason": s.reason,
                "due_at": _time(s.due_at),
            }
            for s in summary.steps
        ]
        click.echo(json.dumps(counts | {"steps": steps}, indent=2))
        return
    click.echo(", ".join(f"{name.replace('_', ' ')} {count}" for name, count in counts.items()))
    for step in summary.steps:
        click.echo(f"  #{step.order_number} {step.email}  {step.action}: {step.reason}")


# ---------------------------------------------------------------- exports

_FORMAT = click.option(
    "--format",
    "form",
    type=click.Choice(["csv", "json"]),
    default="csv",
    show_default=True,
    help="CSV, or JSON.",
)
_OUTPUT = click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the export to this file (whole or not at all); default: standard output.",
)


@click.group("export")
def export() -> None:
    """Files for marketing and review tools: who is on hold, who has an open case.

    \b
      aftersales export suppression --output suppression.csv
      aftersales export open-cases --format json --output klaviyo-job.json
      aftersales export judgeme-blocklist
      aftersales export review-requests
    """


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(output, text.encode("utf-8"))  # an upload job never sees half a file
    except OSError as error:
        raise InputError(f"cannot write {output}: {error.strerror or error}") from None
    click.echo(f"wrote {output}", err=True)


def _exporter(settings: Settings) -> HoldUnitOfWork:
    return open_desk(settings).holds


@export.command("suppression")
@_FORMAT
@_OUTPUT
@click.pass_obj
def export_suppression(settings: Settings, form: str, output: Path | None) -> None:
    """Addresses to leave out of marketing and review mail now: email, reason, since.

    \b
    Example:
      aftersales export suppression
      email,reason,since
      ana@example.com,wrong_item: wrong_item_collect_proof,2026-11-24T15:00:00Z
    """
    rows = suppression_list(_exporter(settings))
    _emit(suppression_csv(rows) if form == "csv" else as_json_text(suppression_json(rows)), output)


@export.command("open-cases")
@_FORMAT
@_OUTPUT
@click.pass_obj
def export_open_cases(settings: Settings, form: str, output: Path | None) -> None:
    """A per-buyer property feed: email, has_open_case, open_cases, on_hold, hold_reason,
    updated_at, review_request_order, review_requested_at.

    The CSV suits Klaviyo's profile CSV upload (email, then custom properties); the JSON is
    the body of Klaviyo's Bulk Import Profiles API (a list of bodies above 10,000 buyers).
    Buyers whose cases are all closed are listed with has_open_case false.

    \b
    Example:
      aftersales export open-cases --format json --output klaviyo-job.json
    """
    buyers = open_case_properties(_exporter(settings))
    _emit(open_cases_csv(buyers) if form == "csv" else as_json_text(open_cases_json(buyers)), output)


@export.command("judgeme-blocklist")
@_FORMAT
@_OUTPUT
@click.pass_obj
def export_judgeme(settings: Settings, form: str, output: Path | None) -> None:
    """The buyers on hold, for Judge.me's review request e-mail blocklist.

    Judge.me takes the blocklist as addresses separated by commas (Settings > Request
    scheduling > Manage blocklists); the JSON's field_value is that text. Replace the field
    with each new export: a buyer whose hold was lifted must leave the list.

    \b
    Example:
      aftersales export judgeme-blocklist --format json
    """
    emails = judgeme_blocklist(_exporter(settings))
    _emit(judgeme_csv(emails) if form == "csv" else as_json_text(judgeme_json(emails)), output)


@export.command("review-requests")
@_FORMAT
@_OUTPUT
@click.pass_obj
def export_review_requests(settings: Settings, form: str, output: Path | None) -> None:
    """The review requests sent (handed over): email, order, delivery, due and sent times,
    how many days holds deferred them, and the log of why.

    \b
    Example:
      aftersales export review-requests --output review-requests.csv
    """
    rows = released_requests(open_desk(settings).read_review_requests)
    _emit(review_requests_csv(rows) if form == "csv" else as_json_text(review_requests_json(rows)), output)

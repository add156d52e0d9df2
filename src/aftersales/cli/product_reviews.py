"""`aftersales import reviews FILE`: a Judge.me or Yotpo review export into the desk.

The command object is registered in the `import` group by `cli/imports.py`."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from aftersales.adapters.files.product_review_exports import read_reviews
from aftersales.services.product_reviews_import import ReviewDesk, ReviewImportSummary, import_reviews
from aftersales.settings import Settings
from aftersales.wiring import build_routing_kit, open_desk

_SHOWN_FAILURES = 20
_PROGRESS_EVERY = 100


@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def import_reviews_file(settings: Settings, *, file: Path, as_json: bool) -> None:
    """Import the reviews of a Judge.me or Yotpo review export (CSV) FILE.

    \b
    Examples:
      aftersales import reviews judgeme-reviews.csv
      aftersales import reviews yotpo_reviews_export.csv --json

    The format is told from the header; columns are found by name. Each review is stored and
    linked to the order the desk holds (the export's order id or number) and to its SKU (the
    order's only SKU, else the product handle's only SKU). A review of 2 stars or less opens a
    review case, routed and clocked like any message, and puts the buyer's automation on
    hold. A row with a bad value is reported with its line number and the others are still
    imported; importing the same file again changes nothing.
    """
    export = read_reviews(file)
    desk = open_desk(settings)
    target = ReviewDesk(desk.reviews, desk.uow, build_routing_kit(settings))
    show_progress = sys.stderr.isatty()
    summary = import_reviews(
        target, export.reviews, now=datetime.now(UTC), on_each=_progress if show_progress else None
    )
    if show_progress:
        click.echo("\r", err=True, nl=False)
    _report(file, export.source.value, summary, as_json=as_json)


reviews_command = click.command("reviews")(import_reviews_file)


def _progress(handled: int) -> None:
    if handled % _PROGRESS_EVERY == 0:
        click.echo(f"\r{handled} reviews imported", err=True, nl=False)


def _report(file: Path, source: str, summary: ReviewImportSummary, *, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(_as_dict(file, source, summary), indent=2))
        return
    click.echo(
        f"{file} ({source}): {summary.stored} new reviews, {summary.updated} updated, "
        f"{summary.unchanged} unchanged, {summary.failed} failed; "
        f"{summary.cases_opened} review cases opened, {summary.held} buyers' automation on hold"
    )
    for problem in summary.failures[:_SHOWN_FAILURES]:
        click.echo(f"  line {problem.line}: {problem.reason}")
    if summary.failed > _SHOWN_FAILURES:
        click.echo(f"  ... and {summary.failed - _SHOWN_FAILURES} more (--json lists them all)")


def _as_dict(file: Path, source: str, summary: ReviewImportSummary) -> dict[str, object]:
    return {
        "path": str(file),
        "source": source,
        "stored": summary.stored,
        "updated": summary.updated,
        "unchanged": summary.unchanged,
        "cases_opened": summary.cases_opened,
        "held": summary.held,
        "failed": summary.failed,
        "failures": [{"line": p.line, "reason": p.reason} for p in summary.failures],
    }

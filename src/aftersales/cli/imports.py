"""`aftersales import`: shop exports into the desk (`aftersales import orders FILE`,
`aftersales import products FILE`; `aftersales import reviews FILE` lives in cli/product_reviews.py,
`aftersales import history FILE_OR_FOLDER` in cli/history.py)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from aftersales.adapters.shopify.orders_csv import read_orders
from aftersales.adapters.shopify.products_csv import read_products
from aftersales.cli.history import history_command
from aftersales.cli.product_reviews import reviews_command
from aftersales.services.orders_import import ImportSummary, import_orders
from aftersales.services.products_import import import_products
from aftersales.settings import Settings
from aftersales.wiring import open_desk

_SHOWN_FAILURES = 20


@click.group(name="import")
def import_group() -> None:
    """Import shop exports into the desk, so cases see the orders their messages name."""


@import_group.command("orders")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def orders_command(settings: Settings, *, file: Path, as_json: bool) -> None:
    """Import the orders of a Shopify Admin "Export orders" CSV FILE.

    Columns are found by name (older and newer exports both work); rows are grouped into
    orders by Name. A new order is added, a changed one updated, and one the desk already holds
    as it is stays untouched: importing the same file again changes nothing. An order with a
    bad value is reported with its line number and the others are still imported.
    """
    orders = read_orders(file)
    desk = open_desk(settings)
    show_progress = sys.stderr.isatty()
    summary = import_orders(desk.uow, orders, datetime.now(UTC), _progress if show_progress else None)
    if show_progress:
        click.echo("\r", err=True, nl=False)
    _report(file, summary, as_json=as_json)


@import_group.command("products")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def products_command(settings: Settings, *, file: Path, as_json: bool) -> None:
    """Import the catalogue from a Shopify Admin "Export products" CSV FILE.

    One variant per row, grouped into products by Handle; rows with only an Image Src add
    images. Columns are found by name (older exports and the renamed columns of newer ones
    both work). A new variant is added, a changed one updated, and one the desk already holds
    as it is stays untouched: importing the same file again changes nothing. A row with a bad
    value (a price, a quantity, a barcode a spreadsheet turned into 1.23457E+12) is reported
    with its line number and the other rows are still imported.

    \b
    Example:
      aftersales import products products_export.csv
      aftersales import products products_export.csv --json
    """
    variants = read_products(file)
    catalogue = open_desk(settings).catalogue
    show_progress = sys.stderr.isatty()
    summary = import_products(
        catalogue, variants, datetime.now(UTC), _variants_progress if show_progress else None
    )
    if show_progress:
        click.echo("\r", err=True, nl=False)
    _report(file, summary, as_json=as_json, what="variants")


def _variants_progress(handled: int) -> None:
    click.echo(f"\r{handled} variants imported", err=True, nl=False)


def _progress(handled: int) -> None:
    click.echo(f"\r{handled} orders imported", err=True, nl=False)


def _report(file: Path, summary: ImportSummary, *, as_json: bool, what: str = "orders") -> None:
    if as_json:
        click.echo(json.dumps(_as_dict(file, summary), indent=2))
        return
    click.echo(
        f"{file}: {summary.new} new {what}, {summary.updated} updated, "
        f"{summary.unchanged} unchanged, {summary.failed} failed"
    )
    for problem in summary.failures[:_SHOWN_FAILURES]:
        click.echo(f"  line {problem.line}: {problem.reason}")
    if summary.failed > _SHOWN_FAILURES:
        click.echo(f"  ... and {summary.failed - _SHOWN_FAILURES} more (--json lists them all)")


def _as_dict(file: Path, summary: ImportSummary) -> dict[str, object]:
    return {
        "path": str(file),
        "new": summary.new,
        "updated": summary.updated,
        "unchanged": summary.unchanged,
        "failed": summary.failed,
        "failures": [{"line": p.line, "reason": p.reason} for p in summary.failures],
    }


import_group.add_command(reviews_command)
import_group.add_command(history_command)

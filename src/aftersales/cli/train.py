"""`aftersales train`: adapt the router to a store's own labelled messages."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import click

from aftersales.adapters.files import private_folder, write_atomically
from aftersales.domain.errors import InputError
from aftersales.domain.routes import Route
from aftersales.services.training import LabelledMessage, adapt_router
from aftersales.settings import Settings
from aftersales.wiring import build_routing_kit, builtin_examples


@click.command()
@click.argument("csv_file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--folds",
    default=5,
    show_default=True,
    type=click.IntRange(2, 20),
    help="Cross-validation folds for the accuracy report.",
)
@click.option("--dry-run", is_flag=True, help="Report the accuracy, but do not save the model.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def train(settings: Settings, csv_file: Path, folds: int, dry_run: bool, as_json: bool) -> None:
    """Adapt the router to your own labelled messages (CSV with columns text,route).

    The router keeps its built-in examples and learns your wording on top of them. The
    report shows the cross-validated accuracy on your messages before and after; the
    model is saved to DATA_DIR/router-model.json and used from then on. Delete that file
    to go back to the built-in router.

    \b
    Routes: pre_purchase cancel_or_change shipping_delay refund_return damaged_item
            wrong_item chargeback_risk review repeat_purchase other
    """
    labelled = read_labelled(csv_file)
    kit = build_routing_kit(settings)
    report, model_data = adapt_router(kit, builtin_examples(), labelled, folds)
    if not dry_run:
        try:
            private_folder(settings.data_dir)
            write_atomically(settings.model_file, json.dumps(model_data).encode("utf-8"))
        except OSError as error:
            raise click.ClickException(
                f"cannot save the model to {settings.model_file}: {error.strerror}"
            ) from None
    if as_json:
        click.echo(
            json.dumps({**report.as_dict(), "saved_to": None if dry_run else str(settings.model_file)})
        )
        return
    click.echo(report.as_text())
    click.echo("(dry run: nothing saved)" if dry_run else f"saved {settings.model_file}")


def read_labelled(path: Path) -> list[LabelledMessage]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or not {"text", "route"} <= set(reader.fieldnames):
                raise InputError("the CSV needs a header with columns text,route", str(path))
            return [_labelled(row, reader.line_num, path) for row in reader]
    except UnicodeDecodeError:
        raise InputError("the file is not UTF-8 text", str(path)) from None


def _labelled(row: dict[str, str], line: int, path: Path) -> LabelledMessage:
    try:
        route = Route((row.get("route") or "").strip())
    except ValueError:
        allowed = ", ".join(r.value for r in Route)
        raise InputError(
            f"unknown route {row.get('route')!r}; allowed: {allowed}", f"{path}:{line}"
        ) from None
    text = (row.get("text") or "").strip()
    if not text:
        raise InputError("empty text", f"{path}:{line}")
    return LabelledMessage(text, route)

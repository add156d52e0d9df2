"""`aftersales train` (a CSV or the desk's own labels) and `aftersales model list|use`: the
store's router model and its versions."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from aftersales.adapters.files.atomic import private_folder
from aftersales.domain.corrections import ModelVersion, version_to_dict
from aftersales.domain.errors import InputError
from aftersales.domain.routes import Route
from aftersales.domain.values import BadValue, read_id
from aftersales.services.learning import desk_labels, learn_from_desk
from aftersales.services.routing import RoutingKit
from aftersales.services.training import LabelledMessage, adapt_router
from aftersales.settings import Settings
from aftersales.wiring import build_routing_kit, builtin_examples, open_desk, router_models


@click.command()
@click.argument("csv_file", required=False, type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--from-desk",
    is_flag=True,
    help="Train on the desk's own labels (every re-route and 'confirm route') instead of a CSV.",
)
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
def train(
    settings: Settings, *, csv_file: Path | None, from_desk: bool, folds: int, dry_run: bool, as_json: bool
) -> None:
    """Adapt the router to your own labelled messages: a CSV with columns text,route, or
    --from-desk, the desk's re-routes and confirmations.

    The router keeps its built-in examples and learns your wording on top of them. The
    report shows the cross-validated accuracy on your messages before and after. Each
    training is kept as a model version (`aftersales model list`). A CSV's model is used
    from then on; a --from-desk model only when its cross-validated score on the desk's
    labels is not below the current model's (the report says which). `aftersales model use
    builtin` goes back to the built-in router.

    \b
    Routes: pre_purchase cancel_or_change shipping_delay refund_return damaged_item
            wrong_item chargeback_risk review repeat_purchase other
    """
    if csv_file is None or from_desk:
        if from_desk == (csv_file is not None):
            raise click.UsageError("give a CSV file or --from-desk (one of them)")
        _train_from_desk(settings, build_routing_kit(settings), folds, dry_run=dry_run, as_json=as_json)
        return
    kit = build_routing_kit(settings)
    labelled = read_labelled(csv_file)
    report, model_data = adapt_router(kit, builtin_examples(), labelled, folds)
    saved = None if dry_run else _save_csv_model(settings, model_data, report.accuracy_after, len(labelled))
    if as_json:
        click.echo(
            json.dumps(
                {
                    **report.as_dict(),
                    "saved_to": None if dry_run else str(settings.model_file),
                    "version": saved.version if saved else None,
                }
            )
        )
        return
    click.echo(report.as_text())
    click.echo(
        "(dry run: nothing saved)"
        if saved is None
        else f"saved {settings.model_file} (version {saved.version})"
    )


def _save_csv_model(settings: Settings, model: dict[str, Any], score: float, labels: int) -> ModelVersion:
    version = ModelVersion(
        version=0,
        score=score,
        labels=labels,
        last_label_id=0,
        trained_at=datetime.now(UTC),
        source="csv",
        promoted=True,  # asked for by name: used from then on, as before model versions
    )
    try:
        private_folder(settings.data_dir)
        return router_models(settings).save(model, version)
    except OSError as error:
        raise click.ClickException(
            f"cannot save the model to {settings.model_file}: {error.strerror}"
        ) from None


def _train_from_desk(
    settings: Settings, kit: RoutingKit, folds: int, *, dry_run: bool, as_json: bool
) -> None:
    desk = open_desk(settings)
    if dry_run:
        labels = desk_labels(desk.read)
        messages = [LabelledMessage(label.text, label.route) for label in labels]
        report, _model = adapt_router(kit, builtin_examples(), messages, folds)
        click.echo(
            json.dumps(report.as_dict()) if as_json else f"{report.as_text()}\n(dry run: nothing saved)"
        )
        return
    private_folder(settings.data_dir)
    learned = learn_from_desk(
        desk.read, kit, router_models(settings), builtin_examples(), at=datetime.now(UTC), folds=folds
    )
    click.echo(json.dumps(learned.as_dict()) if as_json else learned.as_text())


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


@click.group()
def model() -> None:
    """The store's router model versions: each `aftersales train` keeps one."""


@model.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the versions as JSON lines.")
@click.pass_obj
def model_list(settings: Settings, *, as_json: bool) -> None:
    """Every version: its cross-validated score, label count, time, and which is current."""
    models = router_models(settings)
    current = models.current()
    number = current.version if current else None
    for v in models.versions():
        if as_json:
            click.echo(json.dumps(version_to_dict(v) | {"current": v.version == number}))
        else:
            mark = "*" if v.version == number else " "
            click.echo(
                f"{mark} {v.version:>3}  {v.score:6.1%}  {v.labels:>5} labels  {v.source:<4}  "
                f"{v.trained_at:%Y-%m-%d %H:%M} UTC  {'promoted' if v.promoted else 'not promoted'}"
            )
    if not as_json:
        click.echo("current: " + (f"version {number}" if number else "the built-in model"))


@model.command("use")
@click.argument("version")
@click.pass_obj
def model_use(settings: Settings, version: str) -> None:
    """Make VERSION current (a number from `model list`, or 'builtin' for the built-in model).
    A running server picks it up when it is restarted."""
    if version.strip().lower() in {"builtin", "built-in"}:
        router_models(settings).use(None)
        click.echo("the built-in model is current")
        return
    try:
        number = read_id(version, "VERSION")
    except BadValue as problem:
        raise click.BadParameter(f"{problem}, or 'builtin'", param_hint="VERSION") from None
    router_models(settings).use(number)
    click.echo(f"version {number} is current")

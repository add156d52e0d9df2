"""Options and helpers shared by several commands."""

from __future__ import annotations

import csv
import dataclasses
from datetime import datetime
from pathlib import Path

import click

from aftersales.domain.errors import InputError
from aftersales.domain.signals import CatalogueItem
from aftersales.settings import Settings


def parse_now(value: str | None) -> datetime:
    """--now, for reproducible cards; default: the current time."""
    if not value:
        return datetime.now().astimezone()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 time, e.g. 2026-11-27T16:00:00-05:00"
        ) from None
    if moment.tzinfo is None:
        raise click.BadParameter(f"{value!r} needs a UTC offset, e.g. 2026-11-27T16:00:00-05:00")
    return moment


def with_policy(settings: Settings, policy_file: Path | None) -> Settings:
    return dataclasses.replace(settings, policy_file=policy_file) if policy_file else settings


def read_catalogue(path: Path | None) -> tuple[CatalogueItem, ...]:
    """A CSV with columns sku, title, variant (a Shopify products export comes later)."""
    if path is None:
        return ()
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read the catalogue: {error}", str(path)) from None
    if rows and "sku" not in rows[0]:
        raise InputError("the catalogue CSV needs a 'sku' column (and optionally title, variant)", str(path))
    return tuple(
        CatalogueItem(r["sku"].strip(), (r.get("title") or "").strip(), (r.get("variant") or "").strip())
        for r in rows
        if (r.get("sku") or "").strip()
    )


policy_option = click.option(
    "--policy",
    "policy_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Store policy file (TOML). Default: $AFTERSALES_POLICY, DATA_DIR/policy.toml, or the built-in demo policy.",
)
now_option = click.option(
    "--now",
    "now_text",
    metavar="ISO8601",
    help="Pretend it is this moment (e.g. 2026-11-27T16:00:00-05:00), for reproducible output. Default: now.",
)

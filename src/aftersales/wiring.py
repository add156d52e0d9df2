"""The one place that picks concrete adapters and builds what the commands use."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from aftersales.adapters.db.engine import make_engine
from aftersales.adapters.db.migrate import is_current, upgrade
from aftersales.adapters.db.repository import BatchedUnitOfWork, unit_of_work
from aftersales.adapters.files import PRIVATE_FOLDER, make_private
from aftersales.adapters.holidays_calendar import calendar_for
from aftersales.adapters.language import detect_language
from aftersales.adapters.packaged import (
    builtin_cue_book,
    builtin_examples,
    builtin_model,
    builtin_route_specs,
)
from aftersales.adapters.policy_file import default_policy, load_policy
from aftersales.adapters.tracking_formats import load_courier_formats
from aftersales.domain.errors import ConfigError
from aftersales.domain.policy import StorePolicy
from aftersales.domain.routes import Route, RouteSpec
from aftersales.domain.routing.model import NaiveBayes, model_from_dict
from aftersales.domain.routing.specs import with_overrides
from aftersales.domain.signals import CatalogueItem
from aftersales.ports import UnitOfWork
from aftersales.services.routing import RoutingKit
from aftersales.settings import Settings


def load_active_policy(settings: Settings) -> StorePolicy:
    path = settings.active_policy_file()
    return load_policy(path) if path is not None else default_policy()


def store_specs(policy: StorePolicy) -> dict[Route, RouteSpec]:
    return {
        route: with_overrides(
            spec, policy.route_overrides.get(route, {}), policy.sla_overrides.get(route, {})
        )
        for route, spec in builtin_route_specs().items()
    }


def load_store_model(path: Path) -> NaiveBayes | None:
    if not path.is_file():
        return None
    try:
        return model_from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as error:
        raise ConfigError(
            f"{path}: cannot use the router model: {error}; retrain with `aftersales train`"
        ) from None


def build_routing_kit(settings: Settings, catalogue: tuple[CatalogueItem, ...] = ()) -> RoutingKit:
    policy = load_active_policy(settings)
    return RoutingKit(
        book=builtin_cue_book(settings.cache_dir),
        specs=store_specs(policy),
        policy=policy,
        calendar=calendar_for(policy),
        tracking_formats=load_courier_formats(),
        catalogue=catalogue,
        model=load_store_model(settings.model_file) or builtin_model(settings.cache_dir),
        detect_language=detect_language,
    )


__all__ = [
    "Desk",
    "build_routing_kit",
    "builtin_examples",
    "load_active_policy",
    "load_store_model",
    "open_desk",
    "store_specs",
]


@dataclass(frozen=True, slots=True)
class Desk:
    """The case desk's storage, ready to use: an engine and a unit-of-work factory."""

    engine: Engine
    uow: UnitOfWork
    attachments_dir: Path
    read: UnitOfWork  # for reading only: never waits for a writer on SQLite

    def batched(self, size: int) -> BatchedUnitOfWork:
        """A unit of work committing every ``size`` blocks, for bulk intake (call ``flush``)."""
        return BatchedUnitOfWork(self.engine, self.attachments_dir, size)


def open_desk(settings: Settings, *, upgrade_embedded: bool = True) -> Desk:
    """The database in force; the embedded SQLite file is migrated on first use, a database
    given by URL must be upgraded explicitly (`aftersales db upgrade`)."""
    engine = make_engine(settings.database)
    if not is_current(engine):
        if settings.database_url is None and upgrade_embedded:
            upgrade(engine)
        else:
            raise ConfigError(
                f"the database at {engine.url.render_as_string(hide_password=True)} is not at the current "
                "schema: run `aftersales db upgrade`"
            )
    attachments = settings.attachments_dir
    _keep_private(settings)
    return Desk(
        engine,
        unit_of_work(engine, attachments),
        attachments,
        unit_of_work(engine, attachments, writes=False),
    )


def _keep_private(settings: Settings) -> None:
    """The data folder holds customers' mail, their attachments and the password hashes: it
    and its attachments folder are 0700 (an older desk made them readable by all)."""
    for folder in (settings.data_dir, settings.attachments_dir):
        if folder.is_dir():
            make_private(folder, PRIVATE_FOLDER)

"""The one place that picks concrete adapters and builds what the commands use."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from aftersales.adapters.db.engine import make_engine
from aftersales.adapters.db.migrate import is_current, upgrade
from aftersales.adapters.db.repository import BatchedUnitOfWork, unit_of_work
from aftersales.adapters.db.users import users_unit_of_work
from aftersales.adapters.files import PRIVATE_FOLDER, make_private
from aftersales.adapters.holidays_calendar import calendar_for
from aftersales.adapters.language import detect_language
from aftersales.adapters.model_versions import FileModelVersions
from aftersales.adapters.packaged import (
    builtin_cue_book,
    builtin_examples,
    builtin_model,
    builtin_route_specs,
)
from aftersales.adapters.policy_file import default_policy, load_policy
from aftersales.adapters.tracking_formats import load_courier_formats
from aftersales.domain.errors import ConfigError
from aftersales.domain.policy import ReaderUse, StorePolicy
from aftersales.domain.reading import ReadingExample
from aftersales.domain.routes import Route, RouteSpec
from aftersales.domain.routing.cues import with_cues
from aftersales.domain.routing.model import NaiveBayes, model_from_dict
from aftersales.domain.routing.specs import with_overrides
from aftersales.domain.signals import CatalogueItem
from aftersales.ports import Reader, ReadingCache, RouterModels, UnitOfWork, UserRepository
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


def build_routing_kit(
    settings: Settings, catalogue: tuple[CatalogueItem, ...] = (), *, reader_use: ReaderUse | None = None
) -> RoutingKit:
    """``reader_use`` overrides the policy's [reader] use (`eval routing --reader llm`: always)."""
    policy = load_active_policy(settings)
    specs = store_specs(policy)
    return RoutingKit(
        book=with_cues(builtin_cue_book(settings.cache_dir), policy.custom_cues),
        specs=specs,
        policy=policy,
        calendar=calendar_for(policy),
        tracking_formats=load_courier_formats(),
        catalogue=catalogue,
        model=load_store_model(settings.model_file) or builtin_model(settings.cache_dir),
        reader=build_reader(settings, policy, specs, reader_use),
        detect_language=detect_language,
    )


def router_models(settings: Settings) -> RouterModels:
    """The store's model versions: DATA_DIR/models/, the current one at DATA_DIR/router-model.json."""
    return FileModelVersions(settings.data_dir / "models", settings.model_file)


def build_reader(
    settings: Settings,
    policy: StorePolicy,
    specs: Mapping[Route, RouteSpec],
    use: ReaderUse | None = None,
) -> Reader | None:
    """The language-model reader, when AFTERSALES_LLM_BASE_URL names a server. Imported here,
    not at the top: `aftersales route` without one never loads the HTTP client."""
    if settings.llm is None:
        return None
    from aftersales.adapters.llm_reader import LlmReader  # noqa: PLC0415

    reader_policy = policy.reader if use is None else dataclasses.replace(policy.reader, use=use)
    return LlmReader(
        base_url=settings.llm.base_url,
        model=settings.llm.model,
        api_key=settings.llm.api_key,
        policy=reader_policy,
        specs=specs,
        examples=_CorrectedExamples(settings),
        cache=lambda: _reading_cache(settings),
    )


@dataclasses.dataclass(slots=True)
class _CorrectedExamples:
    """The store's newest corrected messages (re-routed cases first, then confirmed ones),
    shown to the language model as examples; read again at most once a minute."""

    settings: Settings
    shown: int = 8
    _examples: tuple[ReadingExample, ...] = ()
    _read_at: float | None = None

    def __call__(self) -> Sequence[ReadingExample]:
        now = time.monotonic()
        if self._read_at is None or now - self._read_at > 60:
            self._read_at = now
            self._examples = self._newest()
        return self._examples

    def _newest(self) -> tuple[ReadingExample, ...]:
        try:
            desk = open_desk(self.settings)
            try:
                with desk.read() as cases:
                    labels = cases.route_labels()
            finally:
                desk.engine.dispose()
        except (ConfigError, OSError, SQLAlchemyError):
            return ()  # no desk yet: the prompt goes without examples
        newest = sorted(labels, key=lambda label: (label.source != "correction", -label.id))
        return tuple(ReadingExample(label.text, label.route) for label in newest[: self.shown])


def _reading_cache(settings: Settings) -> ReadingCache | None:
    """The cache in the store's database; called once per process, after a fork."""
    from aftersales.adapters.db.reader_cache import SqlReadingCache  # noqa: PLC0415

    try:
        open_desk(settings).engine.dispose()  # migrates the embedded database on first use
    except (ConfigError, OSError, SQLAlchemyError):
        return None  # a database not upgraded yet, or out of reach: the reader asks every time
    # unpooled: the cache holds no connection between readings (the desk has its own pool)
    return SqlReadingCache(make_engine(settings.database, pooled=False))


__all__ = [
    "Desk",
    "build_reader",
    "build_routing_kit",
    "builtin_examples",
    "desk_users",
    "load_active_policy",
    "load_store_model",
    "open_desk",
    "router_models",
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


def desk_users(desk: Desk, *, writes: bool = False) -> Callable[[], AbstractContextManager[UserRepository]]:
    """``with desk_users(desk)() as users:`` is one transaction on the desk's users."""
    return users_unit_of_work(desk.engine, writes=writes)


def _keep_private(settings: Settings) -> None:
    """The data folder holds customers' mail, their attachments and the password hashes: it
    and its attachments folder are 0700 (an older desk made them readable by all)."""
    for folder in (settings.data_dir, settings.attachments_dir):
        if folder.is_dir():
            make_private(folder, PRIVATE_FOLDER)

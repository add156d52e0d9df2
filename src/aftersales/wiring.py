"""The one place that picks concrete adapters and builds what the commands use.

Cheap to import: `aftersales route` and `aftersales sla due` import this module and never
touch the database, so every store and outside-system client is imported inside the factory
that builds it (its type under TYPE_CHECKING only). The routing kit's own readers (the policy
file, the cue book, the model, the calendar) are imported at the top: every command builds it.

The shell (``cli/``, ``web/``) gets storage and outside systems only from here; import-linter
holds it to that (pyproject.toml, "the shell reaches storage and outside systems through
wiring"). File parsers and renderers it may import directly.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from aftersales.adapters.business_calendar.holidays import calendar_for
from aftersales.adapters.files.atomic import PRIVATE_FOLDER, make_private, private_folder, write_atomically
from aftersales.adapters.files.packaged import (
    builtin_cue_book,
    builtin_examples,
    builtin_model,
    builtin_route_specs,
)
from aftersales.adapters.files.tracking_formats import load_courier_formats
from aftersales.adapters.policy.file import default_policy, load_policy
from aftersales.adapters.reader.language import detect_language
from aftersales.adapters.reader.semantic import semantic_reader
from aftersales.domain.errors import ConfigError
from aftersales.domain.policy import ReaderUse, StorePolicy
from aftersales.domain.reading import ReadingExample
from aftersales.domain.routes import Route, RouteSpec
from aftersales.domain.routing.cues import with_cues
from aftersales.domain.routing.model import NaiveBayes, model_from_dict
from aftersales.domain.routing.specs import with_overrides
from aftersales.domain.signals import CatalogueItem
from aftersales.domain.sla.calendar import BusinessCalendar
from aftersales.ports import (
    JobLog,
    PasswordHasher,
    Reader,
    ReadingCache,
    RouterModels,
    UnitOfWork,
    UserRepository,
)
from aftersales.settings import MailServer, Settings, ShopifySettings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from aftersales.adapters.db.catalogue import SqlCatalogueRepository
    from aftersales.adapters.db.contact_posts import SqlContactPosts
    from aftersales.adapters.db.feed_links import SqlFeedLinks
    from aftersales.adapters.db.history_import import SqlHistoryStore
    from aftersales.adapters.db.holds import SqlHoldRepository
    from aftersales.adapters.db.mailbox_state import SqlMailboxStates
    from aftersales.adapters.db.outbound_webhooks import SqlWebhookStore
    from aftersales.adapters.db.packet_queries import SqlPacketQueries
    from aftersales.adapters.db.policy_texts import SqlPolicyTextRepository
    from aftersales.adapters.db.presence import SqlPresenceLog
    from aftersales.adapters.db.product_reviews import SqlReviewRepository
    from aftersales.adapters.db.repository import BatchedUnitOfWork
    from aftersales.adapters.db.review_requests import SqlReviewRequestRepository
    from aftersales.adapters.db.trend_queries import TrendStore
    from aftersales.adapters.db.weekly_review_queries import ReviewStore
    from aftersales.adapters.db.writeback_tasks import SqlTaskRepository
    from aftersales.adapters.links import SignedLinks
    from aftersales.adapters.mail.imap import ImapMailbox
    from aftersales.adapters.mail.smtp import SmtpSender
    from aftersales.adapters.shopify.admin import ShopifyAdmin
    from aftersales.adapters.webhook_poster import HttpWebhookPoster
    from aftersales.domain.cases import CaseSummary
    from aftersales.domain.queue import QueueQuery
    from aftersales.services.routing import RoutingKit

__all__ = [
    "Desk",
    "SchemaChange",
    "build_reader",
    "business_calendar",
    "build_routing_kit",
    "builtin_examples",
    "inbox",
    "load_active_policy",
    "load_store_model",
    "mail_links",
    "mail_sender",
    "open_desk",
    "password_hasher",
    "router_models",
    "session_secret",
    "shop_admin",
    "storage_error",
    "store_specs",
    "upgrade_database",
    "webhook_poster",
]


# --- the routing kit: policy, route specs, cue book, model, calendar, reader -------------------


def load_active_policy(settings: Settings) -> StorePolicy:
    path = settings.active_policy_file()
    if path is not None:
        return load_policy(path, cache_dir=settings.cache_dir)
    return default_policy(settings.cache_dir)


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


def current_router_model(settings: Settings) -> NaiveBayes:
    """The store's router model when it has one in use, else the built-in one."""
    return load_store_model(settings.model_file) or builtin_model(settings.cache_dir)


def build_routing_kit(
    settings: Settings, catalogue: tuple[CatalogueItem, ...] = (), *, reader_use: ReaderUse | None = None
) -> RoutingKit:
    """``reader_use`` overrides the policy's [reader] use (`eval routing --reader llm`: always)."""
    from aftersales.services.routing import RoutingKit  # noqa: PLC0415 (`sla due` needs only the calendar)

    policy = load_active_policy(settings)
    specs = store_specs(policy)
    return RoutingKit(
        book=with_cues(builtin_cue_book(settings.cache_dir), policy.custom_cues),
        specs=specs,
        policy=policy,
        calendar=calendar_for(policy, settings.cache_dir),
        tracking_formats=load_courier_formats(),
        catalogue=catalogue,
        model=current_router_model(settings),
        reader=build_reader(settings, policy, specs, reader_use),
        detect_language=detect_language,
        semantic=semantic_reader() if policy.reader.semantic else None,
    )


def business_calendar(settings: Settings) -> BusinessCalendar:
    """The store's business hours, holidays and closures alone (`aftersales sla due`: no cue
    book, model or reader to load)."""
    return calendar_for(load_active_policy(settings), settings.cache_dir)


def router_models(settings: Settings) -> RouterModels:
    """The store's model versions: DATA_DIR/models/, the current one at DATA_DIR/router-model.json."""
    from aftersales.adapters.reader.model_versions import FileModelVersions

    return FileModelVersions(settings.data_dir / "models", settings.model_file)


def build_reader(
    settings: Settings,
    policy: StorePolicy,
    specs: Mapping[Route, RouteSpec],
    use: ReaderUse | None = None,
) -> Reader | None:
    """The language-model reader, when AFTERSALES_LLM_BASE_URL names a server."""
    if settings.llm is None:
        return None
    from aftersales.adapters.reader.llm import LlmReader

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
                desk.close()
        except (ConfigError, OSError, storage_error()):
            return ()  # no desk yet: the prompt goes without examples
        newest = sorted(labels, key=lambda label: (label.source != "correction", -label.id))
        return tuple(ReadingExample(label.text, label.route) for label in newest[: self.shown])


def _reading_cache(settings: Settings) -> ReadingCache | None:
    """The cache in the store's database; called once per process, after a fork."""
    from aftersales.adapters.db.engine import make_engine
    from aftersales.adapters.db.reader_cache import SqlReadingCache

    try:
        open_desk(settings).close()  # migrates the embedded database on first use
    except (ConfigError, OSError, storage_error()):
        return None  # a database not upgraded yet, or out of reach: the reader asks every time
    # unpooled: the cache holds no connection between readings (the desk has its own pool)
    return SqlReadingCache(make_engine(settings.database, pooled=False))


# --- the desk: the database and every store on it ----------------------------------------------


@dataclass(frozen=True, slots=True)
class Desk:
    """The case desk's storage, ready to use. Each store is a method that opens one
    transaction, so the bound method is itself the unit-of-work factory a use case takes:
    ``with desk.users() as users:`` or ``add_user(desk.users, ...)``. The ``read_*`` ones
    are for reading only: on SQLite they never wait for a writer."""

    engine: Engine
    uow: UnitOfWork
    attachments_dir: Path
    read: UnitOfWork  # for reading only: never waits for a writer on SQLite

    def batched(self, size: int) -> BatchedUnitOfWork:
        """A unit of work committing every ``size`` blocks, for bulk intake (call ``flush``)."""
        from aftersales.adapters.db.repository import BatchedUnitOfWork

        return BatchedUnitOfWork(self.engine, self.attachments_dir, size)

    def recent_listings(self) -> Callable[[QueueQuery], list[CaseSummary]]:
        """The queue's listings, each kept a second in this process for the next request
        asking the same (adapters/db/recent_listings.py): the web desk's queue."""
        from aftersales.adapters.db.recent_listings import RecentListings  # noqa: PLC0415 (CLI start)

        return RecentListings(self.engine, self.read)

    def close(self) -> None:
        """Close the desk's pooled connections (a command that ends, a process about to fork)."""
        self.engine.dispose()

    @staticmethod
    def is_locked(error: BaseException) -> bool:
        """Whether ``error`` is the database still busy after every retry: no fault of the
        work that met it."""
        from aftersales.adapters.db.engine import is_locked

        return is_locked(error)

    def users(self) -> AbstractContextManager[UserRepository]:
        """Desk users, their sessions and API tokens."""
        from aftersales.adapters.db.users import users_unit_of_work

        return users_unit_of_work(self.engine)()

    def read_users(self) -> AbstractContextManager[UserRepository]:
        from aftersales.adapters.db.users import users_unit_of_work

        return users_unit_of_work(self.engine, writes=False)()

    def job_log(self) -> AbstractContextManager[JobLog]:
        """The background jobs' runs (``aftersales jobs``, the /jobs page)."""
        from aftersales.adapters.db.job_log import job_log_unit_of_work

        return job_log_unit_of_work(self.engine)()

    def read_job_log(self) -> AbstractContextManager[JobLog]:
        from aftersales.adapters.db.job_log import job_log_unit_of_work

        return job_log_unit_of_work(self.engine, writes=False)()

    def tasks(self) -> AbstractContextManager[SqlTaskRepository]:
        """Write-back tasks (the weekly review's and the feed audit's)."""
        from aftersales.adapters.db.writeback_tasks import tasks_unit_of_work

        tasks: Callable[[], AbstractContextManager[SqlTaskRepository]] = tasks_unit_of_work(self.engine)
        return tasks()

    def holds(self) -> AbstractContextManager[SqlHoldRepository]:
        """Automation holds and buyers' states, for reading (cases set and lift the holds)."""
        from aftersales.adapters.db.holds import holds_unit_of_work

        holds: Callable[[], AbstractContextManager[SqlHoldRepository]] = holds_unit_of_work(self.engine)
        return holds()

    def reviews(self) -> AbstractContextManager[SqlReviewRepository]:
        """Imported product reviews."""
        from aftersales.adapters.db.product_reviews import reviews_unit_of_work

        return reviews_unit_of_work(self.engine)()

    def review_requests(self) -> AbstractContextManager[SqlReviewRequestRepository]:
        from aftersales.adapters.db.review_requests import review_requests_unit_of_work

        requests: Callable[[], AbstractContextManager[SqlReviewRequestRepository]]
        requests = review_requests_unit_of_work(self.engine)
        return requests()

    def read_review_requests(self) -> AbstractContextManager[SqlReviewRequestRepository]:
        from aftersales.adapters.db.review_requests import review_requests_unit_of_work

        requests: Callable[[], AbstractContextManager[SqlReviewRequestRepository]]
        requests = review_requests_unit_of_work(self.engine, writes=False)
        return requests()

    def catalogue(self) -> AbstractContextManager[SqlCatalogueRepository]:
        """The shop's product variants (the products export)."""
        from aftersales.adapters.db.catalogue import catalogue_unit_of_work

        return catalogue_unit_of_work(self.engine)()

    def policy_texts(self) -> AbstractContextManager[SqlPolicyTextRepository]:
        """The store's refund, return and shipping texts, versioned."""
        from aftersales.adapters.db.policy_texts import policy_texts_unit_of_work

        return policy_texts_unit_of_work(self.engine)()

    def read_policy_texts(self) -> AbstractContextManager[SqlPolicyTextRepository]:
        from aftersales.adapters.db.policy_texts import policy_texts_unit_of_work

        return policy_texts_unit_of_work(self.engine, writes=False)()

    def mailbox_states(self) -> AbstractContextManager[SqlMailboxStates]:
        """Each polled mailbox's high-water mark."""
        from aftersales.adapters.db.mailbox_state import mailbox_state_unit_of_work

        return mailbox_state_unit_of_work(self.engine)()

    def packets(self) -> AbstractContextManager[SqlPacketQueries]:
        """What a dispute packet reads, in one transaction that writes nothing."""
        from aftersales.adapters.db.packet_queries import packet_unit_of_work

        return packet_unit_of_work(self.engine)()

    def weekly_review(self) -> AbstractContextManager[ReviewStore]:
        """The weekly review's counts and the tasks it files, on one connection."""
        from aftersales.adapters.db.weekly_review_queries import review_unit_of_work

        review: Callable[[], AbstractContextManager[ReviewStore]] = review_unit_of_work(self.engine)
        return review()

    def read_trends(self) -> AbstractContextManager[TrendStore]:
        """What the trend report reads (`aftersales report`), in one transaction that writes
        nothing."""
        from aftersales.adapters.db.trend_queries import trends_unit_of_work

        return trends_unit_of_work(self.engine)()

    def feed_links(self) -> AbstractContextManager[SqlFeedLinks]:
        """The cases on each SKU, for the feed audit (reading only)."""
        from aftersales.adapters.db.feed_links import feed_links_unit_of_work

        return feed_links_unit_of_work(self.engine)()

    def contact_posts(self) -> AbstractContextManager[SqlContactPosts]:
        """The contact form's accepted posts, counted for its limits."""
        from aftersales.adapters.db.contact_posts import contact_posts_unit_of_work

        return contact_posts_unit_of_work(self.engine)()

    def presence(self) -> AbstractContextManager[SqlPresenceLog]:
        """Who has which case open."""
        from aftersales.adapters.db.presence import presence_unit_of_work

        return presence_unit_of_work(self.engine)()

    def read_presence(self) -> AbstractContextManager[SqlPresenceLog]:
        from aftersales.adapters.db.presence import presence_unit_of_work

        return presence_unit_of_work(self.engine, writes=False)()

    def webhooks(self) -> AbstractContextManager[SqlWebhookStore]:
        """Outbound webhooks: endpoints, deliveries, their attempts, the feed they relay."""
        from aftersales.adapters.db.outbound_webhooks import webhooks_unit_of_work

        return webhooks_unit_of_work(self.engine)()

    def read_webhooks(self) -> AbstractContextManager[SqlWebhookStore]:
        from aftersales.adapters.db.outbound_webhooks import webhooks_unit_of_work

        return webhooks_unit_of_work(self.engine, writes=False)()

    def history(self) -> AbstractContextManager[SqlHistoryStore]:
        """The history import's cases (`aftersales import history`)."""
        from aftersales.adapters.db.history_import import history_unit_of_work

        return history_unit_of_work(self.engine)()

    def read_history(self) -> AbstractContextManager[SqlHistoryStore]:
        """The same, for a dry run: reads, never waits for a writer on SQLite, writes nothing."""
        from aftersales.adapters.db.history_import import history_unit_of_work

        return history_unit_of_work(self.engine, writes=False)()


def open_desk(settings: Settings, *, upgrade_embedded: bool = True) -> Desk:
    """The database in force; the embedded SQLite file is migrated on first use, a database
    given by URL must be upgraded explicitly (`aftersales db upgrade`)."""
    from aftersales.adapters.db.engine import make_engine
    from aftersales.adapters.db.migrate import is_current, upgrade
    from aftersales.adapters.db.repository import unit_of_work

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


@dataclass(frozen=True, slots=True)
class SchemaChange:
    """What `aftersales db upgrade` did: where (no password), from which revision, to which."""

    where: str
    before: str | None
    after: str | None


def upgrade_database(settings: Settings) -> SchemaChange:
    """Create the tables, or migrate them to this version's schema (safe to run again)."""
    from aftersales.adapters.db.engine import make_engine
    from aftersales.adapters.db.migrate import current_revision, head_revision, upgrade

    engine = make_engine(settings.database)
    try:
        before = current_revision(engine)
        upgrade(engine)
        return SchemaChange(engine.url.render_as_string(hide_password=True), before, head_revision())
    finally:
        engine.dispose()


def on_postgres(settings: Settings) -> bool:
    from sqlalchemy.engine import make_url

    return make_url(settings.database).get_backend_name() == "postgresql"


def libpq_url(settings: Settings) -> str:
    """The database URL as psycopg reads it (SQLAlchemy's has a +driver part)."""
    from sqlalchemy.engine import make_url

    return make_url(settings.database).set(drivername="postgresql").render_as_string(hide_password=False)


def upgrade_job_queue(settings: Settings) -> bool | None:
    """On PostgreSQL, create the job queue's tables (procrastinate's) when missing: whether it
    made them; None on SQLite, where the jobs run in the server's process and need no tables."""
    if not on_postgres(settings):
        return None
    from aftersales.adapters.jobs.procrastinate_queue import apply_schema

    return apply_schema(libpq_url(settings))


def storage_error() -> type[Exception]:
    """The base class of what the database layer raises, for the few handlers that must tell a
    storage failure apart (``except storage_error() as error:``); imported only when one is
    raised, so a command that never opens the desk never loads the database layer."""
    from sqlalchemy.exc import SQLAlchemyError

    return SQLAlchemyError


def session_secret(settings: Settings) -> str:
    """The key that signs the web desk's cookies: AFTERSALES_SECRET_KEY, else the data folder's
    own, made once, so restarting the server keeps everyone signed in."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / "secret_key"
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    private_folder(path.parent)
    # a secret: 0600 from the start; two servers starting at once keep the first one's key
    made = write_atomically(path, secrets.token_urlsafe(48).encode("utf-8"), private=True, replace=False)
    return made.decode("utf-8").strip()


def mail_links(settings: Settings) -> SignedLinks:
    """The links put in mail (rating links, case links) on AFTERSALES_PUBLIC_URL, rating links
    signed with a key derived from the web desk's secret."""
    from aftersales.adapters.links import SignedLinks

    return SignedLinks(session_secret(settings), settings.public_url or "")


def _keep_private(settings: Settings) -> None:
    """The data folder holds customers' mail, their attachments and the password hashes: it
    and its attachments folder are 0700 (an older desk made them readable by all)."""
    for folder in (settings.data_dir, settings.attachments_dir):
        if folder.is_dir():
            make_private(folder, PRIVATE_FOLDER)


# --- outside systems: the support inbox, the mail server, the shop; password hashing -------


def inbox(server: MailServer, folder: str, *, timeout: float | None = None) -> ImapMailbox:
    """The support inbox over IMAP, read-only; opened by ``with inbox(...) as box:``."""
    from aftersales.adapters.mail.imap import ImapMailbox

    return ImapMailbox(server, folder) if timeout is None else ImapMailbox(server, folder, timeout=timeout)


def mail_sender(server: MailServer, policy: StorePolicy, *, timeout: float | None = None) -> SmtpSender:
    """Mail from the store (its support address, under its name) through the SMTP server."""
    from aftersales.adapters.mail.smtp import SmtpSender

    if timeout is None:
        return SmtpSender.for_store(server, policy)
    return SmtpSender.for_store(server, policy, timeout=timeout)


def shop_admin(shopify: ShopifySettings) -> ShopifyAdmin:
    """The shop's Admin GraphQL API client (``with shop_admin(...) as admin:``); a
    `ConfigError` names the missing setting."""
    from aftersales.adapters.shopify.admin import ShopifyAdmin

    return ShopifyAdmin.from_settings(shopify)


def webhook_poster() -> HttpWebhookPoster:
    """Outbound webhook deliveries over HTTP (a timeout, no redirects followed); ``close()`` it."""
    from aftersales.adapters.webhook_poster import HttpWebhookPoster

    return HttpWebhookPoster()


def password_hasher() -> PasswordHasher:
    """Argon2id with production parameters (about 0.1 s per hash)."""
    from aftersales.adapters.passwords import password_hasher as argon2_hasher

    return argon2_hasher()

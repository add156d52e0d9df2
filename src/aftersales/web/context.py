"""What every request handler uses, built once when the app starts (the stores, the hasher
and the session key come from wiring)."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from aftersales.adapters.links import SignedLinks
from aftersales.domain.cases import CaseSummary
from aftersales.domain.errors import ConfigError
from aftersales.domain.queue import QueueQuery
from aftersales.ports import PasswordHasher, UserRepository
from aftersales.services.routing import RoutingKit
from aftersales.settings import Settings
from aftersales.wiring import (
    Desk,
    build_routing_kit,
    current_router_model,
    mail_links,
    open_desk,
    password_hasher,
    session_secret,
)

log = logging.getLogger("aftersales.web")
# How often a server looks whether the store's router model file changed: a worker process
# (or the parent of several server processes) retrains and promotes models, not this one.
MODEL_CHECK_SECONDS = 15.0


def _file_mark(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size)


@dataclass(slots=True)
class ModelWatch:
    """The model file as this server last loaded it, and when to look again."""

    path: Path  # the store's model file (gone: the built-in model is used)
    loaded: tuple[int, int] | None
    next_look: float = 0.0

    def changed(self, now: float) -> bool:
        """Whether the file is not the one loaded; looks at most every MODEL_CHECK_SECONDS."""
        if now < self.next_look:
            return False
        self.next_look = now + MODEL_CHECK_SECONDS
        mark = _file_mark(self.path)
        if mark == self.loaded:
            return False
        self.loaded = mark
        return True


@dataclass(slots=True)
class WebDesk:
    """Built once; only ``kit`` is replaced while the server runs (a retrained router model
    is promoted), in one assignment, so a request sees the old kit or the new one."""

    settings: Settings
    desk: Desk
    kit: RoutingKit
    users: Callable[[], AbstractContextManager[UserRepository]]  # ``with web.users() as repo:``
    users_read: Callable[[], AbstractContextManager[UserRepository]]  # the session's user on every page
    hasher: PasswordHasher
    secret_key: str
    links: SignedLinks  # links put in mail: the rating links' signatures are checked with it
    # the queue's listings, each kept a second for the next request asking the same
    listings: Callable[[QueueQuery], list[CaseSummary]]
    model_watch: ModelWatch | None = field(default=None)

    def refresh_model(self) -> None:
        """Use the store's router model file as it is now, when it changed since it was
        loaded (`aftersales worker` promoted a retrained one, or `aftersales model use`)."""
        watch = self.model_watch
        if watch is None or not watch.changed(time.monotonic()):
            return
        try:
            model = current_router_model(self.settings)
        except ConfigError as error:  # half a model is never used: the one in use stays
            log.warning("router model not reloaded: %s", error)
            return
        self.kit = dataclasses.replace(self.kit, model=model)  # one assignment, as a promotion does
        log.info("router model reloaded from %s", watch.path)

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)


def build_web_desk(settings: Settings, hasher: PasswordHasher | None = None) -> WebDesk:
    desk = open_desk(settings)
    return WebDesk(
        settings=settings,
        desk=desk,
        kit=build_routing_kit(settings),
        model_watch=ModelWatch(
            settings.model_file, _file_mark(settings.model_file), time.monotonic() + MODEL_CHECK_SECONDS
        ),
        users=desk.users,
        users_read=desk.read_users,
        hasher=hasher or password_hasher(),
        secret_key=session_secret(settings),
        links=mail_links(settings),
        listings=desk.recent_listings(),
    )

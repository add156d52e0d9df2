"""What every request handler uses, built once when the app starts."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aftersales.adapters.db.users import users_unit_of_work
from aftersales.adapters.files import private_folder, write_atomically
from aftersales.adapters.passwords import password_hasher
from aftersales.ports import PasswordHasher, UserRepository
from aftersales.services.routing import RoutingKit
from aftersales.settings import Settings
from aftersales.wiring import Desk, build_routing_kit, open_desk


@dataclass(slots=True)
class WebDesk:
    """Built once; only ``kit`` is replaced while the server runs (a retrained router model
    is promoted), in one assignment, so a request sees the old kit or the new one."""

    settings: Settings
    desk: Desk
    kit: RoutingKit
    users: Callable[
        [], AbstractContextManager[UserRepository]
    ]  # ``with users() as repo:`` is one transaction on the accounts
    users_read: Callable[
        [], AbstractContextManager[UserRepository]
    ]  # the same, for reading only (the session's user on every page)
    hasher: PasswordHasher
    secret_key: str

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)


def build_web_desk(settings: Settings, hasher: PasswordHasher | None = None) -> WebDesk:
    desk = open_desk(settings)
    return WebDesk(
        settings=settings,
        desk=desk,
        kit=build_routing_kit(settings),
        users=users_unit_of_work(desk.engine),
        users_read=users_unit_of_work(desk.engine, writes=False),
        hasher=hasher or password_hasher(),
        secret_key=settings.secret_key or _stored_secret(settings.data_dir / "secret_key"),
    )


def _stored_secret(path: Path) -> str:
    """The data folder's session key, made once: restarting the server keeps everyone signed in."""
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    private_folder(path.parent)
    key = secrets.token_urlsafe(48)
    write_atomically(path, key.encode("utf-8"), private=True)  # a secret: 0600 from the start
    return key

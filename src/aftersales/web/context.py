"""What every request handler uses, built once when the app starts (the stores, the hasher
and the session key come from wiring)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime

from aftersales.adapters.links import SignedLinks
from aftersales.ports import PasswordHasher, UserRepository
from aftersales.services.routing import RoutingKit
from aftersales.settings import Settings
from aftersales.wiring import Desk, build_routing_kit, mail_links, open_desk, password_hasher, session_secret


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

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)


def build_web_desk(settings: Settings, hasher: PasswordHasher | None = None) -> WebDesk:
    desk = open_desk(settings)
    return WebDesk(
        settings=settings,
        desk=desk,
        kit=build_routing_kit(settings),
        users=desk.users,
        users_read=desk.read_users,
        hasher=hasher or password_hasher(),
        secret_key=session_secret(settings),
        links=mail_links(settings),
    )

"""Desk users and their roles; what each role may do to a case is the table in
``permissions.py``.

A permission rule returns None when the move is allowed, else one sentence a person can read,
so the web desk and the command line show the same reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from aftersales.domain.errors import InputError


class Role(StrEnum):
    FRONTLINE = "frontline"
    OPERATIONS = "operations"
    FOUNDER = "founder"
    SUPPLY_CHAIN = "supply_chain"
    MARKETING = "marketing"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class User:
    id: int
    email: str
    name: str
    role: Role
    active: bool = True


@dataclass(frozen=True, slots=True)
class DeskSession:
    """A signed-in browser: stored on the server, named by the hash of its cookie's token."""

    user: User
    csrf_token: str
    last_seen_at: datetime


MIN_PASSWORD_LENGTH = 10
MAX_EMAIL_LENGTH = 320  # the column's width: the longest address RFC 5321 allows
MAX_NAME_LENGTH = 200
MAX_TOKEN_NAME_LENGTH = 100


@dataclass(frozen=True, slots=True)
class Throttle:
    """At most ``limit`` failed sign-ins within ``window``; after that every attempt, even
    with the right password, waits until the oldest of them has left the window."""

    limit: int
    window: timedelta


ACCOUNT_THROTTLE = Throttle(limit=5, window=timedelta(minutes=15))  # one e-mail address typed
ADDRESS_THROTTLE = Throttle(limit=20, window=timedelta(minutes=15))  # one client address


def wait_after_failures(failures: Iterable[datetime], throttle: Throttle, now: datetime) -> timedelta | None:
    """How long the next attempt must wait, or None when it may go ahead."""
    recent = sorted((at for at in failures if at > now - throttle.window), reverse=True)
    if len(recent) < throttle.limit:
        return None
    return recent[throttle.limit - 1] + throttle.window - now


def refusal_to_manage_users(role: Role) -> str | None:
    if role is not Role.ADMIN:
        return "only an admin may add users, change their roles or issue their tokens"
    return None


def normalised_email(text: str) -> str:
    """The address in lower case; raises InputError unless it looks like one (one "@", a
    dot inside the domain, no spaces). Deliverability is not ours to judge."""
    address = text.strip().lower()
    local, at, domain = address.partition("@")
    looks_like_one = (
        at == "@"
        and local != ""
        and "@" not in domain
        and "." in domain.strip(".")
        and not any(c.isspace() for c in address)
    )
    if not looks_like_one:
        raise InputError(f"{text!r} is not an e-mail address, e.g. ana@example.com")
    if len(address) > MAX_EMAIL_LENGTH:
        raise InputError(f"an e-mail address has at most {MAX_EMAIL_LENGTH} characters")
    return address


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")

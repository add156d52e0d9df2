"""Desk users, their roles, and what each role may do.

A permission rule returns None when the move is allowed, else one sentence a person can read
("a refund of $120.00 is above the frontline limit of $50.00: ask operations"), so the web
desk and the command line show the same reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from aftersales.domain.cases import CaseStatus
from aftersales.domain.errors import InputError
from aftersales.domain.routes import Route


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


MIN_PASSWORD_LENGTH = 10
MAX_EMAIL_LENGTH = 320  # the column's width: the longest address RFC 5321 allows
MAX_NAME_LENGTH = 200
MAX_TOKEN_NAME_LENGTH = 100

# A chargeback threat is the founder's or operations' call to close: a frontline "resolved"
# would stop its clocks while the bank dispute may still be coming.
_FRONTLINE_MAY_NOT_SET: Mapping[str, frozenset[str]] = {
    Route.CHARGEBACK_RISK: frozenset({CaseStatus.RESOLVED, CaseStatus.CLOSED}),
}


def refusal_to_record_decision(role: Role, amount: Decimal | None, frontline_limit: Decimal) -> str | None:
    """A frontline user may record a decision up to the store's frontline limit; others may
    record any."""
    if role is Role.FRONTLINE and amount is not None and amount > frontline_limit:
        return (
            f"a refund of {_dollars(amount)} is above the frontline limit of "
            f"{_dollars(frontline_limit)}: ask operations"
        )
    return None


def refusal_to_change_status(role: Role, route: str, to_status: str) -> str | None:
    if role is Role.FRONTLINE and to_status in _FRONTLINE_MAY_NOT_SET.get(route, frozenset()):
        return f"frontline may not set a {route} case to {to_status}: its lead decides that"
    return None


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


def _dollars(amount: Decimal) -> str:
    return f"${amount:,.2f}"

"""What each role may do to a case, as one table: decide, refund, resolve, close and pause
(set waiting on the customer, which stops the clocks), per route, with a refund limit.

``ROLE_TABLE`` is the only place these boundaries live; the web desk asks the functions below
before a use case runs, and the case page offers only what the table allows. A refusal is one
sentence a person can read ("marketing may not record a refund: ask operations").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from aftersales.domain.accounts import Role
from aftersales.domain.cases import CaseStatus
from aftersales.domain.routes import Route
from aftersales.domain.signals import money


class Action(StrEnum):
    DECIDE = "decide"  # record a decision that gives no money back (reship, defend, decline)
    REFUND = "refund"  # record a decision that gives money back
    RESOLVE = "resolve"
    CLOSE = "close"
    PAUSE = "pause"  # set waiting on the customer: the case's clocks stop
    REROUTE = "reroute"  # change or confirm the case's route (the store's model learns from it)


class RefundLimit(StrEnum):
    NONE = "none"  # may not give money back
    FRONTLINE = "frontline"  # up to the store policy's frontline_refund_limit
    ANY = "any"


@dataclass(frozen=True, slots=True)
class RoleRow:
    """The routes on which a role may take each action, and how much it may give back."""

    routes: Mapping[Action, frozenset[Route]]
    refund_limit: RefundLimit


_EVERY = frozenset(Route)
_BUT_CHARGEBACK = _EVERY - {Route.CHARGEBACK_RISK}
_SUPPLY = frozenset({Route.DAMAGED_ITEM, Route.WRONG_ITEM})
_MARKETING = frozenset({Route.REVIEW, Route.REPEAT_PURCHASE})
_NOTHING: frozenset[Route] = frozenset()


def _row(refund_limit: RefundLimit, **routes: frozenset[Route]) -> RoleRow:
    return RoleRow({Action(name): allowed for name, allowed in routes.items()}, refund_limit)


def _everything() -> RoleRow:
    return _row(RefundLimit.ANY, **{a.value: _EVERY for a in Action})


# A chargeback threat is its lead's (the founder's) or operations' call: a frontline refund,
# resolve or pause would stop its clocks or pay twice while the bank dispute may still come.
# Supply chain and marketing work their own routes; marketing gives no money back. Changing or
# confirming a route ("reroute") follows the same lines: a chargeback case stays its lead's.
ROLE_TABLE: Mapping[Role, RoleRow] = {
    Role.FRONTLINE: _row(
        RefundLimit.FRONTLINE,
        decide=_EVERY,
        refund=_BUT_CHARGEBACK,
        resolve=_BUT_CHARGEBACK,
        close=_BUT_CHARGEBACK,
        pause=_BUT_CHARGEBACK,
        reroute=_BUT_CHARGEBACK,
    ),
    Role.OPERATIONS: _everything(),
    Role.FOUNDER: _everything(),
    Role.ADMIN: _everything(),
    Role.SUPPLY_CHAIN: _row(
        RefundLimit.FRONTLINE,
        decide=_SUPPLY,
        refund=_SUPPLY,
        resolve=_SUPPLY,
        close=_SUPPLY,
        pause=_SUPPLY,
        reroute=_SUPPLY,
    ),
    Role.MARKETING: _row(
        RefundLimit.NONE,
        decide=_MARKETING,
        refund=_NOTHING,
        resolve=_MARKETING,
        close=_MARKETING,
        pause=_MARKETING,
        reroute=_MARKETING,
    ),
}

_STATUS_ACTIONS: Mapping[str, Action] = {
    CaseStatus.RESOLVED: Action.RESOLVE,
    CaseStatus.CLOSED: Action.CLOSE,
    CaseStatus.WAITING_ON_CUSTOMER: Action.PAUSE,
}
_STATUS_WORDS: Mapping[Action, str] = {
    Action.RESOLVE: "resolve",
    Action.CLOSE: "close",
    Action.PAUSE: "pause (set waiting on the customer)",
}
# Words that say money goes back to the buyer; such a decision must carry its amount.
_MONEY_BACK = re.compile(
    r"\b(?:refund\w*|reimburs\w*|(?:money|cash|credit(?:ed)?|pay|paid) back)\b", re.IGNORECASE
)


def may(role: Role, action: Action, route: str) -> bool:
    return route in ROLE_TABLE[role].routes.get(action, _NOTHING)


def says_money_back(decision: str) -> bool:
    return _MONEY_BACK.search(decision) is not None


def missing_refund_amount(decision: str, amount: Decimal | None) -> str | None:
    """A decision that gives money back names how much; "no refund" is recorded with 0."""
    if amount is None and says_money_back(decision):
        return (
            f"the decision {decision[:80]!r} gives money back but has no amount: "
            "enter the amount (0 when nothing is paid back)"
        )
    return None


def refunded_amount(decision: str, amount: Decimal | None) -> Decimal:
    """The most the decision gives back: its amount, or a larger sum its text names
    ("Full refund $5,000 approved" with an amount of 20 is a $5,000 decision)."""
    named = [Decimal(signal.value) for signal in money(decision)] if says_money_back(decision) else []
    return max([amount or Decimal(0), *named])


def refusal_to_record_decision(
    role: Role, route: str, decision: str, amount: Decimal | None, frontline_limit: Decimal
) -> str | None:
    row = ROLE_TABLE[role]
    refund = refunded_amount(decision, amount)
    if refund == 0:
        if may(role, Action.DECIDE, route):
            return None
        return f"{role} may not record a decision on a {route} case: its lead decides that"
    if row.refund_limit is RefundLimit.NONE:
        return f"{role} may not record a refund: ask operations"
    if not may(role, Action.REFUND, route):
        return f"{role} may not record a refund on a {route} case: its lead decides that"
    if row.refund_limit is RefundLimit.FRONTLINE and refund > frontline_limit:
        return (
            f"a refund of {_dollars(refund)} is above the frontline limit of "
            f"{_dollars(frontline_limit)}: ask operations"
        )
    return None


def refusal_to_change_status(role: Role, route: str, to_status: str) -> str | None:
    action = _STATUS_ACTIONS.get(to_status)
    if action is None or may(role, action, route):
        return None  # reopening is everyone's: it only starts the clocks again
    return f"{role} may not {_STATUS_WORDS[action]} a {route} case: its lead decides that"


def refusal_to_reroute(role: Role, route: str) -> str | None:
    """Who may change or confirm a case's route: the roles that work a case on it. Taking a
    case off chargeback risk is its lead's call (its clocks and hold would go with it)."""
    if may(role, Action.REROUTE, route):
        return None
    return f"{role} may not change or confirm the route of a {route} case: its lead decides that"


def statuses_offered(role: Role, route: str, statuses: Iterable[str]) -> list[str]:
    """The moves the case page offers: those the role may make."""
    return [s for s in statuses if refusal_to_change_status(role, route, s) is None]


def may_refund(role: Role, route: str) -> bool:
    return ROLE_TABLE[role].refund_limit is not RefundLimit.NONE and may(role, Action.REFUND, route)


def _dollars(amount: Decimal) -> str:
    return f"${amount:,.2f}"

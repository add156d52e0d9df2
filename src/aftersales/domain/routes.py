"""The ten post-purchase routes and what each one asks of the team.

A route's spec is data (shipped as ``data/routes.toml``, overridable by the store's policy
file); this module only names the routes, their risk order and the shape of a spec.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Route(StrEnum):
    PRE_PURCHASE = "pre_purchase"
    CANCEL_OR_CHANGE = "cancel_or_change"
    SHIPPING_DELAY = "shipping_delay"
    REFUND_RETURN = "refund_return"
    DAMAGED_ITEM = "damaged_item"
    WRONG_ITEM = "wrong_item"
    CHARGEBACK_RISK = "chargeback_risk"
    REVIEW = "review"
    REPEAT_PURCHASE = "repeat_purchase"
    OTHER = "other"


# The leads a route can name: who owns its cases (a store names each one's person in its policy).
LEAD_ROLES: tuple[str, ...] = ("frontline", "operations", "founder", "supply_chain", "marketing")

# When a message carries several routes, the riskiest one leads (DESIGN.md).
RISK_ORDER: tuple[Route, ...] = (
    Route.CHARGEBACK_RISK,
    Route.WRONG_ITEM,
    Route.DAMAGED_ITEM,
    Route.SHIPPING_DELAY,
    Route.CANCEL_OR_CHANGE,
    Route.REFUND_RETURN,
    Route.REVIEW,
    Route.PRE_PURCHASE,
    Route.REPEAT_PURCHASE,
    Route.OTHER,
)


def risk_rank(route: Route) -> int:
    """0 for the riskiest route."""
    return RISK_ORDER.index(route)


@dataclass(frozen=True, slots=True)
class EvidenceSpec:
    """One item of first evidence, and the signal that shows it is already in hand."""

    key: str
    label: str
    detected_by: str | None = None  # a signal kind or order fact name; None: only a person can tick it


@dataclass(frozen=True, slots=True)
class SlaTargets:
    """Business hours allowed for each clock of a route."""

    first_response_hours: float
    next_update_hours: float
    escalation_hours: float
    resolution_hours: float


@dataclass(frozen=True, slots=True)
class RouteSpec:
    route: Route
    title: str
    frontline_action: str
    risky_route: str
    correct_route: str
    escalation_trigger: str
    lead: str  # a role of LEAD_ROLES
    evidence: tuple[EvidenceSpec, ...]
    write_back: tuple[str, ...]
    first_reply: str  # a template with {placeholders}; see domain/replies.py
    resolution_path: str
    stop_line: str
    record_location: str  # where the next teammate finds the record (the seed's backend path)
    sla: SlaTargets

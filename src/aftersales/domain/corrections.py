"""A person's word on a route: corrections and confirmations become labelled examples, and a
case the router was unsure of carries "check the route" until someone confirms or changes it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from aftersales.domain.card import DecisionCard
from aftersales.domain.routes import Route

# Below this confidence the router's own pick is a coin toss among two or three routes
# (docs/routing.md): a person should look before the case is worked on that route.
UNSURE_BELOW = 0.5


class LabelSource(StrEnum):
    CORRECTION = "correction"  # a person re-routed the case
    CONFIRMATION = "confirmation"  # a person confirmed the route the router chose


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteLabel:
    """The opening message of a case and the route a person gave it."""

    id: int
    case_id: int | None
    text: str
    route: Route
    source: LabelSource
    by: str
    at: datetime


def route_check(card: DecisionCard) -> str:
    """Why a person should check the card's route; "" when the router was sure of it."""
    routing = card.routing
    if routing.confidence < UNSURE_BELOW:
        return f"the router was unsure (confidence {routing.confidence:.2f})"[:200]
    return ""


def card_language(card: DecisionCard) -> str:
    """The language of the card's message (an ISO 639-1 code), "" while the router does not
    detect it (the reader seam of issue 11 adds ``Routing.language``)."""
    language = getattr(card.routing, "language", "")
    return language[:16] if isinstance(language, str) else ""

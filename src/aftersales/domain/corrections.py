"""A person's word on a route: corrections and confirmations become labelled examples, and a
case the router was unsure of carries "check the route" until someone confirms or changes it."""

from __future__ import annotations

from collections.abc import Sequence
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
    """Why a person should check the card's route; "" when the router was sure of it. A
    reading that says itself whether it is unsure (``Routing.unsure``, the reader seam of
    issue 11) is believed; otherwise a confidence below UNSURE_BELOW is unsure."""
    routing = card.routing
    unsure = getattr(routing, "unsure", None)
    if unsure is None:
        unsure = routing.confidence < UNSURE_BELOW
    if unsure:
        return f"the router was unsure (confidence {routing.confidence:.2f})"
    return ""


def card_language(card: DecisionCard) -> str:
    """The language of the card's message (an ISO 639-1 code), "" while the router does not
    detect it (the reader seam of issue 11 adds ``Routing.language``)."""
    language = getattr(card.routing, "language", "")
    return language[:16] if isinstance(language, str) else ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelVersion:
    """One trained router model of the store: its cross-validated accuracy on the labels it
    was trained on, how many (up to which label id), and whether it became the current one."""

    version: int
    score: float
    labels: int
    last_label_id: int
    trained_at: datetime
    source: str  # "desk" (the store's labels) or "csv" (`aftersales train FILE`)
    promoted: bool


def latest_per_case(labels: Sequence[RouteLabel]) -> list[RouteLabel]:
    """A case's newest label wins (re-routed twice, or confirmed after a change): one message,
    one route. Labels of deleted cases are kept as they are."""
    newest: dict[int, RouteLabel] = {}
    loose: list[RouteLabel] = []
    for label in labels:
        if label.case_id is None:
            loose.append(label)
        else:
            newest[label.case_id] = label
    return sorted([*loose, *newest.values()], key=lambda label: label.id)


def held_out_score(current: ModelVersion, hits_on_newer: int, newer: int) -> float:
    """The current model's accuracy on the store's labels, each judged by a model that never
    saw it, as a new model's cross-validated score is: its own cross-validated score on the
    labels it was trained on, and its plain accuracy on the labels that came after it."""
    judged = current.labels + newer
    return (current.score * current.labels + hits_on_newer) / judged if judged else 0.0


def promotes(new_score: float, current_score: float) -> bool:
    """A new model becomes current only when it is not worse than the current one."""
    return new_score >= current_score

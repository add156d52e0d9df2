"""A person's word on a route: corrections and confirmations become labelled examples, and a
case the router was unsure of carries "check the route" until someone confirms or changes it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from aftersales.domain.card import DecisionCard
from aftersales.domain.routes import Route


class LabelSource(StrEnum):
    CORRECTION = "correction"  # a person re-routed the case
    CONFIRMATION = "confirmation"  # a person confirmed the route the router chose
    HISTORY = "history"  # an imported conversation whose tag [history.tag_routes] maps


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
    """Why a person should check the card's route; "" when its reader was sure of it. The
    two readers disagreeing is a reason; so is the local reader being unsure (a low
    confidence, or a message in a language its cue book does not cover)."""
    reading = card.reading
    if reading is not None and reading.local_route is not None and reading.local_route != reading.route:
        return (
            f"the readers disagree: the language model read {reading.route.value}, "
            f"the local reader {reading.local_route.value}"
        )
    unsure = reading.unsure if reading is not None else card.routing.unsure
    if unsure:
        return f"the router was unsure (confidence {card.routing.confidence:.2f})"
    return ""


def card_language(card: DecisionCard) -> str:
    """The language of the card's message (an ISO 639-1 code), "" when it is not known."""
    return card.language[:16]


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


def version_to_dict(version: ModelVersion) -> dict[str, Any]:
    """A model version as JSON-ready data (the versions index, `aftersales model list --json`)."""
    return {
        "version": version.version,
        "score": round(version.score, 4),
        "labels": version.labels,
        "last_label_id": version.last_label_id,
        "trained_at": version.trained_at.isoformat(),
        "source": version.source,
        "promoted": version.promoted,
    }


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

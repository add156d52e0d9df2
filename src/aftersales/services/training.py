"""Adapting the router to a store's labelled messages, with an honest accuracy report."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from aftersales.domain.errors import InputError
from aftersales.domain.routes import Route
from aftersales.domain.routing.model import NaiveBayes, features, model_to_dict, train
from aftersales.domain.text import normalise
from aftersales.services.routing import RoutingKit, route_text

# A store's own example counts this many times a built-in one: its wording is the point.
STORE_WEIGHT = 3.0


@dataclass(frozen=True, slots=True)
class LabelledMessage:
    text: str
    route: Route


@dataclass(frozen=True, slots=True)
class TrainingReport:
    examples: int
    per_route: dict[Route, int]
    folds: int
    accuracy_before: float  # the router as it is now, on all the store's messages
    accuracy_after: float  # cross-validated: each message routed by a model that never saw it

    def as_dict(self) -> dict[str, Any]:
        return {
            "examples": self.examples,
            "per_route": {r.value: n for r, n in self.per_route.items()},
            "folds": self.folds,
            "accuracy_before": round(self.accuracy_before, 4),
            "accuracy_after_cross_validated": round(self.accuracy_after, 4),
        }

    def as_text(self) -> str:
        routes = ", ".join(f"{r.value} {n}" for r, n in self.per_route.items())
        return (
            f"{self.examples} labelled messages ({routes})\n"
            f"accuracy before: {self.accuracy_before:.1%} (the current router)\n"
            f"accuracy after:  {self.accuracy_after:.1%} ({self.folds}-fold cross-validated: "
            "each message routed by a model trained without it)"
        )


def _accuracy(kit: RoutingKit, messages: Sequence[LabelledMessage]) -> float:
    hits = sum(route_text(kit, m.text)[0].route is m.route for m in messages)
    return hits / len(messages) if messages else 0.0


def adapt_router(
    kit: RoutingKit,
    builtin: Sequence[tuple[str, Route]],
    labelled: Sequence[LabelledMessage],
    folds: int = 5,
) -> tuple[TrainingReport, dict[str, Any]]:
    if len(labelled) < folds:
        raise InputError(
            f"need at least {folds} labelled messages for {folds}-fold cross-validation, got {len(labelled)}"
        )
    repair = kit.book.repair
    base = train((features(normalise(text, repair)), route) for text, route in builtin)
    store = [(features(normalise(m.text, repair)), m.route) for m in labelled]
    order = list(range(len(labelled)))
    random.Random(0).shuffle(order)
    hits = 0
    for fold in range(folds):
        held = {i for n, i in enumerate(order) if n % folds == fold}
        model = _extend(base, [store[i] for i in order if i not in held])
        fold_kit = replace(kit, model=model)
        hits += sum(route_text(fold_kit, labelled[i].text)[0].route is labelled[i].route for i in held)
    final = _extend(base, store)
    report = TrainingReport(
        examples=len(labelled),
        per_route=dict(Counter(m.route for m in labelled).most_common()),
        folds=folds,
        accuracy_before=_accuracy(kit, labelled),
        accuracy_after=hits / len(labelled),
    )
    return report, model_to_dict(final)


def _extend(base: NaiveBayes, examples: Sequence[tuple[list[str], Route]]) -> NaiveBayes:
    return train(examples, weight=STORE_WEIGHT, base=base)

"""How well a reader routes a labelled set: accuracy, per-route precision and recall, macro-F1,
the confusion matrix (what `aftersales eval routing` prints)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from aftersales.domain.routes import Route

# Macro-F1 over routes with at least this many examples: a route seen twice gives an F1 of
# 0, 0.5 or 1 by luck, and would swing the average.
MIN_SUPPORT = 40


@dataclass(frozen=True, slots=True)
class RouteScore:
    route: Route
    support: int  # labelled examples of this route
    predicted: int  # messages the reader sent to it
    correct: int

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.correct / self.support if self.support else 0.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


@dataclass(frozen=True, slots=True)
class RoutingScores:
    total: int
    correct: int
    routes: tuple[RouteScore, ...]  # every route labelled or predicted, in the table's order
    confusion: dict[tuple[Route, Route], int]  # (labelled, predicted) -> messages

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def macro_f1(self, min_support: int = 1) -> float:
        """The mean F1 over the routes labelled at least ``min_support`` times (0 if none)."""
        scored = [r.f1 for r in self.routes if r.support >= min_support]
        return sum(scored) / len(scored) if scored else 0.0

    def routes_with(self, min_support: int) -> int:
        return sum(1 for r in self.routes if r.support >= min_support)


def score_routing(pairs: Sequence[tuple[Route, Route]]) -> RoutingScores:
    """``pairs``: (labelled, predicted) per message."""
    confusion = Counter(pairs)
    labelled = Counter(expected for expected, _ in pairs)
    predicted = Counter(got for _, got in pairs)
    routes = tuple(
        RouteScore(route, labelled[route], predicted[route], confusion[(route, route)])
        for route in Route
        if labelled[route] or predicted[route]
    )
    return RoutingScores(
        total=len(pairs),
        correct=sum(n for (expected, got), n in confusion.items() if expected is got),
        routes=routes,
        confusion=dict(confusion),
    )


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (``share`` 0.5: the median); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(share * len(ordered))))
    return ordered[rank - 1]

"""How well a reader routes a labelled set: accuracy, per-route precision and recall, macro-F1,
the confusion matrix, and the flags' recall and precision where the set labels them (what
`aftersales eval routing` prints)."""

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


@dataclass(frozen=True, slots=True)
class FlagLabel:
    """One message's flags as its label states them: ``stated`` names the flags the label speaks
    of (set or not), ``labelled`` those it sets; ``raised`` those the reader raised."""

    stated: frozenset[str]
    labelled: frozenset[str]
    raised: frozenset[str]


@dataclass(frozen=True, slots=True)
class FlagScore:
    flag: str
    stated: int  # messages whose label says whether this flag is set
    labelled: int  # of those, the ones it is set on
    raised: int  # of those, the ones the reader raised it on
    correct: int  # set and raised

    @property
    def precision(self) -> float:
        return self.correct / self.raised if self.raised else 0.0

    @property
    def recall(self) -> float:
        return self.correct / self.labelled if self.labelled else 0.0


def score_flags(labels: Sequence[FlagLabel]) -> tuple[FlagScore, ...]:
    """Each flag some label speaks of, scored only on the messages whose label speaks of it
    (a set labelled for routes alone says nothing of anger)."""
    flags = sorted({flag for label in labels for flag in label.stated})
    return tuple(_flag_score(flag, [label for label in labels if flag in label.stated]) for flag in flags)


def _flag_score(flag: str, labels: Sequence[FlagLabel]) -> FlagScore:
    return FlagScore(
        flag=flag,
        stated=len(labels),
        labelled=sum(1 for label in labels if flag in label.labelled),
        raised=sum(1 for label in labels if flag in label.raised),
        correct=sum(1 for label in labels if flag in label.labelled and flag in label.raised),
    )


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (``share`` 0.5: the median); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(share * len(ordered))))
    return ordered[rank - 1]

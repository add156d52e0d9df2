"""A small learned router: multinomial naive Bayes over the router's own normalised words.

It backs up the cue book on wording the cues miss, and it is what `aftersales train`
adapts to a store's own labelled messages. Hand-written rather than scikit-learn because
routing must answer from a cold start in well under a second, and importing scikit-learn
alone takes over a second here; naive Bayes trains in milliseconds on a few thousand
examples and its counts serialise to plain JSON in the store's data folder.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from aftersales.domain.routes import Route
from aftersales.domain.text import NormalisedText

# Words that say nothing about the route; leaving them out sharpens a small model.
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "i",
        "me",
        "my",
        "we",
        "our",
        "you",
        "your",
        "u",
        "ur",
        "it",
        "its",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "am",
        "to",
        "of",
        "and",
        "or",
        "for",
        "in",
        "on",
        "at",
        "with",
        "this",
        "that",
        "these",
        "those",
        "so",
        "just",
        "pls",
        "please",
        "hi",
        "hello",
        "hey",
        "thanks",
        "thank",
        "can",
        "could",
        "would",
        "will",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "there",
        "here",
        "what",
        "how",
        "when",
        "which",
        "who",
    ]
)


# Handles and links say who was written to, not what about: a model that learns
# "@amazonhelp" or "t.co" learns the training text's sources, not its routes.
_ADDRESSING = re.compile(r"[@#]\w+|\bhttps?://\S+|\bwww\.\S+")


def features(normalised: NormalisedText) -> list[str]:
    """Words (crudely stemmed) and adjacent word pairs, without handles and links."""
    noise = [m.span() for m in _ADDRESSING.finditer(normalised.original)]
    kept = (
        w
        for w, (start, _) in zip(normalised.words, normalised.spans, strict=True)
        if not any(a <= start < b for a, b in noise)
    )
    words = [_stem(w) for w in kept if w not in _STOPWORDS]
    return words + [f"{a}_{b}" for a, b in zip(words, words[1:], strict=False)]


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


@dataclass(frozen=True)
class NaiveBayes:
    word_counts: Mapping[Route, Mapping[str, float]]
    totals: Mapping[Route, float]
    priors: Mapping[Route, float]  # log prior per route
    vocabulary: frozenset[str]
    alpha: float = 0.5

    def probabilities(self, words: Sequence[str]) -> dict[Route, float]:
        logs = [self.priors[r] for r in self._routes]
        for word in words:
            row = self._row(word)
            if row is not None:
                logs = [a + b for a, b in zip(logs, row, strict=True)]
        top = max(logs)
        exp = [math.exp(value - top) for value in logs]
        norm = sum(exp)
        return {route: value / norm for route, value in zip(self._routes, exp, strict=True)}

    @cached_property
    def _routes(self) -> tuple[Route, ...]:
        return tuple(self.priors)

    @cached_property
    def _denominators(self) -> tuple[float, ...]:
        return tuple(self.totals[r] + self.alpha * len(self.vocabulary) for r in self._routes)

    @cached_property
    def _rows(self) -> dict[str, tuple[float, ...]]:
        return {}

    def _row(self, word: str) -> tuple[float, ...] | None:
        """log P(word | route) per route, worked out the first time a word is met."""
        row = self._rows.get(word)
        if row is None and word in self.vocabulary:
            row = tuple(
                math.log((self.word_counts[r].get(word, 0.0) + self.alpha) / d)
                for r, d in zip(self._routes, self._denominators, strict=True)
            )
            self._rows[word] = row
        return row

    def top_words(self, route: Route, words: Sequence[str], count: int = 3) -> list[str]:
        """The message's words that most favour this route: the model's part of the trace."""
        column = self._routes.index(route)

        def lift(word: str) -> float:
            row = self._row(word) or ()
            return row[column] - max(row[:column] + row[column + 1 :])

        known = {w for w in words if w in self.vocabulary and self.word_counts[route].get(w)}
        return sorted(known, key=lift, reverse=True)[:count]


def train(
    examples: Iterable[tuple[list[str], Route]], weight: float = 1.0, base: NaiveBayes | None = None
) -> NaiveBayes:
    """Fit (or extend ``base`` with) labelled examples; each example is (features, route)."""
    counts: dict[Route, dict[str, float]] = {r: dict(base.word_counts[r]) if base else {} for r in Route}
    for words, route in examples:
        route_counts = counts[route]
        for word in words:
            route_counts[word] = route_counts.get(word, 0.0) + weight
    # Uniform priors: a store's mix of routes changes week to week, and the risk order, not
    # the base rate, decides between routes that both hold.
    priors = dict.fromkeys(Route, -math.log(len(Route)))
    return NaiveBayes(
        counts,
        {r: float(sum(c.values())) for r, c in counts.items()},
        priors,
        frozenset(w for c in counts.values() for w in c),
    )


def model_to_dict(model: NaiveBayes) -> dict[str, Any]:
    return {
        "kind": "naive_bayes",
        "schema": 1,
        "alpha": model.alpha,
        "priors": {r.value: p for r, p in model.priors.items()},
        "word_counts": {r.value: dict(c) for r, c in model.word_counts.items()},
    }


def model_from_dict(data: Mapping[str, Any]) -> NaiveBayes:
    """Rebuild a model from its JSON form; raises ValueError naming the bad part."""
    if data.get("kind") != "naive_bayes" or data.get("schema") != 1:
        raise ValueError("not an aftersales router model (kind 'naive_bayes', schema 1 expected)")
    try:
        counts = {Route(r): {str(w): float(n) for w, n in c.items()} for r, c in data["word_counts"].items()}
        priors = {Route(r): float(p) for r, p in data["priors"].items()}
        missing = set(Route) - set(counts) - set(priors)
        if missing:
            raise ValueError(f"routes missing from the model: {sorted(missing)}")
        return NaiveBayes(
            counts,
            {r: sum(c.values()) for r, c in counts.items()},
            priors,
            frozenset(w for c in counts.values() for w in c),
            float(data.get("alpha", 0.5)),
        )
    except (KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"model file is incomplete or malformed: {error}") from None

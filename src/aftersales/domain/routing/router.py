"""The router: scores every route, picks the primary by risk, explains itself.

It needs no store history: the cue book (written by us, in the package) carries the
vocabulary, spelling repair absorbs typos, and signals (a tracking number, a dispute
threat) add weight. A store's own trained model, when present, is blended in by the
service layer (see ``services/routing.py``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from aftersales.domain.replies import LANGUAGE_NAMES
from aftersales.domain.routes import RISK_ORDER, Route, risk_rank
from aftersales.domain.routing.cues import CueBook, CueMatch
from aftersales.domain.signals import Signal
from aftersales.domain.text import NormalisedText

# A route "holds" (the message really is about it) at this score: one decisive cue (3),
# or a strong cue plus a supporting one.
HOLD_SCORE = 3.0
# A riskier route takes the lead only when it carries at least this share of the top score,
# so one stray word ("return" in "return address") cannot outrank a clear message.
RISK_OVERRIDE_SHARE = 0.4
# Signals that add weight to a route even when no cue word is present.
SIGNAL_WEIGHTS: Mapping[str, tuple[Route, float]] = {
    "tracking_number": (Route.SHIPPING_DELAY, 1.5),
}
FLAG_WEIGHTS: Mapping[str, tuple[Route, float]] = {
    "threatens_dispute": (Route.CHARGEBACK_RISK, 2.0),
}
# When no route holds, the strongest needs at least this much (a strong cue, or the learned
# model fairly sure) to lead; below it a stray supporting word ("regular", "last time") would
# decide, so the message goes to `other` for a person to read. Measured on real messages:
# 2.0 lifted real-dev macro-F1 from 0.494 to 0.505 and cost the holdout set 0.011 (4,968 examples).
WEAK_SCORE = 2.0
# Below this confidence the router says it is unsure: a person should check the route.
UNSURE_BELOW = 0.4
# What a doubted routing's confidence is held to: just below sure.
DOUBTED_CONFIDENCE = round(UNSURE_BELOW - 0.01, 3)
# The languages the cue book is written in; in any other only the learned model reads words.
CUE_LANGUAGES = frozenset({"en"})
# Languages whose commonest words for damage, delay, a wrong item, a return, a cancellation and
# a dispute the cue book knows (data/cues.toml): their messages route, but are still doubted.
PARTLY_CUED_LANGUAGES = frozenset({"fr", "de", "es"})
# A runner-up within this share of the primary route's score makes the route a close call.
CLOSE_CALL_SHARE = 0.75
# A primary route scoring this much has clear wording behind it: no learned lean or close
# runner-up makes it doubtful.
DOUBT_BELOW_SCORE = 3.5
# The learned model's lean towards another route counts as a doubt from this weight on (where
# a cue holds, the model adds its probability: a lean of 0.8 is an 80 % sure model). Weaker
# leans were mostly wrong on plain requests (Bitext: 1,843 doubted, all routed right).
MODEL_LEAN_WEIGHT = 0.8
# When the router is unsure, the semantic reader (adapters/reader/semantic.py) decides with it:
# the route with the most of ROUTER_SHARE x the router's scores as a softmax plus the rest x
# the semantic reader's probabilities. Picked on the project's own holdout and evaluation sets
# among 0.3, 0.5 and 0.7 (0.5 was best on both); real-dev was only measured (docs/benchmarks.md).
ROUTER_SHARE = 0.5
# The semantic reader reads the messages the router is less sure of than this (the unsure ones
# and the next band up). Picked among 0.4 (the unsure only), 0.5, 0.6 and 0.7 on the holdout and
# evaluation sets and two sets of store e-mails written apart: 0.6 raised the holdout set by
# 0.007 and lowered none; 0.7 cost the evaluation set and a store set.
MEANING_BELOW = 0.6
# Problems whose evidence comes first: meaning never demotes them once their words hold,
# unless the semantic reader all but rules them out (below EVIDENCE_FLOOR). The floor was
# picked on the holdout and evaluation sets and two sets of store e-mails written apart (A, B)
# among 0.05, 0.1 and 0.2; without it, a third set's store e-mails read 0.860, with it 0.880
# (docs/benchmarks.md).
EVIDENCE_FIRST = frozenset({Route.CHARGEBACK_RISK, Route.WRONG_ITEM, Route.DAMAGED_ITEM})
EVIDENCE_FLOOR = 0.10
# A veto this strong says the message only looks like the route ("nothing was broken"): the
# semantic reader, which reads the look, may not choose it. Weaker vetoes only weigh.
STRONG_VETO = -4.0


@dataclass(frozen=True, slots=True)
class TraceItem:
    route: Route
    weight: float
    reason: str  # "cue", "signal", "flag", "model" (learned words), "reader" or "meaning"
    evidence: str  # the pattern or signal name
    quote: str  # the customer's own words
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Routing:
    route: Route
    secondary: tuple[Route, ...]
    scores: Mapping[Route, float]
    confidence: float
    confidence_label: str
    trace: tuple[TraceItem, ...]
    decided_by: str  # one sentence on why this route leads
    # each route's probability as the semantic reader read the message; empty when it did not
    # (the router was sure, or no semantic reader is installed)
    probabilities: Mapping[Route, float] = field(default_factory=dict)
    language: str = ""  # ISO 639-1 code of the message's language, "" when not detected
    doubts: tuple[str, ...] = ()  # why the router is unsure, when it is
    # the semantic reader would have read it but was left out for speed (bulk intake): the
    # case is read again by meaning later (services/rereading.py)
    meaning_due: bool = False

    @property
    def unsure(self) -> bool:
        """The router is not sure of this route: a person should check it."""
        return self.confidence < UNSURE_BELOW


def score_routes(
    normalised: NormalisedText, book: CueBook, signals: Sequence[Signal]
) -> tuple[dict[Route, float], list[TraceItem]]:
    scores = dict.fromkeys(RISK_ORDER, 0.0)
    trace = [_cue_trace(m, normalised.original) for m in book.matches(normalised)]
    trace.extend(_signal_trace(signals, normalised.original))
    for item in trace:
        scores[item.route] += item.weight
    return scores, trace


def _cue_trace(match: CueMatch, text: str) -> TraceItem:
    return TraceItem(
        match.cue.route,
        match.cue.weight,
        "cue",
        match.cue.pattern,
        text[match.start : match.end],
        match.start,
        match.end,
    )


def _signal_trace(signals: Sequence[Signal], text: str) -> list[TraceItem]:
    items: list[TraceItem] = []
    for signal in signals:
        key = signal.value if signal.kind == "flag" else signal.kind
        table = FLAG_WEIGHTS if signal.kind == "flag" else SIGNAL_WEIGHTS
        if key in table:
            route, weight = table[key]
            reason = "flag" if signal.kind == "flag" else "signal"
            items.append(TraceItem(route, weight, reason, key, signal.quote(text), signal.start, signal.end))
    return items


def choose(scores: Mapping[Route, float], trace: Sequence[TraceItem]) -> Routing:
    """Primary route by risk among the routes that hold; the others become secondary."""
    top = max(scores.values())
    if top < WEAK_SCORE:
        return _fallback(scores, trace)
    holding = [r for r in RISK_ORDER if scores[r] >= HOLD_SCORE]
    strongest = max(RISK_ORDER, key=scores.__getitem__)  # ties go to the riskier route
    contenders = [r for r in holding if scores[r] >= RISK_OVERRIDE_SHARE * top]
    primary = contenders[0] if contenders else strongest
    secondary = tuple(r for r in holding if r is not primary)
    confidence = _confidence(scores, primary)
    return Routing(
        route=primary,
        secondary=secondary,
        scores=dict(scores),
        confidence=confidence,
        confidence_label=confidence_label(confidence),
        trace=tuple(sorted(trace, key=_trace_order)),
        decided_by=_explain(primary, strongest, holding, scores),
    )


def _fallback(scores: Mapping[Route, float], trace: Sequence[TraceItem]) -> Routing:
    top = max(scores.values())
    why = (
        "no route's words or signals were found"
        if top <= 0
        else f"no route's words are clear enough (the strongest scored {top:g})"
    )
    return Routing(
        route=Route.OTHER,
        secondary=(),
        scores=dict(scores),
        confidence=0.2,
        confidence_label="Low",
        trace=tuple(trace),
        decided_by=f"{why}; a person should read it",
    )


def _confidence(scores: Mapping[Route, float], primary: Route) -> float:
    own = scores[primary]
    rivals = sorted((s for r, s in scores.items() if r is not primary), reverse=True)
    rival = rivals[0] if rivals else 0.0
    strength = 1.0 - math.exp(-own / 2.0)
    dominance = own / (own + rival) if own + rival > 0 else 0.0
    return round(strength * (0.4 + 0.6 * dominance), 3)


def confidence_label(confidence: float) -> str:
    if confidence >= 0.7:
        return "High"
    return "Medium" if confidence >= 0.4 else "Low"


def _explain(
    primary: Route, strongest: Route, holding: Sequence[Route], scores: Mapping[Route, float]
) -> str:
    if primary is strongest and len(holding) <= 1:
        return f"{primary} scored highest ({scores[primary]:g})"
    if primary is strongest:
        return f"{primary} scored highest ({scores[primary]:g}) and is the riskiest route that holds"
    return (
        f"{primary} ({scores[primary]:g}) outranks {strongest} ({scores[strongest]:g}) "
        "by the risk order: the riskier route leads"
    )


def with_doubts(routing: Routing, language: str) -> Routing:
    """The routing with its language, its confidence held below UNSURE_BELOW when there is a
    reason to doubt it: a language the cue book does not cover, the learned model favouring
    another route than the one chosen, or a runner-up close behind."""
    doubts = tuple(_doubts(routing, language))
    if not doubts or routing.unsure:
        return dataclasses.replace(routing, language=language)
    confidence = DOUBTED_CONFIDENCE
    return dataclasses.replace(
        routing,
        language=language,
        confidence=confidence,
        confidence_label=confidence_label(confidence),
        doubts=doubts,
    )


def _doubts(routing: Routing, language: str) -> list[str]:
    doubts = []
    if language and language not in CUE_LANGUAGES:
        name = LANGUAGE_NAMES.get(language, "another language")
        coverage = "covers only in part" if language in PARTLY_CUED_LANGUAGES else "does not cover"
        doubts.append(f"written in {name} ('{language}'), which the cue book {coverage}")
    own = routing.scores.get(routing.route, 0.0)
    leans = [t.route for t in routing.trace if t.reason == "model" and t.weight >= MODEL_LEAN_WEIGHT]
    if leans and leans[0] is not routing.route and own < DOUBT_BELOW_SCORE:
        doubts.append(f"the learned model favours {leans[0]}")
    rival = max((s for r, s in routing.scores.items() if r is not routing.route), default=0.0)
    if 0 < own < DOUBT_BELOW_SCORE and rival >= CLOSE_CALL_SHARE * own:
        doubts.append(f"the runner-up scores {rival:g} against {own:g}")
    return doubts


def wants_meaning(routing: Routing) -> bool:
    """Whether the semantic reader should read the message too (see MEANING_BELOW)."""
    return routing.confidence < MEANING_BELOW


def with_meaning(routing: Routing, meaning: Mapping[Route, float]) -> Routing:
    """The ``routing`` the router is not sure enough of, decided again with the semantic reader's
    probabilities. A route it changes is unsure (the words and the meaning disagree: a person
    should check it); ``decided_by`` says what the semantic reader read."""
    if not meaning or not wants_meaning(routing):
        return routing
    router = _softmax({route: max(routing.scores.get(route, 0.0), 0.0) for route in RISK_ORDER})
    blended = {r: ROUTER_SHARE * router[r] + (1 - ROUTER_SHARE) * meaning.get(r, 0.0) for r in RISK_ORDER}
    route = max(RISK_ORDER, key=blended.__getitem__)
    if (
        _demotes(routing, route, meaning)
        or _dispute_without_words(routing, route)
        or _vetoed(routing, route)
        or meaning.get(route, 0.0) <= meaning.get(routing.route, 0.0)
    ):
        route = routing.route
    favourite = max(RISK_ORDER, key=lambda r: meaning.get(r, 0.0))
    item = TraceItem(
        favourite, 0.0, "meaning", f"semantic reader: {favourite} at {meaning[favourite]:.0%}", "", -1, -1
    )
    read = dataclasses.replace(
        routing, probabilities=dict(meaning), trace=tuple(sorted((*routing.trace, item), key=_trace_order))
    )
    if route is routing.route:
        return dataclasses.replace(
            read, decided_by=f"{routing.decided_by}; {_second_opinion(routing, favourite, meaning)}"
        )
    held = [r for r in (routing.route, *routing.secondary) if routing.scores.get(r, 0.0) >= HOLD_SCORE]
    doubted = min(routing.confidence, DOUBTED_CONFIDENCE)
    return dataclasses.replace(
        read,
        route=route,
        secondary=tuple(r for r in held if r is not route),
        confidence=doubted,
        confidence_label=confidence_label(doubted),
        decided_by=(
            f"the semantic reader reads {route} ({meaning.get(route, 0.0):.0%}) where the words alone "
            f"were unsure ({routing.route}: {routing.decided_by})"
        ),
    )


def _second_opinion(routing: Routing, favourite: Route, meaning: Mapping[Route, float]) -> str:
    said = f"{favourite} ({meaning[favourite]:.0%})"
    if favourite is routing.route:
        return f"the semantic reader reads it the same way ({meaning[favourite]:.0%})"
    if _demotes(routing, favourite, meaning):
        return f"the semantic reader reads {said}, but {routing.route} needs its evidence first"
    if _dispute_without_words(routing, favourite):
        return f"the semantic reader reads {said}, but no words of a dispute back it"
    if _vetoed(routing, favourite):
        return f"the semantic reader reads {said}, but the words say it only looks like one"
    return f"the semantic reader leans to {said}, not enough to change it"


def _trace_order(item: TraceItem) -> tuple[int, float, int]:
    return risk_rank(item.route), -item.weight, item.start


def _demotes(routing: Routing, route: Route, meaning: Mapping[Route, float]) -> bool:
    """Whether ``route`` would take the lead from a riskier problem whose words hold. A dispute,
    a wrong item and damage need their evidence first whatever else the message asks (a refund
    for a dented bottle is a damage case), so meaning does not outrank those words; it may still
    read a wrong item or damage as `other` (spam, a review of something else), and it may when it gives
    the problem less than EVIDENCE_FLOOR (the words misread: "split the payment" is no damage)."""
    guarded = routing.route in EVIDENCE_FIRST and routing.scores.get(routing.route, 0.0) >= HOLD_SCORE
    # a dispute threatened in so many words is never ruled out by how the rest of it reads
    ruled_out = meaning.get(routing.route, 0.0) < EVIDENCE_FLOOR and not _dispute_threatened(routing)
    # spam or a review of something else may name damage, never a dispute worth missing
    excused = route is Route.OTHER and routing.route is not Route.CHARGEBACK_RISK
    return guarded and not ruled_out and not excused and risk_rank(route) > risk_rank(routing.route)


def _dispute_threatened(routing: Routing) -> bool:
    return routing.route is Route.CHARGEBACK_RISK and any(
        item.reason == "flag" and item.evidence == "threatens_dispute" for item in routing.trace
    )


def _vetoed(routing: Routing, route: Route) -> bool:
    """The words say the message only looks like ``route`` ("nothing was broken", "I'm not going
    to raise a PayPal claim"): the semantic reader, which reads the look, may not choose it."""
    return any(item.route is route and item.weight <= STRONG_VETO for item in routing.trace)


def _dispute_without_words(routing: Routing, route: Route) -> bool:
    """A chargeback-risk case escalates to its lead and pauses automation, so meaning alone
    never opens one: its words must count at least WEAK_SCORE. On Bitext, "I want to report an
    issue with payments" read by meaning alone as a dispute 150 times (accuracy 0.950 against
    0.973 with this rule; real-dev 0.558 against 0.554)."""
    return route is Route.CHARGEBACK_RISK and routing.scores.get(route, 0.0) < WEAK_SCORE


def _softmax(scores: Mapping[Route, float]) -> dict[Route, float]:
    top = max(scores.values())
    exp = {route: math.exp(score - top) for route, score in scores.items()}
    total = sum(exp.values())
    return {route: value / total for route, value in exp.items()}

"""The semantic reader's say on an unsure routing (``with_meaning``): plain data in, route out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import pytest

from aftersales.domain.routes import Route
from aftersales.domain.routing.router import Routing, TraceItem, choose, with_doubts, with_meaning

R = Route


def routing(scores: Mapping[Route, float], trace: Sequence[TraceItem] = ()) -> Routing:
    """What the router decides from these scores (and the words behind them), with its doubts."""
    return with_doubts(choose({route: scores.get(route, 0.0) for route in Route}, trace), "en")


CASES = [
    # scores from the words, the semantic reader's probabilities -> route, how decided_by opens
    pytest.param(
        {R.REVIEW: 2.5, R.REFUND_RETURN: 2.0},
        {R.SHIPPING_DELAY: 0.8, R.REVIEW: 0.1},
        R.SHIPPING_DELAY,
        "the semantic reader reads shipping_delay (80%) where the words alone were unsure",
        id="a weak route read by its meaning",
    ),
    pytest.param(
        {R.DAMAGED_ITEM: 3.0, R.REFUND_RETURN: 7.0},
        {R.REFUND_RETURN: 0.8, R.DAMAGED_ITEM: 0.15},
        R.DAMAGED_ITEM,
        "damaged_item (3) outranks refund_return (7) by the risk order",
        id="damage keeps the lead: its evidence comes first",
    ),
    pytest.param(
        {R.DAMAGED_ITEM: 3.0, R.REFUND_RETURN: 7.0},
        {R.REFUND_RETURN: 0.9, R.DAMAGED_ITEM: 0.05},
        R.REFUND_RETURN,
        "the semantic reader reads refund_return (90%) where the words alone were unsure",
        id="damage the semantic reader all but rules out: the words misread",
    ),
    pytest.param(
        {R.DAMAGED_ITEM: 3.0, R.REFUND_RETURN: 3.5},
        {R.OTHER: 0.95},
        R.OTHER,
        "the semantic reader reads other (95%)",
        id="words of damage in a message about something else",
    ),
    pytest.param(
        {R.SHIPPING_DELAY: 3.0, R.REFUND_RETURN: 2.5},
        {R.SHIPPING_DELAY: 0.7, R.REFUND_RETURN: 0.2},
        R.SHIPPING_DELAY,
        "shipping_delay scored highest (3)",
        id="the same reading",
    ),
    pytest.param(
        {R.SHIPPING_DELAY: 3.0, R.CANCEL_OR_CHANGE: 2.5},
        {R.REVIEW: 0.4, R.SHIPPING_DELAY: 0.3},
        R.SHIPPING_DELAY,
        "shipping_delay scored highest (3)",
        id="a lean too slight to change it",
    ),
    pytest.param(
        {R.CANCEL_OR_CHANGE: 2.4, R.REFUND_RETURN: 2.0, R.CHARGEBACK_RISK: 1.0},
        {R.CHARGEBACK_RISK: 0.8, R.CANCEL_OR_CHANGE: 0.1},
        R.CANCEL_OR_CHANGE,
        "no words of a dispute back it",
        id="no dispute on meaning alone",
    ),
    pytest.param(
        {R.CANCEL_OR_CHANGE: 2.4, R.REFUND_RETURN: 2.0, R.CHARGEBACK_RISK: 2.0},
        {R.CHARGEBACK_RISK: 0.8, R.CANCEL_OR_CHANGE: 0.1},
        R.CHARGEBACK_RISK,
        "the semantic reader reads chargeback_risk (80%)",
        id="a dispute its words begin to say",
    ),
    pytest.param(
        {R.CANCEL_OR_CHANGE: 2.4, R.REFUND_RETURN: 2.2},
        {R.REFUND_RETURN: 0.3, R.CANCEL_OR_CHANGE: 0.45},
        R.CANCEL_OR_CHANGE,
        "cancel_or_change scored highest",
        id="never to a route the semantic reader likes less",
    ),
]


@pytest.mark.parametrize(("scores", "meaning", "route", "why"), CASES)
def test_an_unsure_routing_decided_with_its_meaning(
    scores: Mapping[Route, float], meaning: Mapping[Route, float], route: Route, why: str
) -> None:
    before = routing(scores)
    assert before.unsure

    after = with_meaning(before, meaning)

    assert after.route is route
    assert why in after.decided_by
    assert after.unsure, "a person still checks the route"
    assert after.probabilities == meaning
    read = [t for t in after.trace if t.reason == "meaning"]
    assert len(read) == 1
    assert read[0].evidence.startswith("semantic reader: ")


def test_the_second_opinion_is_said_in_words() -> None:
    kept = with_meaning(
        routing({R.DAMAGED_ITEM: 3.0, R.REFUND_RETURN: 7.0}), {R.REFUND_RETURN: 0.8, R.DAMAGED_ITEM: 0.15}
    )
    slight = with_meaning(routing({R.SHIPPING_DELAY: 3.0, R.CANCEL_OR_CHANGE: 2.5}), {R.REVIEW: 0.4})
    same = with_meaning(routing({R.SHIPPING_DELAY: 3.0, R.REFUND_RETURN: 2.5}), {R.SHIPPING_DELAY: 0.7})

    assert kept.decided_by.endswith("reads refund_return (80%), but damaged_item needs its evidence first")
    assert slight.decided_by.endswith("leans to review (40%), not enough to change it")
    assert same.decided_by.endswith("the semantic reader reads it the same way (70%)")


def test_a_sure_routing_or_no_reading_changes_nothing() -> None:
    sure = routing({R.WRONG_ITEM: 6.0})
    unsure = routing({R.REVIEW: 2.5, R.REFUND_RETURN: 2.0})

    assert not sure.unsure
    assert with_meaning(sure, {R.OTHER: 1.0}) == sure
    assert with_meaning(unsure, {}) == unsure


def test_the_band_above_unsure_is_read_too_and_a_changed_route_is_doubted() -> None:
    fairly_sure = routing({R.REVIEW: 2.0, R.OTHER: 0.5})
    assert not fairly_sure.unsure
    assert fairly_sure.confidence < 0.6

    after = with_meaning(fairly_sure, {R.SHIPPING_DELAY: 0.8, R.REVIEW: 0.05})

    assert after.route is R.SHIPPING_DELAY
    assert after.unsure, "the words and the meaning disagree: a person checks the route"


def test_a_sure_routing_is_not_read_by_meaning() -> None:
    sure = routing({R.SHIPPING_DELAY: 6.0})
    assert sure.confidence >= 0.6
    assert with_meaning(sure, {R.REVIEW: 1.0}) == sure


def test_a_route_the_words_veto_is_not_chosen_by_meaning() -> None:
    # "the box was battered but nothing was broken": damage's words matched, and were vetoed
    trace = [
        TraceItem(R.DAMAGED_ITEM, 3.0, "cue", "broken", "broken", 0, 6),
        TraceItem(R.DAMAGED_ITEM, -4.0, "cue", "{unharmed}", "nothing was broken", 0, 18),
        TraceItem(R.REVIEW, 3.0, "cue", "{unharmed}", "nothing was broken", 0, 18),
    ]
    unsure = replace(routing({R.DAMAGED_ITEM: -1.0, R.REVIEW: 3.0}, trace), confidence=0.45)

    after = with_meaning(unsure, {R.DAMAGED_ITEM: 0.93, R.REVIEW: 0.04})

    assert after.route is R.REVIEW
    assert after.decided_by.endswith("reads damaged_item (93%), but the words say it only looks like one")


def test_a_dispute_threatened_in_words_is_never_ruled_out_by_meaning() -> None:
    # "Wrong shade again ... or I'm disputing the whole order with Visa"
    trace = [
        TraceItem(R.CHARGEBACK_RISK, 3.0, "cue", "dispute", "disputing", 0, 9),
        TraceItem(R.CHARGEBACK_RISK, 2.0, "flag", "threatens_dispute", "disputing", 0, 9),
        TraceItem(R.WRONG_ITEM, 8.0, "cue", "wrong shade", "Wrong shade", 0, 11),
    ]
    words = replace(routing({R.CHARGEBACK_RISK: 5.0, R.WRONG_ITEM: 8.0}, trace), confidence=0.45)
    assert words.route is R.CHARGEBACK_RISK

    after = with_meaning(words, {R.REFUND_RETURN: 0.69, R.WRONG_ITEM: 0.25, R.CHARGEBACK_RISK: 0.02})

    assert after.route is R.CHARGEBACK_RISK

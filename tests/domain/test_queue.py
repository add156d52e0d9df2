"""The queue's rules: what counts as urgent now, where a case sits, the preview and the search
words (domain/queue.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aftersales.domain.cases import CaseStatus, SlaState, sla_state
from aftersales.domain.queue import (
    Urgency,
    message_preview,
    order_number_in,
    queue_position,
    search_words,
    urgency,
)
from aftersales.domain.routes import Route
from aftersales.domain.sla.clocks import Clock, ClockName, ClockState

MONDAY = datetime(2026, 11, 30, 15, tzinfo=UTC)
TUESDAY = datetime(2026, 12, 1, 15, tzinfo=UTC)
FRIDAY = datetime(2026, 12, 4, 15, tzinfo=UTC)


def running(name: ClockName, state: ClockState, due: datetime) -> Clock:
    return Clock(name=name, state=state, started_at=MONDAY, due_at=due)


def finished(name: ClockName, state: ClockState) -> Clock:
    return Clock(name=name, state=state, started_at=MONDAY)


FIRST_LATE = finished(ClockName.FIRST_RESPONSE, ClockState.BREACHED)  # answered late: history
RESOLUTION_BROKEN = running(ClockName.RESOLUTION, ClockState.BREACHED, MONDAY)
RESOLUTION_PAUSED = finished(ClockName.RESOLUTION, ClockState.PAUSED)
UPDATE_PROMISED = running(ClockName.NEXT_UPDATE, ClockState.ON_TRACK, FRIDAY)
UPDATE_BROKEN = running(ClockName.NEXT_UPDATE, ClockState.BREACHED, MONDAY)
ESCALATION_SOON = running(ClockName.ESCALATION, ClockState.AT_RISK, TUESDAY)
EVIDENCE_LATE = running(ClockName.DISPUTE_EVIDENCE, ClockState.BREACHED, MONDAY)


@pytest.mark.parametrize(
    ("clocks", "waiting", "answered", "expected"),
    [
        pytest.param(
            [RESOLUTION_BROKEN, UPDATE_PROMISED],
            False,
            False,
            Urgency(2, MONDAY),
            id="the customer is waiting on us: every running clock counts",
        ),
        pytest.param(
            [FIRST_LATE, RESOLUTION_BROKEN, UPDATE_PROMISED],
            False,
            True,
            Urgency(0, FRIDAY),
            id="answered: our promised update is what we owe, the late resolution is history",
        ),
        pytest.param(
            [RESOLUTION_BROKEN, UPDATE_BROKEN],
            False,
            True,
            Urgency(2, MONDAY),
            id="answered, but the promised update is late: red",
        ),
        pytest.param(
            [UPDATE_BROKEN, RESOLUTION_PAUSED],
            True,
            False,
            Urgency(0, None),
            id="waiting on the customer: a clock broken before the wait does not keep it red",
        ),
        pytest.param(
            [UPDATE_BROKEN, ESCALATION_SOON],
            True,
            True,
            Urgency(1, TUESDAY),
            id="waiting, yet an escalation never pauses",
        ),
        pytest.param(
            [UPDATE_PROMISED, EVIDENCE_LATE],
            False,
            True,
            Urgency(2, MONDAY),
            id="a dispute's evidence deadline always counts",
        ),
        pytest.param([FIRST_LATE], False, False, Urgency(0, None), id="nothing running: no risk"),
        pytest.param([], False, False, Urgency(0, None), id="no clocks"),
    ],
)
def test_urgency_counts_the_clocks_that_ask_something_of_us_now(
    clocks: list[Clock], waiting: bool, answered: bool, expected: Urgency
) -> None:
    assert urgency(clocks, waiting=waiting, answered=answered) == expected


@pytest.mark.parametrize(
    ("status", "risk", "expected"),
    [
        (CaseStatus.NEW, 2, SlaState.BREACHED),
        (CaseStatus.OPEN, 1, SlaState.AT_RISK),
        (CaseStatus.OPEN, 0, SlaState.ON_TRACK),
        (CaseStatus.WAITING_ON_CUSTOMER, 0, SlaState.WAITING),
        (CaseStatus.WAITING_ON_CUSTOMER, 2, SlaState.BREACHED),  # an escalation that never paused
        (CaseStatus.RESOLVED, 2, SlaState.CLOSED),
        (CaseStatus.CLOSED, 0, SlaState.CLOSED),
    ],
)
def test_sla_state_of_a_queue_row(status: CaseStatus, risk: int, expected: SlaState) -> None:
    assert sla_state(status, risk) is expected


# The queue's order, top to bottom: act-now cases by route risk then SLA state, then the
# waiting ones, then the closed ones.
ORDERED: list[tuple[Route, CaseStatus, int]] = [
    (Route.CHARGEBACK_RISK, CaseStatus.NEW, 0),  # a chargeback threat, on track
    (Route.WRONG_ITEM, CaseStatus.OPEN, 2),  # a wrong item, breached
    (Route.WRONG_ITEM, CaseStatus.OPEN, 1),  # a wrong item, at risk
    (Route.CANCEL_OR_CHANGE, CaseStatus.NEW, 2),  # an address change, breached
    (Route.PRE_PURCHASE, CaseStatus.NEW, 2),  # a product question, breached
    (Route.PRE_PURCHASE, CaseStatus.NEW, 0),  # a product question, on track
    (Route.CHARGEBACK_RISK, CaseStatus.WAITING_ON_CUSTOMER, 0),  # chargeback, waiting
    (Route.OTHER, CaseStatus.WAITING_ON_CUSTOMER, 0),  # other, waiting
    (Route.CHARGEBACK_RISK, CaseStatus.CLOSED, 0),  # chargeback, closed
]


def test_the_queue_puts_what_can_be_acted_on_and_the_riskiest_route_first() -> None:
    positions = [queue_position(*p) for p in ORDERED]

    assert positions == sorted(positions)
    assert len(set(positions)) == len(positions)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Where is\n\n my   order?", "Where is my order?"),
        ("x" * 200, "x" * 159 + "…"),
        ("word " * 40, ("word " * 31).rstrip() + "…"),
        ("", ""),
    ],
    ids=["whitespace folded", "one long word cut", "cut at a word", "empty"],
)
def test_message_preview_is_one_line_within_its_width(text: str, expected: str) -> None:
    assert message_preview(text) == expected
    assert len(message_preview(text)) <= 160


@pytest.mark.parametrize(
    ("search", "words", "order"),
    [
        ("Ana", ("ana",), "Ana"),
        ("  #1043 ", ("1043",), "1043"),
        ('ana" OR body:* NEAR(', ("ana", "or", "body", "near"), ""),
        ("ana.silva@example.com", ("ana", "silva", "example", "com"), ""),
        ("Éloïse d'Août", ("éloïse", "d", "août"), ""),
        ("a b c d e f g h i j", ("a", "b", "c", "d", "e", "f", "g", "h"), ""),
        ("***", (), "***"),
    ],
    ids=[
        "a name",
        "an order number",
        "query syntax is dropped",
        "an address",
        "accents",
        "eight words",
        "none",
    ],
)
def test_search_words_and_order_number(search: str, words: tuple[str, ...], order: str) -> None:
    assert search_words(search) == words
    assert order_number_in(search) == order

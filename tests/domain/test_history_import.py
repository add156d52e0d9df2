"""The history import's rules: a tag's route, the history's business hours, the suggestions."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersales.domain.history import HistoryConversation, HistoryDirection, HistoryFormat, HistoryMessage
from aftersales.domain.history_import import (
    HistoryHours,
    clocks_count_from,
    history_hours,
    message_key,
    suggest_tag_routes,
    tag_route,
    tag_routes_toml,
)
from aftersales.domain.policy import Interval
from aftersales.domain.routes import Route
from aftersales.domain.sla.calendar import BusinessCalendar

NINE_TO_FIVE = BusinessCalendar(ZoneInfo("UTC"), {day: (Interval(time(9), time(17)),) for day in range(5)})


def at(day: int, hour: int) -> datetime:
    return datetime(2025, 3, day, hour, tzinfo=UTC)  # 3 March 2025 is a Monday


def said(message_id: str, moment: datetime, direction: HistoryDirection) -> HistoryMessage:
    return HistoryMessage(id=message_id, sender="x", at=moment, direction=direction, body="hi")


def talk(
    *messages: HistoryMessage, status: str = "closed", closed_at: datetime | None = None
) -> HistoryConversation:
    return HistoryConversation(
        source=HistoryFormat.AFTERSALES,
        id="T-1",
        subject="s",
        status=status,
        created_at=messages[0].at,
        closed_at=closed_at,
        messages=messages,
    )


IN, OUT, NOTE = HistoryDirection.IN, HistoryDirection.OUT, HistoryDirection.NOTE


@pytest.mark.parametrize(
    ("conversation", "hours"),
    [
        # asked Monday 10:00, answered 12:00, closed Tuesday 10:00 (7 + 1 business hours)
        (
            talk(said("a", at(3, 10), IN), said("b", at(3, 12), OUT), closed_at=at(4, 10)),
            HistoryHours(2.0, 8.0),
        ),
        # a note is not an answer; asked Friday 16:00, answered Monday 10:00: 2 business hours
        (
            talk(said("a", at(7, 16), IN), said("n", at(7, 17), NOTE), said("b", at(10, 10), OUT)),
            HistoryHours(2.0, 2.0),
        ),
        # never answered, still open
        (talk(said("a", at(3, 10), IN), status="open"), HistoryHours(None, None)),
        # the customer never wrote: nothing to measure
        (talk(said("b", at(3, 12), OUT)), HistoryHours(None, None)),
    ],
)
def test_the_history_hours_are_business_hours(conversation: HistoryConversation, hours: HistoryHours) -> None:
    assert history_hours(conversation, NINE_TO_FIVE) == hours


@pytest.mark.parametrize(
    ("tags", "found"),
    [
        ((), None),
        (("unmapped",), None),
        (("WISMO",), ("WISMO", Route.SHIPPING_DELAY)),
        (("wismo", "Chargeback"), ("Chargeback", Route.CHARGEBACK_RISK)),  # the riskier route wins
    ],
)
def test_a_tag_names_a_route_without_regard_to_case(
    tags: tuple[str, ...], found: tuple[str, Route] | None
) -> None:
    routes = {"wismo": Route.SHIPPING_DELAY, "chargeback": Route.CHARGEBACK_RISK}
    assert tag_route(tags, routes) == found


def test_suggestions_are_by_frequency_with_the_majority_route() -> None:
    tagged = [
        (("wismo",), Route.SHIPPING_DELAY),
        (("wismo", "VIP"), Route.SHIPPING_DELAY),
        (("Wismo",), Route.OTHER),
        (("vip",), Route.REVIEW),
    ]

    suggestions = suggest_tag_routes(tagged)

    assert [(s.tag, s.conversations, s.route, round(s.share, 2)) for s in suggestions] == [
        ("wismo", 3, Route.SHIPPING_DELAY, 0.67),
        ("VIP", 2, Route.SHIPPING_DELAY, 0.5),  # a tie: the riskier route
    ]
    assert tag_routes_toml(suggestions) == (
        "[history.tag_routes]\n"
        'wismo = "shipping_delay"  # 3 conversations, 67%\n'
        'VIP = "shipping_delay"  # 2 conversations, 50%\n'
    )


@given(st.text(min_size=1, max_size=30))
def test_any_tag_is_a_valid_toml_key(tag: str) -> None:
    import tomllib

    suggestion = suggest_tag_routes([((tag,), Route.OTHER)])
    if suggestion:  # a blank tag is no tag
        parsed = tomllib.loads(tag_routes_toml(suggestion))
        assert parsed["history"]["tag_routes"] == {tag.strip(): "other"}


def test_the_clocks_count_from_the_newest_import() -> None:
    events = [
        {"kind": "imported", "at": at(3, 10)},
        {"kind": "routed", "at": at(5, 10)},
        {"kind": "imported", "at": at(4, 10)},
    ]

    assert clocks_count_from(events) == at(4, 10)
    assert clocks_count_from(events[1:2]) is None


def test_a_long_message_key_is_hashed_to_fit_its_column() -> None:
    conversation = talk(said("x" * 2000, at(3, 10), IN))

    assert len(message_key(conversation, conversation.messages[0])) < 1100

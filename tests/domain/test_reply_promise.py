"""Which sentence of a reply promises the next update, and whether the store can keep it:
a table of replies and a Hypothesis property (never raises; a stored time is always ahead
and inside opening hours; a refused promise stores none)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales.domain.policy import Interval
from aftersales.domain.reply_promise import read_promise, reply_languages
from aftersales.domain.sla.calendar import BusinessCalendar, is_open

NEW_YORK = ZoneInfo("America/New_York")
SHIFTS = (Interval(time(9), time(12)), Interval(time(13), time(17)))
HOLIDAYS = frozenset({date(2026, 11, 26), date(2026, 12, 25)})
STORE = BusinessCalendar(NEW_YORK, dict.fromkeys(range(5), SHIFTS), HOLIDAYS.__contains__)
NEVER_OPEN = BusinessCalendar(NEW_YORK, {})


def ny(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=NEW_YORK)


NOW = ny(11, 18, 10)  # Wednesday 18 November 2026, 10:00

READ = [
    pytest.param(
        "Your parcel was last scanned on Monday 16 November. I'll write again by Friday 20 November, 10:00.",
        ny(11, 20, 10),
        "I'll write again by Friday 20 November, 10:00.",
        id="the fact's sentence is not the promise",
    ),
    pytest.param(
        "We will call you on Friday, and send the label by Thursday 19 November at 15:00.",
        ny(11, 19, 15),
        "We will call you on Friday, and send the label by Thursday 19 November at 15:00.",
        id="a firm deadline wins over a day mentioned in passing",
    ),
    pytest.param(
        "We will call you on Friday.",
        ny(11, 20, 17),
        "We will call you on Friday.",
        id="a bare day, when nothing firmer is said",
    ),
    pytest.param(
        "Thanks! Next update: by Monday 23 November, 12:00.",
        ny(11, 23, 12),
        "Next update: by Monday 23 November, 12:00.",
        id="the morning shift's close is a time the store can keep",
    ),
    pytest.param(
        "Thanks for waiting.\nBy Monday 23 November, 10:00 you have the answer.",
        ny(11, 23, 10),
        "By Monday 23 November, 10:00 you have the answer.",
        id="without a promising verb, a deadline said with 'by'",
    ),
    pytest.param(
        "Our aim is an answer within 2 business days.",
        ny(11, 20, 17),
        "Our aim is an answer within 2 business days.",
        id="without a promising verb, 'within N days'",
    ),
    pytest.param(
        "We'll get back to you on Monday, November 23rd at 10am.",
        ny(11, 23, 10),
        "We'll get back to you on Monday, November 23rd at 10am.",
        id="weekday, month-day and a 12-hour time",
    ),
    pytest.param(
        "Wir melden uns bis Freitag, 20. November, 10:00 Uhr. Danke!",
        ny(11, 20, 10),
        "Wir melden uns bis Freitag, 20. November, 10:00 Uhr.",
        id="a German ordinal's dot ends no sentence",
    ),
]


@pytest.mark.parametrize(("text", "at", "sentence"), READ)
def test_the_promise_is_read_from_the_promising_sentence(text: str, at: datetime, sentence: str) -> None:
    promise = read_promise(text, NOW, STORE)
    assert (promise.at, promise.sentence, promise.problems) == (at, sentence, ())


@pytest.mark.parametrize(
    ("text", "checks"),
    [
        ("We will write by Thursday 26 November, 10:00.", ["closed_time"]),  # Thanksgiving
        ("We will write by 18:00 today.", ["closed_time"]),
        ("We will write by Monday 16 November.", ["past_time"]),
        ("We will write by Friday 20 November, 10:00 or by Sunday 22 November.", ["closed_time"]),
        ("We will write by Friday 20 November, 10:00 and by 31 November.", ["impossible_date"]),
        ("We will look into what happened on Monday 16 November.", ["past_time"]),
    ],
)
def test_a_promise_the_store_cannot_keep_is_refused_and_stores_nothing(text: str, checks: list[str]) -> None:
    promise = read_promise(text, NOW, STORE)
    assert ([p.check for p in promise.problems], promise.at) == (checks, None)


def test_a_store_without_opening_hours_says_so() -> None:
    (problem,) = read_promise("We will write by Friday 10:00.", NOW, NEVER_OPEN).problems
    assert problem.fix == (
        "The store is closed on Friday, and its policy has no opening hours at all. "
        "Promise a time when the store is open."
    )


@pytest.mark.parametrize(
    ("case_language", "store_language", "languages"),
    [
        ("fr", "en", ("en", "fr")),
        ("en", "en", ("en",)),
        ("de", "fr", ("fr", "de")),
        ("", "en", ("en", "fr", "de", "es")),  # unknown: every language
        ("it", "en", ("en", "fr", "de", "es")),  # not one the reading knows
    ],
)
def test_a_reply_is_read_in_the_case_s_and_the_store_s_language(
    case_language: str, store_language: str, languages: tuple[str, ...]
) -> None:
    assert reply_languages(case_language, store_language) == languages


# --- properties --------------------------------------------------------------------------

WORDS = [
    "We will", "I'll", "you will get it", "nous reviendrons", "wir melden uns", "le escribiremos",
    "Please send it", "The scan was", "nothing else is needed", "by", "on", "at", "before", "until",
    "within", "2", "business", "days", "hours", "tomorrow", "today", "noon", "midnight", "Monday",
    "Friday", "Sunday", "Tuesday 24 November", "4 November", "31 February", "Christmas Day",
    "Easter Monday", "10:00", "12:00", "12:30", "3 pm", "17:00", "23:59", "d'ici", "mardi", "à 10h",
    "bis", "Dienstag,", "24.", "November", "Uhr", "antes del", "martes", "a las 10", ".", ",", "\n",
]  # fmt: skip
replies = st.lists(st.sampled_from(WORDS), max_size=16).map(" ".join)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - bounds for hypothesis, zone added below
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.sampled_from([UTC, NEW_YORK]),
)


@settings(max_examples=400, deadline=None)
@given(text=st.one_of(st.text(max_size=120), replies), now=moments, closed=st.booleans())
def test_a_stored_time_is_ahead_and_inside_opening_hours(text: str, now: datetime, closed: bool) -> None:
    calendar = NEVER_OPEN if closed else STORE
    promise = read_promise(text, now, calendar)
    if promise.at is not None:
        assert promise.problems == ()
        assert promise.at > now
        assert promise.at.tzinfo == NEW_YORK
        assert is_open(promise.at, calendar) or is_open(promise.at - timedelta(microseconds=1), calendar)
        assert promise.sentence in text
    for problem in promise.problems:
        assert problem.sentence in text
        assert problem.fix

"""Reading the next-update time a reply promises: a phrase table and a never-raises property."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales.domain.policy import Interval
from aftersales.domain.sla.calendar import BusinessCalendar
from aftersales.domain.sla.promises import PromisedTime, promised_time, read_phrases

NEW_YORK = ZoneInfo("America/New_York")
OFFICE = BusinessCalendar(NEW_YORK, dict.fromkeys(range(5), (Interval(time(9), time(17)),)))
NEVER_OPEN = BusinessCalendar(NEW_YORK, {})


def ny(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


# Wednesday 18 November 2026, 10:00 in New York.
NOW = ny(11, 18, 10)

PHRASES = [
    # the brief's phrases
    ("We'll update you by tomorrow 3 pm.", ny(11, 19, 15)),
    ("tomorrow at 15:00", ny(11, 19, 15)),
    ("today by 5pm", ny(11, 18, 17)),
    ("by Monday", ny(11, 23, 17)),  # a bare weekday: the close of that business day
    ("on Tuesday at 10:00", ny(11, 24, 10)),
    ("by end of day", ny(11, 18, 17)),
    ("within 24 hours", ny(11, 19, 10)),
    ("within 2 business days", ny(11, 20, 17)),  # Thursday and Friday
    ("in 3 hours", ny(11, 18, 13)),
    ("by 1 December", ny(12, 1, 17)),
    ("by Dec 1 at noon", ny(12, 1, 12)),
    ("2026-12-01 14:00", ny(12, 1, 14)),
    # other ways to say them
    ("at 3 pm tomorrow", ny(11, 19, 15)),
    ("by 5 p.m. today", ny(11, 18, 17)),
    ("noon on Friday", ny(11, 20, 12)),
    ("end of day Friday", ny(11, 20, 17)),
    ("Friday EOD", ny(11, 20, 17)),
    ("by close of business", ny(11, 18, 17)),
    ("2026-12-01T14:00", ny(12, 1, 14)),
    ("Dec 1st", ny(12, 1, 17)),
    ("1st of December", ny(12, 1, 17)),
    ("December 1, 2027", ny(12, 1, 17, year=2027)),
    ("by next Monday", ny(11, 23, 17)),
    ("by Wednesday", ny(11, 25, 17)),  # said on a Wednesday: a week away
    ("in an hour", ny(11, 18, 11)),
    ("within the next 30 minutes", ny(11, 18, 10, 30)),
    ("within two business days", ny(11, 20, 17)),
    ("within 4 business hours", ny(11, 18, 14)),
    ("within 7 business hours", ny(11, 18, 17)),  # used up exactly at closing: the close
    ("within 8 business hours", ny(11, 19, 10)),  # rolls over to the next morning
    ("within 1 business week", ny(11, 25, 17)),
    ("in 2 days", ny(11, 20, 10)),
    ("within 24h", ny(11, 19, 10)),
    ("by 9am", ny(11, 19, 9)),  # 9 am has passed today: tomorrow
    ("by 15:00", ny(11, 18, 15)),
    ("by midnight", ny(11, 19, 0)),  # the end of today
    ("by Saturday", ny(11, 21, 17)),  # closed that day: 17:00
    ("by 2 January", ny(1, 2, 17, year=2027)),  # a date already past this year: next year
    # a weekday with its date, and a date with its year
    ("by Tuesday 24 November, 10:00", ny(11, 24, 10)),
    ("by Tuesday, 24 November at 10 am", ny(11, 24, 10)),
    ("Tuesday November 24 at 10:00", ny(11, 24, 10)),
    ("by 24 November 2026, 10:00 EST", ny(11, 24, 10)),
    ("tomorrow before noon", ny(11, 19, 12)),
    ("by the day after tomorrow", ny(11, 20, 17)),
    ("on Christmas Eve at 10:00", ny(12, 24, 10)),
    ("by New Year's Day", ny(1, 1, 17, year=2027)),  # a closed day: 17:00, which the check refuses
    # French, German, Spanish
    ("d'ici mardi 24 novembre à 10h", ny(11, 24, 10)),
    ("le mardi 24 novembre à 10 h 30", ny(11, 24, 10, 30)),
    ("demain avant midi", ny(11, 19, 12)),
    ("dans 48 heures", ny(11, 20, 10)),
    ("sous 2 jours ouvrés", ny(11, 20, 17)),
    ("d'ici la fin de journée", ny(11, 18, 17)),
    ("avant le 1er décembre", ny(12, 1, 17)),
    ("bis Donnerstag, 24. Dezember, 10:00 Uhr", ny(12, 24, 10)),
    ("bis Dienstag, den 24. November, 10 Uhr", ny(11, 24, 10)),
    ("morgen Mittag", ny(11, 19, 12)),
    ("übermorgen um 14.30 Uhr", ny(11, 20, 14, 30)),
    ("innerhalb von 2 Werktagen", ny(11, 20, 17)),
    ("in einer Stunde", ny(11, 18, 11)),
    ("am Heiligabend um 10 Uhr", ny(12, 24, 10)),
    ("antes del martes 24 de noviembre a las 10:00", ny(11, 24, 10)),
    ("el miércoles 25 de noviembre a las 9", ny(11, 25, 9)),
    ("mañana a mediodía", ny(11, 19, 12)),
    ("en 2 días hábiles", ny(11, 20, 17)),
    ("dentro de 3 horas", ny(11, 18, 13)),
    ("el 1 de diciembre de 2026", ny(12, 1, 17)),
    # several promises: the earliest wins
    ("in 3 hours, or by tomorrow at the latest", ny(11, 18, 13)),
    ("by Friday, or within 24 hours if we can", ny(11, 19, 10)),
]


@pytest.mark.parametrize(("text", "expected"), PHRASES, ids=[text for text, _ in PHRASES])
def test_promised_moment(text: str, expected: datetime) -> None:
    found = promised_time(text, NOW, OFFICE)
    assert found is not None
    assert found.at == expected
    assert found.at.tzinfo == NEW_YORK


@pytest.mark.parametrize(
    "text",
    [
        "Thanks for your patience!",
        "Your parcel shipped on 2026-11-01.",  # in the past: no promise
        "Our hours are 9am-5pm.",  # a time without a preposition is not a promise
        "We are on standby 3pm",
        "by 31 February",  # no such date
        "by 13 pm",
        "at 25:00",
        "by 10:00 today",  # already passed
        "in 99999 days",  # too far: a misreading, not a promise
        "You have waited over 3 days, I am sorry.",
        "The last scan was on Monday 16 November.",  # a weekday with a date just past: not next week
        "by 4 November",  # the nearest 4 November is past, not next year's
        "by Tuesday 25 November",  # 25 November is a Wednesday: no moment
        "on Easter Monday",  # a holiday whose date moves: no moment
        "Guten Morgen",  # a greeting, not tomorrow
        "por la mañana",  # in the morning, not tomorrow
        "l'après-midi",  # the afternoon, not noon
    ],
)
def test_no_promise(text: str) -> None:
    assert promised_time(text, NOW, OFFICE) is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("We'll update you by tomorrow 3 pm.", "by tomorrow 3 pm"),
        ("Expect news on Tuesday at 10:00, promise.", "on Tuesday at 10:00"),
        ("I'll check with the warehouse and reply within 2 business days.", "within 2 business days"),
        ("Look out for it by Dec 1 at noon!", "by Dec 1 at noon"),
    ],
)
def test_span_covers_the_promising_words(text: str, words: str) -> None:
    found = promised_time(text, NOW, OFFICE)
    assert found is not None
    start, end = found.span
    assert text[start:end] == words


def test_friday_business_days_skip_the_weekend() -> None:
    friday = ny(11, 20, 11)
    found = promised_time("within 2 business days", friday, OFFICE)
    assert found == PromisedTime(ny(11, 24, 17), (0, 22))


def test_elapsed_hours_count_real_time_across_a_dst_change() -> None:
    # Clocks go back at 02:00 on Sunday 1 November 2026: 24 real hours end at 09:00 EST.
    saturday = ny(10, 31, 10)
    found = promised_time("within 24 hours", saturday, OFFICE)
    assert found is not None
    assert found.at == ny(11, 1, 9)


def test_a_now_in_another_zone_reads_days_in_the_store_zone() -> None:
    # 02:00 UTC on Thursday is still Wednesday evening in New York: "tomorrow" is Thursday.
    found = promised_time("by tomorrow 3 pm", datetime(2026, 11, 19, 2, tzinfo=UTC), OFFICE)
    assert found is not None
    assert found.at == ny(11, 19, 15)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        promised_time("by Monday", datetime(2026, 11, 18, 10), OFFICE)  # noqa: DTZ001


def test_calendar_without_hours_still_reads_fixed_moments() -> None:
    assert promised_time("by end of day", NOW, NEVER_OPEN) is None
    found = promised_time("by Monday", NOW, NEVER_OPEN)
    assert found is not None
    assert found.at == ny(11, 23, 17)


TROUBLES = [
    ("by 31 February", "impossible_date", "“31 February” is not a date on the calendar"),
    ("2026-13-01", "impossible_date", "“2026-13-01” is not a date on the calendar"),
    ("by Tuesday 25 November", "weekday_mismatch", "25 November 2026 is a Wednesday, not a Tuesday"),
    ("mardi 25 novembre", "weekday_mismatch", "25 November 2026 is a Wednesday, not a Tuesday"),
    ("at 25:00", "impossible_time", "“25:00” is not a time of day"),
    ("by Friday 13 pm", "impossible_time", "“13 pm” is not a time of day"),
    ("on Easter Monday", "moveable_holiday", "“Easter Monday” falls on a different date each year"),
    ("am Ostermontag", "moveable_holiday", "“Ostermontag” falls on a different date each year"),
]


@pytest.mark.parametrize(("text", "trouble", "reason"), TROUBLES, ids=[t for t, _, _ in TROUBLES])
def test_a_phrase_that_names_a_wrong_day_says_what_is_wrong(text: str, trouble: str, reason: str) -> None:
    (phrase,) = read_phrases(text, NOW, OFFICE)
    assert (phrase.moment, phrase.trouble, phrase.reason) == (None, trouble, reason)


@pytest.mark.parametrize(
    ("text", "firm"),
    [
        ("by Friday", True),  # a deadline
        ("bis Freitag", True),
        ("d'ici vendredi", True),
        ("antes del viernes", True),
        ("Friday at the latest", True),
        ("until Friday", True),
        ("on Friday at 10:00", True),  # a time of day
        ("within 2 days", True),
        ("on Friday", False),  # a day mentioned in passing
        ("the scan on Monday 16 November", False),
    ],
)
def test_a_phrase_is_firm_when_said_as_a_deadline_or_with_a_time(text: str, firm: bool) -> None:
    (phrase,) = read_phrases(text, NOW, OFFICE)
    assert phrase.firm is firm


def test_each_language_reads_only_its_own_words() -> None:
    assert [p.words for p in read_phrases("bis morgen Mittag", NOW, OFFICE, ["en"])] == []
    assert [p.words for p in read_phrases("bis morgen Mittag", NOW, OFFICE, ["de"])] == ["bis morgen Mittag"]
    assert [p.words for p in read_phrases("by tomorrow noon", NOW, OFFICE, ["xx"])] == ["by tomorrow noon"]


# --- never raises ------------------------------------------------------------------------

VOCABULARY = [
    "by", "at", "on", "within", "in", "the", "next", "business", "working", "today", "tomorrow",
    "Monday", "friday", "noon", "midnight", "end of day", "EOD", "Dec", "December", "Feb",
    "1st", "31", "29", "0", "12", "13", "99", "9999", "00:00", "23:59", "24:00", "3pm", "3 p.m.",
    "12am", "2026-02-29", "2028-02-29", "9999-12-31 23:59", "0001-01-01", "hours", "days",
    "weeks", "minutes", "a", "an", "two", ",", ".", "\n", "!", "ſ", "K", "٣", "ı",
    "mardi", "décembre", "à", "10h", "Dienstag", "15.", "Dezember", "Uhr", "um", "bis", "martes",
    "de", "diciembre", "a las", "mañana", "morgen", "Christmas Day", "Noël", "Easter", "31 February",
    "d'ici", "antes del", "sous", "jours", "ouvrés", "Werktagen", "hábiles", "midi", "Mittag",
]  # fmt: skip
phrases = st.lists(st.sampled_from(VOCABULARY), max_size=12).map(" ".join)
moments = st.datetimes(
    min_value=datetime(1, 1, 2),  # noqa: DTZ001 - bounds for hypothesis, zone added below
    max_value=datetime(9999, 12, 30),  # noqa: DTZ001
    timezones=st.sampled_from([UTC, NEW_YORK]),
)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(max_size=80), phrases), now=moments, closed=st.booleans())
def test_never_raises(text: str, now: datetime, closed: bool) -> None:
    found = promised_time(text, now, NEVER_OPEN if closed else OFFICE)
    if found is not None:
        assert found.at > now
        start, end = found.span
        assert 0 <= start < end <= len(text)

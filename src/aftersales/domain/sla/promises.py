"""The moments a reply names, read phrase by phrase from its own words.

Zendesk only tracks the next update; aftersales also holds the desk to what the reply told
the customer (field-and-formats.md 2.1, "Beat it"). ``read_phrases`` finds each phrase that
names a moment, in the languages of ``time_words`` ("by tomorrow 3 pm", "on Tuesday
8 December at 10:00", "within 2 business days", "2026-12-01 14:00", "d'ici mardi 15 décembre
à 10h", "bis Dienstag, 15. Dezember, 10:00 Uhr", "antes del martes 15 de diciembre a las
10:00") and says which moment it names in the store's zone, or what is wrong with it.
``promised_time`` is the earliest such moment still ahead; ``domain/reply_promise.py``
decides which phrase is the reply's promise and checks it against the store's hours.

How phrases are read (a heuristic for a draft the agent sees, not a grammar):

* Tokens (a weekday, a date, a holiday, today/tomorrow, a clock time, noon, end of day)
  with only commas and small words between them ("at", "à", "um", "a las", "the", "den")
  form one phrase, with at most one day, one weekday and one time each: "Monday
  30 November" is one phrase, and "by Tuesday 8 December, 10:00" another.
* A day with a time is that wall time in the store's zone; "midnight" ends that day.
* A day without a time is the close of that business day (its last opening interval's
  end); on a day the store is closed it is 17:00 that day, which the reply check refuses
  as a closed time rather than silently moving it.
* A weekday alone is the next such day after today ("by Monday" said on a Monday is a week
  away). A date without a year is the *nearest* such date: "4 December" said on
  5 December is yesterday (a past day, refused by the check), "2 January" said in
  November is next year's. A weekday with a date must be that date's weekday.
* Fixed-date holidays ("Christmas Day", "Noël", "Heiligabend", "Nochevieja") are their
  dates; holidays whose date moves ("Easter Monday", "Pfingsten") are refused with a
  request to write the date.
* A time alone needs a preposition ("by 3 pm", "à 10h", "um 10 Uhr", "a las 10"): today if
  still ahead, else tomorrow. Without one, "our hours are 9am-5pm" would read as a promise.
* "end of day", "fin de journée", "Tagesende", "final del día": the end of the current
  business day, or of the day it is said with ("Friday EOD").
* "within/in N minutes|hours|days|weeks" (and "dans", "sous", "innerhalb von", "en",
  "dentro de") is elapsed time from ``now``; with "business", "working", "ouvrés",
  "hábiles" (or "Werktage") it is business time: N business hours on the calendar, or the
  close of the N-th business day after today.
* Weekday names are matched in full only ("sat" and "sun" are words too).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice

from aftersales.domain.sla.calendar import BusinessCalendar, due_at, end_of_business_day
from aftersales.domain.sla.time_grammar import (
    DAY_KINDS,
    TIME_KINDS,
    Grammar,
    Token,
    grammar_for,
    known_languages,
    roles,
    token_groups,
)
from aftersales.domain.sla.time_words import fold

__all__ = ["MAX_PHRASES", "Phrase", "PromisedTime", "known_languages", "promised_time", "read_phrases"]


@dataclass(frozen=True, slots=True)
class PromisedTime:
    at: datetime  # in the calendar's zone
    span: tuple[int, int]  # [start, end) of the words in the text


@dataclass(frozen=True, slots=True, kw_only=True)
class Phrase:
    """One phrase that names a day or a time, and what it names."""

    span: tuple[int, int]  # [start, end) in the text, with the preposition before it ("by ...")
    words: str  # the text of ``span``
    moment: datetime | None  # in the calendar's zone; None when it names none (see ``trouble``)
    trouble: str = ""  # impossible_date, impossible_time, weekday_mismatch, moveable_holiday
    reason: str = ""  # the trouble in words, for the agent
    deadline: bool = False  # "by", "d'ici", "bis", "antes del", "at the latest"; "within N days"
    until: bool = False  # said with "until", "jusqu'au", "hasta el": a deadline, or a fact's end
    timed: bool = False  # has a time of day, or is relative ("within 2 days") or end of day

    @property
    def firm(self) -> bool:
        """Said the way a promise is: as a deadline, or with a time of day."""
        return self.deadline or self.until or self.timed


MAX_PHRASES = 300
_CLOSED_DAY_HOUR = time(17)
_MAX_DAYS_AHEAD = 3660  # a promise years away is a misreading, and bounds every walk
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_NUMBER_PREFIX = {"clock24": "c24", "clockh": "ch", "clockuhr": "cu", "clocklas": "cl"}


class _Trouble(Exception):  # a private signal: it never leaves this module
    def __init__(self, check: str, reason: str) -> None:
        super().__init__(reason)
        self.check = check
        self.reason = reason


# --- days and times ----------------------------------------------------------------------


def _nearest_date(month: int, day: int, today: date) -> date:
    """The date with this month and day nearest to ``today`` (a tie goes to the future)."""
    candidates = []
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            candidates.append(date(year, month, day))
        except ValueError:
            continue
    if not candidates:
        raise ValueError(f"no day {day} in month {month}")
    return min(candidates, key=lambda found: (abs((found - today).days), found < today))


def _word_number(grammar: Grammar, kind: str, words: str) -> int:
    found = grammar.lookup[kind].get(fold(words))
    if found is None:  # a look-alike the regex folded and the table does not ("ı" for "i")
        raise LookupError(words)
    return found


def _date_of(token: Token, today: date, grammar: Grammar) -> date:
    """The local date a day token names; ``ValueError`` for an impossible date."""
    kind = token.kind
    if kind == "iso":
        return date.fromisoformat(token.text("iso_date"))
    if kind == "relday":
        return today + timedelta(days=_word_number(grammar, "relday", token.text("rd")))
    if kind == "holiday":
        month, day = grammar.holidays[fold(token.text("hol"))]
        return _nearest_date(month, day, today)
    prefix = "dm" if kind == "dm" else "md"
    month = _word_number(grammar, "month", token.text(f"{prefix}_m")) + 1
    day, year = int(token.text(f"{prefix}_d")), token.group(f"{prefix}_y")
    if year is not None:
        return date(int(year), month, day)
    return _nearest_date(month, day, today)


def _next_weekday(weekday: int, today: date) -> date:
    return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


def _clock_time(token: Token, grammar: Grammar) -> tuple[time, int]:
    """The wall time a time token names, and 1 if it is the midnight ending the day."""
    if token.kind == "named":
        hour = _word_number(grammar, "named", token.text("nm"))
        return (time(0), 1) if hour == 24 else (time(hour), 0)
    if token.kind == "clock12":
        hour, minute = int(token.text("c12_h")), int(token.group("c12_m") or 0)
        if not 1 <= hour <= 12:
            raise ValueError(f"not a 12-hour clock time: {hour}")
        afternoon = token.text("c12_ampm").lower() == "p"
        return time(hour % 12 + (12 if afternoon else 0), minute), 0
    prefix = _NUMBER_PREFIX[token.kind]
    return time(int(token.text(f"{prefix}_h")), int(token.group(f"{prefix}_m") or 0)), 0


def _is_business_day(day: date, calendar: BusinessCalendar) -> bool:
    return bool(calendar.weekly.get(day.weekday())) and not calendar.is_closed_day(day)


def _close_of(day: date, calendar: BusinessCalendar) -> datetime:
    """The end of ``day``'s last opening interval, or 17:00 if the store is closed that day."""
    if not _is_business_day(day, calendar):
        return datetime.combine(day, _CLOSED_DAY_HOUR, tzinfo=calendar.tz)
    end = calendar.weekly[day.weekday()][-1].end
    if end == time(0):  # an interval ending at midnight ends at the start of the next day
        return datetime.combine(day + timedelta(days=1), end, tzinfo=calendar.tz)
    return datetime.combine(day, end, tzinfo=calendar.tz)


def _business_days_later(days: int, now: datetime, calendar: BusinessCalendar) -> datetime:
    """The close of the ``days``-th business day after today."""
    day, counted = now.date(), 0
    for _ in range(_MAX_DAYS_AHEAD):
        day += timedelta(days=1)
        counted += _is_business_day(day, calendar)
        if counted >= days:
            return _close_of(day, calendar)
    raise ValueError(f"no {days} business days within {_MAX_DAYS_AHEAD} days")


def _relative(token: Token, now: datetime, calendar: BusinessCalendar, grammar: Grammar) -> datetime:
    raw = fold(token.text("rel_n"))
    count = int(raw) if raw.isdigit() else _word_number(grammar, "number", raw)
    unit = grammar.units[fold(token.text("rel_unit"))]
    business = unit == "b" or token.group("rel_b1") is not None or token.group("rel_b2") is not None
    unit = "d" if unit == "b" else unit
    minutes = count * {"m": 1, "h": 60, "d": 24 * 60, "w": 7 * 24 * 60}[unit]
    if minutes > _MAX_DAYS_AHEAD * 24 * 60:
        raise ValueError(f"{minutes} minutes ahead is no promise")
    if not business:
        # Elapsed time, added in UTC so a DST change does not add or drop an hour.
        return (now.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(calendar.tz)
    if unit in "dw":
        return _business_days_later(count * (5 if unit == "w" else 1), now, calendar)
    return due_at(now, minutes, calendar)


# --- phrases -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Reading:
    """What one phrase is read in: the text, the moment it is said at, the store's calendar."""

    text: str
    now: datetime
    calendar: BusinessCalendar
    grammar: Grammar


def _day(group: Sequence[Token], reading: _Reading) -> date | None:
    """The day a phrase names (None for a time alone); ``_Trouble`` when it names a wrong one."""
    day_token = next((t for t in group if t.kind in DAY_KINDS), None)
    weekday_token = next((t for t in group if t.kind == "weekday"), None)
    today = reading.now.date()
    weekday = (
        None if weekday_token is None else _word_number(reading.grammar, "weekday", weekday_token.text("wd"))
    )
    if day_token is None:
        return None if weekday is None else _next_weekday(weekday, today)
    if day_token.kind == "moveable":
        words = day_token.text("mov")
        raise _Trouble("moveable_holiday", f"“{words}” falls on a different date each year")
    try:
        day = _date_of(day_token, today, reading.grammar)
    except ValueError as error:
        words = reading.text[day_token.start : day_token.end]
        raise _Trouble("impossible_date", f"“{words}” is not a date on the calendar") from error
    if weekday is not None and weekday != day.weekday():
        said, actual = _WEEKDAY_NAMES[weekday], _WEEKDAY_NAMES[day.weekday()]
        raise _Trouble("weekday_mismatch", f"{day.day} {day:%B} {day.year} is a {actual}, not a {said}")
    return day


def _moment(group: Sequence[Token], reading: _Reading) -> datetime | None:
    if group[0].kind == "relative":
        return _relative(group[0], reading.now, reading.calendar, reading.grammar)
    day = _day(group, reading)
    time_token = next((t for t in group if t.kind in TIME_KINDS), None)
    iso = next((t for t in group if t.kind == "iso" and t.group("iso_h") is not None), None)
    if iso is not None and day is not None:
        wall = _checked_time(int(iso.text("iso_h")), int(iso.text("iso_m")), iso, reading)
        return datetime.combine(day, wall, tzinfo=reading.calendar.tz)
    if time_token is None:
        return None if day is None else _close_of(day, reading.calendar)
    if time_token.kind == "eod":
        return _close_of(day, reading.calendar) if day else end_of_business_day(reading.now, reading.calendar)
    try:
        wall, days_later = _clock_time(time_token, reading.grammar)
    except ValueError as error:
        words = reading.text[time_token.start : time_token.end]
        raise _Trouble("impossible_time", f"“{words}” is not a time of day") from error
    if day is not None:
        return datetime.combine(day + timedelta(days=days_later), wall, tzinfo=reading.calendar.tz)
    return _time_alone(time_token, wall, days_later, reading)


def _checked_time(hour: int, minute: int, token: Token, reading: _Reading) -> time:
    try:
        return time(hour, minute)
    except ValueError as error:
        words = reading.text[token.start : token.end]
        raise _Trouble("impossible_time", f"“{words}” is not a time of day") from error


def _time_alone(token: Token, wall: time, days_later: int, reading: _Reading) -> datetime | None:
    """Today at that time if still ahead, else tomorrow; None without a preposition before it."""
    has_preposition = token.kind == "clocklas" or reading.grammar.preposition.search(
        reading.text, max(0, token.start - 40), token.start
    )
    if not has_preposition:
        return None
    today = reading.now.date()
    moment = datetime.combine(today + timedelta(days=days_later), wall, tzinfo=reading.calendar.tz)
    return moment if moment > reading.now else moment + timedelta(days=1)


def _phrase(group: Sequence[Token], reading: _Reading) -> Phrase:
    text, grammar = reading.text, reading.grammar
    start, end = group[0].start, group[-1].end
    before = max(0, start - 40)
    preposition = grammar.preposition.search(text, before, start)
    span = (preposition.start() if preposition else start, end)
    said = Phrase(
        span=span,
        words=text[span[0] : span[1]],
        moment=None,
        deadline=group[0].kind == "relative"  # "within 2 days" is a deadline in itself
        or bool(
            grammar.deadline_before.search(text, before, start) or grammar.deadline_after.match(text, end)
        ),
        until=bool(grammar.until_before.search(text, before, start)),
        timed=any(t.kind == "relative" or "time" in roles(t) for t in group),
    )
    try:
        moment = _moment(group, reading)
    except _Trouble as trouble:
        return replace(said, trouble=trouble.check, reason=trouble.reason)
    except (ValueError, OverflowError, LookupError):
        # A moment past year 9999, a calendar with no opening hours, a look-alike letter:
        # these words name no moment, and nothing about them is for the agent to fix.
        return said
    return replace(said, moment=None if moment is None else moment.astimezone(reading.calendar.tz))


def read_phrases(
    text: str, now: datetime, calendar: BusinessCalendar, languages: Iterable[str] = ()
) -> list[Phrase]:
    """Every phrase of ``text`` that names a day or a time, in order (the first
    ``MAX_PHRASES``: a reply is read in milliseconds, and one naming hundreds of days is no
    reply to read for its promise).

    ``languages`` are ISO 639-1 codes (unknown ones are ignored; none means every supported
    language). Never raises for any text; ``now`` must be timezone-aware (``ValueError``
    otherwise), because a naive ``now`` would be read in the server's zone.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be a timezone-aware datetime, got {now!r}")
    try:
        local_now = now.astimezone(calendar.tz)
    except (ValueError, OverflowError):
        return []
    reading = _Reading(text, local_now, calendar, grammar_for(known_languages(languages)))
    groups = islice(token_groups(text, reading.grammar), MAX_PHRASES)
    return [_phrase(group, reading) for group in groups]


def promised_time(
    text: str, now: datetime, calendar: BusinessCalendar, languages: Iterable[str] = ()
) -> PromisedTime | None:
    """The earliest moment after ``now`` that ``text`` names, or None.

    Any phrase counts, wherever it stands; ``reply_promise.read_promise`` is the reading
    that knows which sentence promises. Never raises for any text; ``now`` must be aware.
    """
    best: PromisedTime | None = None
    for phrase in read_phrases(text, now, calendar, languages):
        if phrase.moment is None or phrase.moment <= now:
            continue
        found = PromisedTime(phrase.moment, phrase.span)
        if best is None or (found.at, found.span) < (best.at, best.span):
            best = found
    return best

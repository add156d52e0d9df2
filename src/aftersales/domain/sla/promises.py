"""The next-update time an agent's reply promises, read from the reply's own words.

Zendesk only tracks the next update; aftersales also holds the desk to what the reply told
the customer (field-and-formats.md 2.1, "Beat it"). ``promised_time`` finds phrases such as
"by tomorrow 3 pm", "on Tuesday at 10:00", "within 2 business days" or "2026-12-01 14:00"
and turns the earliest one still ahead of ``now`` into a moment in the store's zone.

How phrases are read (English only; a heuristic for a draft the agent sees, not a grammar):

* A day with a time is that wall time in the store's zone ("tomorrow 3 pm", "3 pm tomorrow",
  "Dec 1 at noon"); "midnight" is the end of that day.
* A day without a time is the close of that business day (its last opening interval's
  end). On a day the store is closed it is 17:00 that day: the customer was told that day,
  so moving the promise to the next open day would let the desk miss it.
* A weekday name means the next such day after today ("by Monday" said on a Monday is a
  week away; say "today" for today); "this"/"next"/"coming" before it change nothing. A
  date without a year is the next such date, today included.
* A time alone needs a preposition ("by 3 pm", "at 15:00"): today if still ahead, else
  tomorrow. Without one, "our hours are 9am-5pm" would read as a promise.
* "end of day", "EOD", "close of business": the end of the current business day.
* "within/in N minutes|hours|days|weeks" is elapsed time from ``now``; with "business" or
  "working" it is business time: N business hours on the calendar, or the close of the
  N-th business day after today.
* Weekday names are matched in full only ("sat" and "sun" are words too).

A moment that is not after ``now`` is no promise (the reply is talking about the past).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from aftersales.domain.sla.calendar import BusinessCalendar, due_at, end_of_business_day

__all__ = ["PromisedTime", "promised_time"]


@dataclass(frozen=True, slots=True)
class PromisedTime:
    at: datetime  # in the calendar's zone
    span: tuple[int, int]  # [start, end) of the words in the text


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTH = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_COUNTS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_NUMBER_WORDS = {"a": 1, "an": 1} | {word: index for index, word in enumerate(_COUNTS, start=1)}
_NUMBER = r"[0-9]{1,4}|an?|" + "|".join(_COUNTS)

# One alternative per token kind; inner group names carry the kind so they stay unique.
_TOKENS = {
    "iso": r"(?P<iso_date>[0-9]{4}-[0-9]{2}-[0-9]{2})(?:[t ](?P<iso_h>[0-9]{2}):(?P<iso_m>[0-9]{2}))?",
    "relative": (
        rf"(?:within|in|inside)\s+(?:the\s+)?(?:next\s+)?(?P<rel_n>{_NUMBER})\s*"
        r"(?P<rel_biz>(?:business|working)\s+)?(?P<rel_unit>minutes?|mins?|hours?|hrs?|h|days?|weeks?)"
    ),
    "eod": r"(?:the\s+)?end\s+of\s+(?:the\s+)?(?:business\s+|working\s+)?day|eod|cob|close\s+of\s+business",
    "dm": rf"(?P<dm_d>[0-9]{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<dm_m>{_MONTH})\.?(?:,?\s+(?P<dm_y>[0-9]{{4}}))?",
    "md": rf"(?P<md_m>{_MONTH})\.?\s+(?P<md_d>[0-9]{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<md_y>[0-9]{{4}}))?",
    "weekday": rf"(?:(?:this|next|coming)\s+)?(?P<wd>{'|'.join(_WEEKDAYS)})",
    "relday": r"(?P<rd>today|tomorrow)",
    "clock12": r"(?P<c12_h>[0-9]{1,2})(?::(?P<c12_m>[0-9]{2}))?\s*(?P<c12_ampm>[ap])(?:m|\.m\.?)",
    "clock24": r"(?P<c24_h>[0-9]{1,2}):(?P<c24_m>[0-9]{2})",
    "named": r"(?P<nm>noon|midday|midnight)",
}
_FLAGS = re.IGNORECASE | re.ASCII  # ASCII: no Unicode digits or case folds ("K" for k)
_TOKEN = re.compile(
    "|".join(rf"(?P<{kind}>\b(?:{body})(?![a-z0-9]))" for kind, body in _TOKENS.items()), _FLAGS
)
_DAYS = frozenset({"iso", "dm", "md", "weekday", "relday"})
_TIMES = frozenset({"clock12", "clock24", "named"})
# What may stand between a day and its time ("tomorrow at 3 pm", "noon on Friday").
_JOINER = re.compile(
    r"[\s,]*(?:(?:at|by|around|about|before|on|until|till|no\s+later\s+than)[\s,]+)?", _FLAGS
)
_PREPOSITION = re.compile(r"\b(?:by|on|at|before|until|till|around|no\s+later\s+than)\s+\Z", _FLAGS)
_CLOSED_DAY_HOUR = time(17)
_MAX_DAYS_AHEAD = 3660  # a promise years away is a misreading, and bounds every walk


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    match: re.Match[str]

    @property
    def start(self) -> int:
        return self.match.start(self.kind)

    @property
    def end(self) -> int:
        return self.match.end(self.kind)

    def group(self, name: str) -> str | None:
        return self.match.group(name)


def _tokens(text: str) -> list[_Token]:
    return [_Token(str(m.lastgroup), m) for m in _TOKEN.finditer(text)]


# --- days and times ----------------------------------------------------------------------


def _next_date(month: int, day: int, year: str | None, today: date) -> date:
    if year is not None:
        return date(int(year), month, day)
    this_year = date(today.year, month, day)
    return this_year if this_year >= today else date(today.year + 1, month, day)


def _day(token: _Token, today: date) -> date:
    """The local date a day token names; ``ValueError`` for an impossible date."""
    kind, group = token.kind, token.group
    if kind == "iso":
        return date.fromisoformat(str(group("iso_date")))
    if kind == "relday":
        return today + timedelta(days=1 if str(group("rd")).lower() == "tomorrow" else 0)
    if kind == "weekday":
        weekday = _WEEKDAYS.index(str(group("wd")).lower())
        return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)
    prefix = "dm" if kind == "dm" else "md"
    month = _MONTHS.index(str(group(f"{prefix}_m"))[:3].lower()) + 1
    return _next_date(month, int(str(group(f"{prefix}_d"))), group(f"{prefix}_y"), today)


def _clock_time(token: _Token) -> tuple[time, int]:
    """The wall time a time token names, and 1 if it is the midnight ending the day."""
    group = token.group
    if token.kind == "named":
        return (time(0), 1) if str(group("nm")).lower() == "midnight" else (time(12), 0)
    if token.kind == "clock24":
        return time(int(str(group("c24_h"))), int(str(group("c24_m")))), 0
    hour, minute = int(str(group("c12_h"))), int(group("c12_m") or 0)
    if not 1 <= hour <= 12:
        raise ValueError(f"not a 12-hour clock time: {hour}")
    afternoon = str(group("c12_ampm")).lower() == "p"
    return time(hour % 12 + (12 if afternoon else 0), minute), 0


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


def _at(day: date, token: _Token, calendar: BusinessCalendar) -> datetime:
    wall, days_later = _clock_time(token)
    return datetime.combine(day + timedelta(days=days_later), wall, tzinfo=calendar.tz)


def _time_alone(token: _Token, now: datetime, calendar: BusinessCalendar) -> datetime:
    """Today at that time if still ahead, else tomorrow."""
    today = now.date()
    moment = _at(today, token, calendar)
    return moment if moment > now else _at(today + timedelta(days=1), token, calendar)


# --- relative phrases --------------------------------------------------------------------


def _business_days_later(days: int, now: datetime, calendar: BusinessCalendar) -> datetime:
    """The close of the ``days``-th business day after today."""
    day, counted = now.date(), 0
    for _ in range(_MAX_DAYS_AHEAD):
        day += timedelta(days=1)
        counted += _is_business_day(day, calendar)
        if counted >= days:
            return _close_of(day, calendar)
    raise ValueError(f"no {days} business days within {_MAX_DAYS_AHEAD} days")


def _relative(token: _Token, now: datetime, calendar: BusinessCalendar) -> datetime:
    raw = str(token.group("rel_n")).lower()
    count = _NUMBER_WORDS[raw] if raw in _NUMBER_WORDS else int(raw)
    unit = str(token.group("rel_unit")).lower()[0]  # m(inutes), h(ours), d(ays), w(eeks)
    minutes = count * {"m": 1, "h": 60, "d": 24 * 60, "w": 7 * 24 * 60}[unit]
    if minutes > _MAX_DAYS_AHEAD * 24 * 60:
        raise ValueError(f"{minutes} minutes ahead is no promise")
    if token.group("rel_biz") is None:
        # Elapsed time, added in UTC so a DST change does not add or drop an hour.
        return (now.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(calendar.tz)
    if unit in "dw":
        return _business_days_later(count * (5 if unit == "w" else 1), now, calendar)
    return due_at(now, minutes, calendar)


# --- phrases: tokens joined into moments -------------------------------------------------


def _joined(text: str, first: _Token, second: _Token) -> bool:
    return _JOINER.fullmatch(text, first.end, second.start) is not None


def _pair(first: _Token, second: _Token, now: datetime, calendar: BusinessCalendar) -> datetime | None:
    """The moment two neighbouring tokens name together, or None if they do not pair."""
    if _is_full(first) or _is_full(second):
        return None  # already a date and a time
    kinds = (first.kind, second.kind)
    day_token = first if first.kind in _DAYS else second
    other = second if day_token is first else first
    if other.kind in _TIMES and day_token.kind in _DAYS:
        return _at(_day(day_token, now.date()), other, calendar)
    if "eod" in kinds and day_token.kind in _DAYS:  # "end of day Friday", "tomorrow EOD"
        return _close_of(_day(day_token, now.date()), calendar)
    return None


def _is_full(token: _Token) -> bool:
    return token.kind == "iso" and token.group("iso_h") is not None


def _alone(text: str, token: _Token, now: datetime, calendar: BusinessCalendar) -> datetime | None:
    kind = token.kind
    if _is_full(token):
        wall = time(int(str(token.group("iso_h"))), int(str(token.group("iso_m"))))
        return datetime.combine(_day(token, now.date()), wall, tzinfo=calendar.tz)
    if kind in _DAYS:
        return _close_of(_day(token, now.date()), calendar)
    if kind == "relative":
        return _relative(token, now, calendar)
    if kind == "eod":
        return end_of_business_day(now, calendar)
    if _PREPOSITION.search(text, max(0, token.start - 40), token.start):
        return _time_alone(token, now, calendar)
    return None


def _phrases(
    text: str, now: datetime, calendar: BusinessCalendar
) -> Iterator[tuple[int, int, datetime | None]]:
    """(start, end, moment) for each phrase; moment None when the words name no moment."""
    tokens = _tokens(text)
    index = 0
    while index < len(tokens):
        token = tokens[index]
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        try:
            paired = None
            if following is not None and _joined(text, token, following):
                paired = _pair(token, following, now, calendar)
            if paired is not None and following is not None:
                index += 1
                yield token.start, following.end, paired
            else:
                yield token.start, token.end, _alone(text, token, now, calendar)
        except (ValueError, OverflowError, KeyError):
            # An impossible date ("31 February"), a moment past year 9999, a calendar with
            # no opening hours: these words name no promise, and the reply is still sent.
            yield token.start, token.end, None
        index += 1


def _with_preposition(text: str, start: int) -> int:
    found = _PREPOSITION.search(text, max(0, start - 40), start)
    return found.start() if found else start


def promised_time(text: str, now: datetime, calendar: BusinessCalendar) -> PromisedTime | None:
    """The earliest moment after ``now`` that ``text`` promises, or None.

    Never raises for any text; ``now`` must be timezone-aware (``ValueError`` otherwise),
    because a naive ``now`` would be read in the server's zone.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be a timezone-aware datetime, got {now!r}")
    try:
        local_now = now.astimezone(calendar.tz)
    except (ValueError, OverflowError):
        return None
    best: PromisedTime | None = None
    for start, end, moment in _phrases(text, local_now, calendar):
        if moment is None or moment <= local_now:
            continue
        found = PromisedTime(moment.astimezone(calendar.tz), (_with_preposition(text, start), end))
        if best is None or (found.at, found.span) < (best.at, best.span):
            best = found
    return best

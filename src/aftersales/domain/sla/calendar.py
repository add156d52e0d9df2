"""Business-hours calendar and the SLA time arithmetic over it.

SLA clocks only run while the store is open: inside its weekly opening intervals, on days
that are neither public holidays nor store closures, and outside pauses such as "waiting on
the customer". There is no maintained library for this arithmetic, so it is hand-written
over the standard library's ``zoneinfo``.

Design:

* The walk is day by day in the store's *local* calendar. Each opening interval of a day is
  turned into an absolute span by converting its two wall-clock boundaries with ``zoneinfo``
  and then all arithmetic happens on UTC instants. Durations are therefore real elapsed
  time, so a day with a DST change has one hour more or less of opening time, as the staff
  actually experience it.
* Boundaries that fall on a DST change follow PEP 495 ``fold=0`` (the same default as
  ``java.time``): a *nonexistent* local time (spring-forward gap) is shifted forward by the
  length of the gap, so 02:30 on 2026-03-08 in New York means 03:30 EDT; an *ambiguous*
  local time (fall-back overlap) means its first occurrence, so 02:30 on 2026-10-25 in
  Berlin means 02:30 CEST. A span that this leaves empty is dropped, and one shifted
  into the next span is clipped, so no instant is ever counted twice.
* An interval ``end`` of ``time(0)`` means midnight at the end of the day ("24:00"), so a
  store can be open around the clock; any other ``end`` must be after ``start``.
* Results are aware datetimes in the calendar's zone. Compare them as instants
  (``.astimezone(UTC)``) near a fall-back hour: Python compares two datetimes that share a
  ``tzinfo`` by wall time and ignores ``fold``, so 01:30 EST would sort before 01:45 EDT.
* Which days are closed is injected as a predicate, so this module stays pure: holidays
  come from an adapter, and nothing here reads a clock or the environment.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

from aftersales.domain.policy import Interval

__all__ = [
    "BusinessCalendar",
    "business_minutes",
    "due_at",
    "end_of_business_day",
    "is_open",
    "next_open",
    "open_spans",
]

Span = tuple[datetime, datetime]  # [start, end) as UTC instants

_ONE_DAY = timedelta(days=1)
_MIDNIGHT = time(0)
_EARLIEST = datetime.min.replace(tzinfo=UTC)
# An open-ended search gives up after this many consecutive days without any opening
# time: a calendar whose every day is closed would otherwise be walked forever.
_MAX_CLOSED_DAYS = 3 * 366
_CACHED_DAYS = 20_000  # about fifty years of dates: the cache never grows without bound


def _never_closed(day: date) -> bool:
    """Default closed-day predicate: no holidays and no closures."""
    return False


def _end_minutes(interval: Interval) -> float:
    """Minutes after local midnight at which ``interval`` ends (``time(0)`` is 24:00)."""
    if interval.end == _MIDNIGHT:
        return 24 * 60.0
    return _minutes_of(interval.end)


def _minutes_of(moment: time) -> float:
    """Minutes after local midnight of a wall-clock time, microseconds included."""
    return moment.hour * 60 + moment.minute + (moment.second + moment.microsecond / 1e6) / 60


def _fold_zero(interval: Interval) -> Interval:
    """``interval`` with ``fold=0`` times, so DST resolution never depends on the input.

    Done once at construction because ``time.replace`` is costly on the hot path.
    """
    if interval.start.fold == 0 and interval.end.fold == 0:
        return interval
    return Interval(interval.start.replace(fold=0), interval.end.replace(fold=0))


def _validate_day(weekday: int, intervals: tuple[Interval, ...]) -> None:
    """Reject a weekday's intervals unless each is non-empty, naive and they are ordered."""
    previous_end = 0.0
    for interval in intervals:
        label = f"weekday {weekday}: interval {interval.start}-{interval.end}"
        if interval.start.tzinfo is not None or interval.end.tzinfo is not None:
            raise ValueError(f"{label} must use naive local times; the zone is the calendar's")
        start, end = _minutes_of(interval.start), _end_minutes(interval)
        if start >= end:
            raise ValueError(f"{label} must start before it ends")
        if start < previous_end:
            raise ValueError(f"{label} overlaps or is out of order; sort intervals by start")
        previous_end = end


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """When a store is open: a zone, weekly opening intervals and a closed-day predicate.

    ``weekly`` maps a weekday (0 = Monday) to that day's opening intervals in local wall
    time, sorted and non-overlapping; a missing weekday is closed. ``is_closed_day`` says
    whether a local date is closed anyway (public holiday or store closure).
    """

    tz: ZoneInfo
    weekly: Mapping[int, tuple[Interval, ...]]
    is_closed_day: Callable[[date], bool] = field(default=_never_closed)
    # Each local date's opening spans, made once: every clock of every case walks the same
    # few days, and turning wall times into instants was a third of the routing time.
    _spans_of_day: dict[date, tuple[Span, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        """Validate the weekly intervals and freeze a private copy of them."""
        frozen: dict[int, tuple[Interval, ...]] = {}
        for weekday, intervals in self.weekly.items():
            if weekday not in range(7):
                raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), got {weekday!r}")
            frozen[weekday] = tuple(_fold_zero(interval) for interval in intervals)
            _validate_day(weekday, frozen[weekday])
        # A copy, so that mutating the caller's mapping cannot bypass the validation.
        object.__setattr__(self, "weekly", MappingProxyType(frozen))

    def has_opening_hours(self) -> bool:
        """Whether any weekday has an opening interval at all."""
        return any(self.weekly.values())


# --- wall time to instants -------------------------------------------------------------


def _instant(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local wall time on ``day``, resolved with ``fold=0``.

    The calendar's interval times already have ``fold=0`` (see ``_fold_zero``).
    """
    return datetime.combine(day, wall, tzinfo=tz).astimezone(UTC)


def _day_spans(calendar: BusinessCalendar, day: date, floor: datetime) -> list[Span]:
    """The opening spans of one local date as UTC instants; empty if the day is closed.

    Spans are clipped to start no earlier than ``floor`` (the end of the previous span), so
    boundaries shifted by a DST gap can never make two spans overlap and count twice.
    """
    spans: list[Span] = []
    for start, end in _unclipped_spans(calendar, day):
        start = max(start, floor)
        if end > start:  # a boundary shifted by a DST gap can leave nothing open
            spans.append((start, end))
            floor = end
    return spans


def _unclipped_spans(calendar: BusinessCalendar, day: date) -> tuple[Span, ...]:
    cache = calendar._spans_of_day
    found = cache.get(day)
    if found is None:
        if len(cache) > _CACHED_DAYS:
            cache.clear()
        found = cache[day] = tuple(_wall_spans(calendar, day))
    return found


def _wall_spans(calendar: BusinessCalendar, day: date) -> Iterator[Span]:
    intervals = calendar.weekly.get(day.weekday())
    # Only consult the (possibly slow) closed-day predicate on days with opening hours.
    if not intervals or calendar.is_closed_day(day):
        return
    for interval in intervals:
        end_day = day + _ONE_DAY if interval.end == _MIDNIGHT else day
        yield _instant(day, interval.start, calendar.tz), _instant(end_day, interval.end, calendar.tz)


def _open_days(
    calendar: BusinessCalendar, after: datetime, until: datetime | None = None
) -> Iterator[tuple[date, list[Span]]]:
    """Each open local date with its spans, in order, skipping spans that end by ``after``.

    Stops after the local date of ``until``; without ``until`` it runs until the caller
    stops, raising ``ValueError`` after ``_MAX_CLOSED_DAYS`` days in a row with nothing open.
    """
    if not calendar.has_opening_hours():
        raise ValueError("the business calendar has no opening hours on any weekday")
    # Start one day early: the previous day's last interval may run past local midnight.
    day = after.astimezone(calendar.tz).date() - _ONE_DAY
    last = until.astimezone(calendar.tz).date() if until is not None else None
    closed_run = 0
    floor = _EARLIEST
    while last is None or day <= last:
        spans = _day_spans(calendar, day, floor)
        floor = spans[-1][1] if spans else floor
        spans = [span for span in spans if span[1] > after]
        if spans:
            closed_run = 0
            yield day, spans
        else:
            closed_run += 1
            if last is None and closed_run > _MAX_CLOSED_DAYS:
                raise ValueError(
                    f"the business calendar has no open time in the {_MAX_CLOSED_DAYS} days "
                    f"after {after.isoformat()}"
                )
        day += _ONE_DAY


def _open_spans(calendar: BusinessCalendar, after: datetime, until: datetime | None = None) -> Iterator[Span]:
    """Opening spans from ``after`` on, the first one clipped so it starts at ``after``."""
    for _day, spans in _open_days(calendar, after, until):
        for start, end in spans:
            yield max(start, after), end


# --- pauses ---------------------------------------------------------------------------------


def _require_aware(moment: datetime, name: str) -> datetime:
    """``moment`` as a UTC instant; a naive datetime has no meaning here, so it is refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {moment!r}")
    return moment.astimezone(UTC)


def _normalise_pauses(pauses: Iterable[tuple[datetime, datetime]]) -> list[Span]:
    """Pauses as sorted, merged UTC spans; empty or inverted pauses are dropped."""
    spans = sorted(
        (_require_aware(start, "pause start"), _require_aware(end, "pause end")) for start, end in pauses
    )
    merged: list[Span] = []
    for start, end in spans:
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _without_pauses(spans: Iterable[Span], pauses: Sequence[Span]) -> Iterator[Span]:
    """The parts of ordered ``spans`` not covered by sorted, merged ``pauses``."""
    first = 0  # pauses before this index end before every span still to come
    for start, end in spans:
        while first < len(pauses) and pauses[first][1] <= start:
            first += 1
        cursor = start
        for pause_start, pause_end in pauses[first:]:
            if pause_start >= end:
                break
            if pause_start > cursor:
                yield cursor, pause_start
            cursor = max(cursor, pause_end)
        if cursor < end:
            yield cursor, end


def _running_time(
    calendar: BusinessCalendar,
    after: datetime,
    pauses: Iterable[tuple[datetime, datetime]],
    until: datetime | None = None,
) -> Iterator[Span]:
    """The spans from ``after`` on during which an SLA clock runs."""
    spans = _open_spans(calendar, after, until)
    paused = _normalise_pauses(pauses)
    return _without_pauses(spans, paused) if paused else spans


# --- public arithmetic -------------------------------------------------------------------


def due_at(
    start: datetime,
    minutes: float,
    calendar: BusinessCalendar,
    pauses: Sequence[tuple[datetime, datetime]] = (),
) -> datetime:
    """The moment ``minutes`` business minutes after ``start``, in the calendar's zone.

    Closed time and ``pauses`` do not count. A start outside business hours starts the clock
    at the next opening; ``minutes == 0`` returns that opening (or ``start`` if open). A
    budget used up exactly at a closing time returns the closing time, not the next opening.
    Raises ``ValueError`` for a naive datetime, a negative or non-finite budget, or a
    calendar with no open time.
    """
    origin = _require_aware(start, "start")
    if not math.isfinite(minutes) or minutes < 0:
        raise ValueError(f"minutes must be a finite number >= 0, got {minutes!r}")
    remaining = timedelta(minutes=minutes)
    for span_start, span_end in _running_time(calendar, origin, pauses):
        if remaining <= span_end - span_start:
            return (span_start + remaining).astimezone(calendar.tz)
        remaining -= span_end - span_start
    # Unreachable: without ``until`` the walk either yields forever or raises ValueError.
    raise AssertionError("open-ended business-time walk ended")


def business_minutes(
    start: datetime,
    end: datetime,
    calendar: BusinessCalendar,
    pauses: Sequence[tuple[datetime, datetime]] = (),
) -> float:
    """Business minutes between ``start`` and ``end``, not counting ``pauses``.

    Zero if ``end`` is not after ``start``. Raises ``ValueError`` for a naive datetime.
    """
    origin, finish = _require_aware(start, "start"), _require_aware(end, "end")
    if finish <= origin or not calendar.has_opening_hours():
        return 0.0
    total = timedelta()
    for span_start, span_end in _running_time(calendar, origin, pauses, until=finish):
        if span_start >= finish:
            break
        total += min(span_end, finish) - span_start
    return total / timedelta(minutes=1)


def open_spans(calendar: BusinessCalendar, start: datetime, end: datetime) -> Iterator[Span]:
    """The opening spans (UTC instants, in order) between ``start`` and ``end``, clipped to
    them: what ``business_minutes`` adds up, for a caller that measures many spans of the
    same stretch of days (domain/trends.py indexes them once)."""
    origin, finish = _require_aware(start, "start"), _require_aware(end, "end")
    if finish <= origin or not calendar.has_opening_hours():
        return
    for span_start, span_end in _open_spans(calendar, origin, until=finish):
        if span_start >= finish:
            return
        yield span_start, min(span_end, finish)


def is_open(moment: datetime, calendar: BusinessCalendar) -> bool:
    """Whether the store is open at ``moment`` (interval ends are exclusive)."""
    instant = _require_aware(moment, "moment")
    if not calendar.has_opening_hours():
        return False
    first_day = next(_open_days(calendar, instant, until=instant), None)
    return first_day is not None and first_day[1][0][0] <= instant


def next_open(moment: datetime, calendar: BusinessCalendar) -> datetime:
    """``moment`` itself if the store is open then, else its next opening, in the zone.

    Raises ``ValueError`` for a naive datetime or a calendar with no open time.
    """
    return due_at(moment, 0, calendar)


def end_of_business_day(moment: datetime, calendar: BusinessCalendar) -> datetime:
    """The closing time of the business day ``moment`` falls in, in the calendar's zone.

    Before the day's last close that is today's close (even before today's opening);
    after it, or on a closed day, it is the close of the next business day. Used for
    "answer within the same business day" escalation. Raises ``ValueError`` for a naive
    datetime or a calendar with no open time.
    """
    instant = _require_aware(moment, "moment")
    # Without ``until`` the walk never ends: it finds a day or raises ValueError.
    _day, spans = next(_open_days(calendar, instant))
    return spans[-1][1].astimezone(calendar.tz)

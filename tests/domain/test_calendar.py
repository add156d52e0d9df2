"""Unit and property tests for the business-hours calendar and SLA time arithmetic."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from aftersales.domain.policy import Interval
from aftersales.domain.sla.calendar import (
    BusinessCalendar,
    business_minutes,
    due_at,
    end_of_business_day,
    is_open,
    next_open,
)

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
UTC_ZONE = ZoneInfo("UTC")
NINE_TO_FIVE = (Interval(time(9), time(17)),)
LUNCH_BREAK = (Interval(time(9), time(12)), Interval(time(13), time(17)))


def weekdays(intervals: tuple[Interval, ...]) -> dict[int, tuple[Interval, ...]]:
    """The same intervals Monday to Friday, weekend closed."""
    return dict.fromkeys(range(5), intervals)


def closed_on(*days: date) -> Callable[[date], bool]:
    """A closed-day predicate for a fixed set of dates."""
    closed = frozenset(days)
    return closed.__contains__


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """A New York wall time (fold=0)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=NEW_YORK)


OFFICE = BusinessCalendar(NEW_YORK, weekdays(NINE_TO_FIVE))
LUNCH_OFFICE = BusinessCalendar(NEW_YORK, weekdays(LUNCH_BREAK))


# --- construction ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("intervals", "message"),
    [
        ((Interval(time(17), time(9)),), "start before it ends"),
        ((Interval(time(9), time(9)),), "start before it ends"),
        ((Interval(time(13), time(17)), Interval(time(9), time(12))), "out of order"),
        ((Interval(time(9), time(13)), Interval(time(12), time(17))), "overlaps"),
        ((Interval(time(9, tzinfo=UTC), time(17)),), "naive local times"),
    ],
)
def test_invalid_intervals_are_rejected(intervals: tuple[Interval, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(NEW_YORK, {0: intervals})


@pytest.mark.parametrize("weekday", [-1, 7])
def test_weekday_out_of_range_is_rejected(weekday: int) -> None:
    with pytest.raises(ValueError, match="weekday must be 0"):
        BusinessCalendar(NEW_YORK, {weekday: NINE_TO_FIVE})


def test_touching_intervals_are_allowed() -> None:
    calendar = BusinessCalendar(NEW_YORK, {0: (Interval(time(9), time(12)), Interval(time(12), time(17)))})
    assert due_at(ny(2026, 1, 5, 11), 120, calendar) == ny(2026, 1, 5, 13)


def test_weekly_mapping_is_copied() -> None:
    weekly = weekdays(NINE_TO_FIVE)
    calendar = BusinessCalendar(NEW_YORK, weekly)
    weekly[0] = (Interval(time(17), time(9)),)  # would be invalid; must not leak in
    assert calendar.weekly[0] == NINE_TO_FIVE


# --- due_at ---------------------------------------------------------------------------------


def test_friday_afternoon_rolls_over_the_weekend() -> None:
    assert due_at(ny(2026, 1, 9, 16), 240, OFFICE) == ny(2026, 1, 12, 12)


def test_budget_used_up_at_closing_returns_the_closing_time() -> None:
    assert due_at(ny(2026, 1, 9, 13), 240, OFFICE) == ny(2026, 1, 9, 17)


def test_lunch_break_is_skipped() -> None:
    assert due_at(ny(2026, 1, 6, 11), 120, LUNCH_OFFICE) == ny(2026, 1, 6, 14)


def test_start_before_opening_starts_at_opening() -> None:
    assert due_at(ny(2026, 1, 6, 7, 30), 30, OFFICE) == ny(2026, 1, 6, 9, 30)


def test_zero_minutes_rolls_forward_to_the_next_opening() -> None:
    assert due_at(ny(2026, 1, 10, 10), 0, OFFICE) == ny(2026, 1, 12, 9)
    assert due_at(ny(2026, 1, 12, 10), 0, OFFICE) == ny(2026, 1, 12, 10)
    assert due_at(ny(2026, 1, 12, 17), 0, OFFICE) == ny(2026, 1, 13, 9)


def test_result_is_in_the_calendar_zone() -> None:
    result = due_at(datetime(2026, 1, 9, 21, tzinfo=UTC), 240, OFFICE)
    assert result.tzinfo is NEW_YORK
    assert result == ny(2026, 1, 12, 12)
    assert result.hour == 12


def test_fractional_minutes() -> None:
    assert due_at(ny(2026, 1, 6, 9), 0.5, OFFICE) == ny(2026, 1, 6, 9, 0, 30)


def test_closed_days_are_skipped() -> None:
    calendar = BusinessCalendar(NEW_YORK, weekdays(NINE_TO_FIVE), closed_on(date(2026, 11, 26)))
    assert due_at(ny(2026, 11, 25, 15), 480, calendar) == ny(2026, 11, 27, 15)


def test_pause_stops_the_clock() -> None:
    pauses = [(ny(2026, 1, 5, 11), ny(2026, 1, 6, 10))]
    assert due_at(ny(2026, 1, 5, 10), 240, OFFICE, pauses) == ny(2026, 1, 6, 13)


def test_overlapping_and_empty_pauses_are_merged_or_ignored() -> None:
    pauses = [
        (ny(2026, 1, 5, 12), ny(2026, 1, 5, 14)),
        (ny(2026, 1, 5, 11), ny(2026, 1, 5, 13)),
        (ny(2026, 1, 5, 15), ny(2026, 1, 5, 15)),
        (ny(2026, 1, 5, 16), ny(2026, 1, 5, 15)),
    ]
    assert due_at(ny(2026, 1, 5, 10), 120, OFFICE, pauses) == ny(2026, 1, 5, 15)


def test_pause_covering_the_start() -> None:
    pauses = [(ny(2026, 1, 5, 8), ny(2026, 1, 5, 10))]
    assert due_at(ny(2026, 1, 5, 9), 60, OFFICE, pauses) == ny(2026, 1, 5, 11)


def test_pause_over_several_intervals() -> None:
    pauses = [(ny(2026, 1, 5, 11), ny(2026, 1, 7, 9, 30))]
    assert due_at(ny(2026, 1, 5, 9), 180, LUNCH_OFFICE, pauses) == ny(2026, 1, 7, 10, 30)


@pytest.mark.parametrize("minutes", [-1.0, float("nan"), float("inf")])
def test_bad_budget_is_rejected(minutes: float) -> None:
    with pytest.raises(ValueError, match="minutes"):
        due_at(ny(2026, 1, 5, 9), minutes, OFFICE)


def test_naive_datetimes_are_rejected() -> None:
    naive = datetime(2026, 1, 5, 9)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="timezone-aware"):
        due_at(naive, 10, OFFICE)
    with pytest.raises(ValueError, match="timezone-aware"):
        business_minutes(naive, ny(2026, 1, 6), OFFICE)
    with pytest.raises(ValueError, match="timezone-aware"):
        due_at(ny(2026, 1, 5, 9), 10, OFFICE, [(naive, ny(2026, 1, 6))])
    with pytest.raises(ValueError, match="timezone-aware"):
        is_open(naive, OFFICE)


def test_calendar_without_opening_hours_raises() -> None:
    calendar = BusinessCalendar(NEW_YORK, {})
    with pytest.raises(ValueError, match="no opening hours"):
        due_at(ny(2026, 1, 5, 9), 10, calendar)
    with pytest.raises(ValueError, match="no opening hours"):
        end_of_business_day(ny(2026, 1, 5, 9), calendar)
    assert business_minutes(ny(2026, 1, 5), ny(2026, 2, 5), calendar) == 0
    assert not is_open(ny(2026, 1, 5, 10), calendar)


def test_calendar_closed_every_day_raises_instead_of_looping() -> None:
    calendar = BusinessCalendar(NEW_YORK, weekdays(NINE_TO_FIVE), lambda _day: True)
    with pytest.raises(ValueError, match="no open time"):
        due_at(ny(2026, 1, 5, 9), 10, calendar)
    with pytest.raises(ValueError, match="no open time"):
        next_open(ny(2026, 1, 5, 9), calendar)


def test_long_budgets_beyond_the_search_horizon_still_work() -> None:
    # 208 weeks of 8-hour weekdays: the horizon only bounds runs of closed days.
    minutes = 4 * 52 * 5 * 8 * 60
    result = due_at(ny(2026, 1, 5, 9), minutes, OFFICE)
    assert result == ny(2029, 12, 28, 17)  # the Friday close of the 208th week
    assert business_minutes(ny(2026, 1, 5, 9), result, OFFICE) == minutes


def test_open_around_the_clock_with_midnight_end() -> None:
    calendar = BusinessCalendar(UTC_ZONE, dict.fromkeys(range(7), (Interval(time(0), time(0)),)))
    start = datetime(2026, 1, 5, 23, tzinfo=UTC)
    assert due_at(start, 3 * 24 * 60, calendar) == start + timedelta(days=3)
    assert is_open(datetime(2026, 1, 5, 0, tzinfo=UTC), calendar)


def test_interval_running_to_midnight() -> None:
    calendar = BusinessCalendar(NEW_YORK, {4: (Interval(time(20), time(0)),)})
    assert due_at(ny(2026, 1, 9, 23), 120, calendar) == ny(2026, 1, 16, 21)
    assert end_of_business_day(ny(2026, 1, 9, 21), calendar) == ny(2026, 1, 10, 0)


# --- DST ------------------------------------------------------------------------------------


def test_dst_spring_forward_day_is_an_hour_shorter() -> None:
    # Open 00:00-06:00 on Sunday 2026-03-08 in New York: only five real hours.
    calendar = BusinessCalendar(NEW_YORK, {6: (Interval(time(0), time(6)),)})
    start = ny(2026, 3, 8, 0)
    assert business_minutes(start, ny(2026, 3, 9), calendar) == 300
    assert due_at(start, 240, calendar) == ny(2026, 3, 8, 5)
    assert due_at(start, 240, calendar).utcoffset() == timedelta(hours=-4)


def test_dst_fall_back_day_is_an_hour_longer() -> None:
    calendar = BusinessCalendar(BERLIN, {6: (Interval(time(0), time(6)),)})
    start = datetime(2026, 10, 25, tzinfo=BERLIN)
    assert business_minutes(start, datetime(2026, 10, 26, tzinfo=BERLIN), calendar) == 420
    assert due_at(start, 360, calendar) == datetime(2026, 10, 25, 5, tzinfo=BERLIN)


def test_nonexistent_opening_time_is_shifted_forward_by_the_gap() -> None:
    # 02:30 does not exist on 2026-03-08 in New York; fold=0 reads it as 03:30 EDT.
    calendar = BusinessCalendar(NEW_YORK, {6: (Interval(time(2, 30), time(5)),)})
    opening = next_open(ny(2026, 3, 8, 0), calendar)
    assert opening == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert opening.hour == 3
    assert opening.minute == 30


def test_interval_entirely_inside_the_gap_is_dropped() -> None:
    calendar = BusinessCalendar(NEW_YORK, {6: (Interval(time(2, 30), time(3, 15)),)})
    assert next_open(ny(2026, 3, 8, 0), calendar) == ny(2026, 3, 15, 2, 30)


def test_intervals_shifted_by_the_gap_never_overlap() -> None:
    # 02:00-02:50 becomes 03:00-03:50 EDT, which would swallow 03:10-04:00: it is clipped.
    calendar = BusinessCalendar(
        NEW_YORK, {6: (Interval(time(2), time(2, 50)), Interval(time(3, 10), time(4)))}
    )
    assert business_minutes(ny(2026, 3, 8), ny(2026, 3, 9), calendar) == 60
    assert due_at(ny(2026, 3, 8), 55, calendar) == ny(2026, 3, 8, 3, 55)


def test_ambiguous_boundary_means_its_first_occurrence() -> None:
    # 02:30 happens twice on 2026-10-25 in Berlin; the first one (CEST) is used.
    calendar = BusinessCalendar(BERLIN, {6: (Interval(time(2, 30), time(4)),)})
    opening = next_open(datetime(2026, 10, 25, tzinfo=BERLIN), calendar)
    # An instant in the repeated hour never equals one in another zone (PEP 495): use UTC.
    assert opening.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert business_minutes(opening, opening + timedelta(hours=5), calendar) == 150


# --- business_minutes, is_open, next_open, end_of_business_day -----------------------------


def test_business_minutes_counts_only_open_time() -> None:
    assert business_minutes(ny(2026, 1, 9, 16), ny(2026, 1, 12, 12), OFFICE) == 240
    assert business_minutes(ny(2026, 1, 6, 8), ny(2026, 1, 6, 18), LUNCH_OFFICE) == 420


def test_business_minutes_is_zero_for_reversed_or_empty_ranges() -> None:
    assert business_minutes(ny(2026, 1, 6, 12), ny(2026, 1, 6, 10), OFFICE) == 0
    assert business_minutes(ny(2026, 1, 6, 12), ny(2026, 1, 6, 12), OFFICE) == 0


def test_business_minutes_minus_pauses() -> None:
    pauses = [(ny(2026, 1, 6, 10), ny(2026, 1, 6, 11))]
    assert business_minutes(ny(2026, 1, 6, 9), ny(2026, 1, 6, 17), OFFICE, pauses) == 420


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (ny(2026, 1, 6, 9), True),
        (ny(2026, 1, 6, 8, 59), False),
        (ny(2026, 1, 6, 12), False),
        (ny(2026, 1, 6, 12, 59), False),
        (ny(2026, 1, 6, 13), True),
        (ny(2026, 1, 6, 17), False),
        (ny(2026, 1, 10, 10), False),
    ],
)
def test_is_open(moment: datetime, expected: bool) -> None:
    assert is_open(moment, LUNCH_OFFICE) is expected


def test_next_open() -> None:
    assert next_open(ny(2026, 1, 6, 12, 30), LUNCH_OFFICE) == ny(2026, 1, 6, 13)
    assert next_open(ny(2026, 1, 6, 10), LUNCH_OFFICE) == ny(2026, 1, 6, 10)
    assert next_open(ny(2026, 1, 9, 17), LUNCH_OFFICE) == ny(2026, 1, 12, 9)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (ny(2026, 1, 6, 7), ny(2026, 1, 6, 17)),  # before opening: that day's close
        (ny(2026, 1, 6, 12, 30), ny(2026, 1, 6, 17)),  # lunch: still the same day
        (ny(2026, 1, 6, 17), ny(2026, 1, 7, 17)),  # at closing: the next business day
        (ny(2026, 1, 9, 18), ny(2026, 1, 12, 17)),  # Friday evening: Monday
        (ny(2026, 1, 10, 10), ny(2026, 1, 12, 17)),  # weekend: Monday
    ],
)
def test_end_of_business_day(moment: datetime, expected: datetime) -> None:
    assert end_of_business_day(moment, LUNCH_OFFICE) == expected


def test_end_of_business_day_skips_closed_days() -> None:
    calendar = BusinessCalendar(NEW_YORK, weekdays(NINE_TO_FIVE), closed_on(date(2026, 1, 7)))
    assert end_of_business_day(ny(2026, 1, 6, 18), calendar) == ny(2026, 1, 8, 17)


# --- properties -----------------------------------------------------------------------------

ZONES = [
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",  # half-hour DST shift
    "Asia/Kolkata",
    "America/Santiago",  # DST changes around local midnight
]
MOMENT = timedelta(microseconds=1)


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC: same-zone comparisons in Python ignore ``fold``, so compare these."""
    return moment.astimezone(UTC)


@st.composite
def day_intervals(draw: st.DrawFn, earliest: int, latest: int) -> tuple[Interval, ...]:
    """0-3 sorted, non-overlapping intervals on minute boundaries in [earliest, latest)."""
    count = draw(st.integers(0, 3))
    cuts = draw(
        st.lists(st.integers(earliest, latest - 1), min_size=2 * count, max_size=2 * count, unique=True)
    )
    cuts.sort()
    return tuple(
        Interval(time(*divmod(cuts[i], 60)), time(*divmod(cuts[i + 1], 60))) for i in range(0, len(cuts), 2)
    )


@st.composite
def calendars(draw: st.DrawFn, earliest: int = 0, latest: int = 24 * 60) -> BusinessCalendar:
    """A calendar with at least one opening interval and a few closed dates in 2026."""
    weekly = {day: draw(day_intervals(earliest, latest)) for day in range(7)}
    if not any(weekly.values()):
        weekly[draw(st.integers(0, 6))] = (Interval(time(10), time(11)),)
    closed = draw(st.frozensets(st.dates(date(2026, 1, 1), date(2026, 12, 31)), max_size=20))
    zone = ZoneInfo(draw(st.sampled_from(ZONES)))
    return BusinessCalendar(zone, weekly, closed.__contains__)


instants = st.datetimes(
    datetime(2026, 1, 1),  # noqa: DTZ001 - Hypothesis bounds are naive by design
    datetime(2026, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)
# DST changes in 2026 of the zones above (UTC days); starts near them are drawn often.
DST_CHANGES = [
    datetime(2026, 3, 8, 7, tzinfo=UTC),  # New York, spring forward
    datetime(2026, 11, 1, 6, tzinfo=UTC),  # New York, fall back
    datetime(2026, 3, 29, 1, tzinfo=UTC),  # Berlin, spring forward
    datetime(2026, 10, 25, 1, tzinfo=UTC),  # Berlin, fall back
    datetime(2026, 4, 4, 15, tzinfo=UTC),  # Lord Howe, half an hour back
    datetime(2026, 10, 3, 15, 30, tzinfo=UTC),  # Lord Howe, half an hour forward
    datetime(2026, 4, 5, 3, tzinfo=UTC),  # Santiago, back at local midnight
    datetime(2026, 9, 6, 4, tzinfo=UTC),  # Santiago, forward at local midnight
]
near_dst = st.builds(
    lambda change, minutes: change + timedelta(minutes=minutes),
    st.sampled_from(DST_CHANGES),
    st.integers(-3 * 24 * 60, 24 * 60),
)
instants = st.one_of(instants, near_dst)
budgets = st.floats(0, 20_000, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(calendars(), instants, budgets)
def test_budget_is_spent_exactly(calendar: BusinessCalendar, start: datetime, m: float) -> None:
    opened = next_open(start, calendar)
    due = due_at(opened, m, calendar)
    assert utc(due) >= utc(opened)
    assert business_minutes(opened, due, calendar) == pytest.approx(m, abs=1e-6)
    # From an arbitrary start the closed time before opening costs nothing.
    assert due_at(start, m, calendar) == due


@settings(max_examples=200, deadline=None)
@given(calendars(), instants, instants, budgets)
def test_due_at_is_monotonic_in_start(
    calendar: BusinessCalendar, first: datetime, second: datetime, m: float
) -> None:
    early, late = sorted((first, second))
    assert utc(due_at(early, m, calendar)) <= utc(due_at(late, m, calendar))


@settings(max_examples=200, deadline=None)
@given(
    calendars(),
    instants,
    budgets,
    st.lists(st.tuples(instants, st.integers(0, 7 * 24 * 60)), max_size=4),
)
def test_pauses_never_make_a_deadline_earlier(
    calendar: BusinessCalendar, start: datetime, m: float, raw: list[tuple[datetime, int]]
) -> None:
    pauses = [(at, at + timedelta(minutes=length)) for at, length in raw]
    unpaused = due_at(start, m, calendar)
    paused = due_at(start, m, calendar, pauses)
    assert utc(paused) >= utc(unpaused)
    assert business_minutes(start, paused, calendar, pauses) == pytest.approx(m, abs=1e-6)
    assert utc(due_at(start, m, calendar, pauses[:1])) <= utc(paused)


@settings(max_examples=200, deadline=None)
@given(calendars(), instants, budgets)
def test_result_is_open_or_an_interval_end(calendar: BusinessCalendar, start: datetime, m: float) -> None:
    due = due_at(start, m, calendar)
    assert is_open(due, calendar) or is_open(utc(due) - MOMENT, calendar)
    assert is_open(next_open(start, calendar), calendar)
    assert utc(end_of_business_day(start, calendar)) > start


def _open_by_wall_clock(moment: datetime, calendar: BusinessCalendar) -> bool:
    """Independent oracle: read the local wall clock and look the time up in the week."""
    local = moment.astimezone(calendar.tz)
    if calendar.is_closed_day(local.date()):
        return False
    wall = local.time().replace(tzinfo=None)
    return any(interval.start <= wall < interval.end for interval in calendar.weekly.get(local.weekday(), ()))


@settings(max_examples=50, deadline=None)
@given(calendars(earliest=4 * 60, latest=22 * 60), instants, st.integers(0, 1_500))
def test_due_at_matches_a_minute_by_minute_wall_clock_count(
    calendar: BusinessCalendar, start: datetime, m: int
) -> None:
    # Boundaries within 04:00-22:00 avoid DST changes (Santiago's is at midnight), where a
    # wall clock reading is missing or repeated and this oracle would be wrong.
    start = start.replace(second=0, microsecond=0)
    due = utc(due_at(start, m, calendar))
    assume(due - start <= timedelta(days=10))  # keep the simulation short
    minutes = [start + timedelta(minutes=i) for i in range((due - start) // timedelta(minutes=1))]
    open_minutes = [moment for moment in minutes if _open_by_wall_clock(moment, calendar)]
    assert len(open_minutes) == m
    if m:  # the last budgeted minute is the one just before the deadline
        assert open_minutes[-1] == due - timedelta(minutes=1)
    else:
        assert _open_by_wall_clock(due, calendar)

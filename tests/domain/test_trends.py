"""The trend's arithmetic: weeks in store time, percentiles, business-hours spans, target
verdicts and the figures of a week and of each agent. Scenario tables for the rules,
hypothesis for the properties that must hold for any input."""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersales.domain.policy import Interval
from aftersales.domain.routes import SlaTargets
from aftersales.domain.sla.calendar import BusinessCalendar
from aftersales.domain.trends import (
    UNASSIGNED,
    BusinessTime,
    CaseFacts,
    Verdict,
    business_hours,
    clock_verdict,
    first_reply_after,
    percentile,
    trend,
    trend_weeks,
    week_index,
)

NEW_YORK = ZoneInfo("America/New_York")
THANKSGIVING = date(2026, 11, 26)
OFFICE = BusinessCalendar(
    NEW_YORK,
    dict.fromkeys(range(5), (Interval(time(9), time(17)),)),
    is_closed_day={THANKSGIVING}.__contains__,
)
LUNCH_OFFICE = BusinessCalendar(
    NEW_YORK,
    {
        **dict.fromkeys(range(5), (Interval(time(9), time(12)), Interval(time(13), time(17)))),
        5: (Interval(time(10), time(13)),),
    },
    is_closed_day={THANKSGIVING, date(2025, 12, 25)}.__contains__,
)
ALWAYS_OPEN = BusinessCalendar(ZoneInfo("UTC"), dict.fromkeys(range(7), (Interval(time(0), time(0)),)))
TARGETS = {"wrong_item": SlaTargets(8, 8, 8, 40), "chargeback_risk": SlaTargets(0, 2, 2, 16)}
NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)


def ny(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=NEW_YORK)


moments = st.datetimes(
    min_value=datetime(2025, 1, 1),  # noqa: DTZ001 (hypothesis takes naive bounds)
    max_value=datetime(2027, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
).map(lambda moment: moment.replace(microsecond=0))
hours = st.floats(min_value=0, max_value=500, allow_nan=False)


# ------------------------------------------------------------------------------ weeks


def test_the_weeks_run_monday_to_monday_in_store_time_and_end_with_the_given_day() -> None:
    weeks = trend_weeks(date(2026, 11, 25), 12, zone="America/New_York", now=NOW)
    assert [w.label for w in (weeks[0], weeks[-1])] == ["2026-W37", "2026-W48"]
    assert weeks[0].start == ny(9, 7)
    assert weeks[-1].end == ny(11, 30)
    # the week DST ends in (1 November) is an hour longer, as the desk lived it
    (autumn,) = [w for w in weeks if w.start.date() == date(2026, 10, 26)]
    assert autumn.end.astimezone(UTC) - autumn.start.astimezone(UTC) == timedelta(hours=169)
    assert all(w.is_complete for w in weeks)


def test_the_week_still_running_counts_up_to_now() -> None:
    (week,) = trend_weeks(date(2026, 12, 2), 1, zone="America/New_York", now=NOW)
    assert not week.is_complete
    assert week.until == NOW
    assert week_index(NOW - timedelta(seconds=1), [week]) == 0
    assert week_index(NOW, [week]) is None


@given(moments, st.integers(min_value=1, max_value=30))
def test_a_moment_inside_the_weeks_falls_in_the_week_that_holds_it(moment: datetime, count: int) -> None:
    last = date(2026, 6, 10)
    weeks = trend_weeks(last, count, zone="America/New_York", now=datetime(2030, 1, 1, tzinfo=UTC))
    index = week_index(moment, weeks)
    if index is None:
        assert moment < weeks[0].start or moment >= weeks[-1].end
    else:
        week = weeks[index]
        assert week.start <= moment < week.end
        assert week.start.weekday() == 0
        assert week.start.time() == time(0)
    for before, after in zip(weeks, weeks[1:], strict=False):
        assert before.end == after.start  # no gap, no overlap


@pytest.mark.parametrize("count", [0, 105])
def test_a_trend_spans_one_to_a_hundred_and_four_weeks(count: int) -> None:
    with pytest.raises(ValueError, match="1 to 104 weeks"):
        trend_weeks(date(2026, 11, 25), count, zone="America/New_York", now=NOW)


# ------------------------------------------------------------------------------ percentiles


@pytest.mark.parametrize(
    ("values", "median", "p90"),
    [
        ([], None, None),
        ([5.0], 5.0, 5.0),
        ([1.0, 2.0, 3.0, 4.0], 2.5, 3.7),
        ([10.0, 0.0], 5.0, 9.0),
        ([1.0] * 9 + [100.0], 1.0, pytest.approx(10.9)),
    ],
)
def test_percentiles_interpolate_between_the_nearest_ranks(
    values: list[float], median: float | None, p90: object
) -> None:
    assert percentile(values, 0.5) == median
    assert percentile(values, 0.9) == (p90 if p90 is not None else None)


@given(st.lists(hours, min_size=2, max_size=60))
def test_percentiles_agree_with_the_standard_library(values: list[float]) -> None:
    assert percentile(values, 0.5) == pytest.approx(statistics.median(values), abs=1e-9)
    expected = statistics.quantiles(values, n=10, method="inclusive")[8]
    assert percentile(values, 0.9) == pytest.approx(expected, abs=1e-9)


@given(st.lists(hours, min_size=1, max_size=60), st.floats(0, 1), st.floats(0, 1))
def test_a_percentile_lies_between_the_extremes_and_grows_with_its_share(
    values: list[float], low: float, high: float
) -> None:
    low, high = min(low, high), max(low, high)
    at_low, at_high = percentile(values, low), percentile(values, high)
    assert at_low is not None
    assert at_high is not None
    assert min(values) <= at_low <= at_high + 1e-9 <= max(values) + 2e-9


# ------------------------------------------------------------------------------ business hours


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (ny(11, 23, 10), ny(11, 23, 12, 30), 2.5),  # inside one day
        (ny(11, 20, 16), ny(11, 23, 10), 2.0),  # Friday 16:00 to Monday 10:00: the weekend is closed
        (ny(11, 25, 16), ny(11, 27, 10), 2.0),  # Thanksgiving is closed
        (ny(11, 21, 8), ny(11, 22, 20), 0.0),  # a weekend
        (ny(11, 23, 20), ny(11, 23, 19), 0.0),  # the end before the start
    ],
)
def test_business_hours_count_only_open_time(start: datetime, end: datetime, expected: float) -> None:
    assert business_hours(start, end, OFFICE) == pytest.approx(expected)


@given(moments, st.integers(0, 120 * 24 * 60), st.integers(0, 120 * 24 * 60))
def test_business_hours_add_up_over_a_split(first: datetime, one: int, other: int) -> None:
    middle = first + timedelta(minutes=min(one, other))
    last = first + timedelta(minutes=max(one, other))
    whole = business_hours(first, last, OFFICE)
    assert whole == pytest.approx(
        business_hours(first, middle, OFFICE) + business_hours(middle, last, OFFICE)
    )
    assert 0 <= whole <= (last - first).total_seconds() / 3600 + 1e-9


@given(moments, st.integers(min_value=0, max_value=90 * 24 * 60))
def test_an_always_open_desk_counts_wall_hours(start: datetime, minutes: int) -> None:
    end = start + timedelta(minutes=minutes)
    assert business_hours(start, end, ALWAYS_OPEN) == pytest.approx(minutes / 60)


@given(moments, st.integers(0, 60 * 24 * 60), st.integers(0, 60 * 24 * 60), st.integers(-20, 80))
def test_the_indexed_hours_are_the_calendars_hours(
    first: datetime, one: int, other: int, index_from_day: int
) -> None:
    """Inside its index or reaching out of it, ``BusinessTime`` measures what
    ``business_minutes`` does (on a calendar with a holiday and a lunch break)."""
    start = first + timedelta(minutes=min(one, other))
    end = first + timedelta(minutes=max(one, other))
    index_start = first + timedelta(days=index_from_day)
    indexed = BusinessTime(LUNCH_OFFICE, index_start, index_start + timedelta(days=45))
    assert indexed.hours(start, end) == pytest.approx(business_hours(start, end, LUNCH_OFFICE), abs=1e-6)


# ------------------------------------------------------------------------------ verdicts


@pytest.mark.parametrize(
    ("start", "end", "target", "expected"),
    [
        (ny(11, 23, 9), ny(11, 23, 17), 8, Verdict.MET),  # exactly on the target
        (ny(11, 23, 9), ny(11, 24, 9, 1), 8, Verdict.MISSED),
        (ny(11, 20, 16), ny(11, 23, 15), 8, Verdict.MET),  # 1 h Friday + 6 h Monday
        (ny(11, 23, 15), ny(11, 23, 16, 59), 0, Verdict.MET),  # 0: by the end of the business day
        (ny(11, 23, 15), ny(11, 24, 9, 30), 0, Verdict.MISSED),
        (ny(12, 1, 16), None, 8, Verdict.PENDING),  # NOW is Wednesday 07:00 in New York: 1 h used
        (ny(11, 27, 9), None, 8, Verdict.MISSED),  # Friday 9:00, unanswered, NOW is past 8 business hours
    ],
)
def test_a_clock_meets_its_target_in_business_hours(
    start: datetime, end: datetime | None, target: float, expected: Verdict
) -> None:
    indexed = BusinessTime(OFFICE, ny(11, 1), ny(12, 10))
    assert clock_verdict(indexed, start, end, target, NOW) is expected


@given(moments, st.integers(0, 30 * 24 * 60), st.integers(0, 30 * 24 * 60), st.sampled_from([0, 2, 8, 40]))
def test_an_earlier_reply_never_does_worse(start: datetime, sooner: int, later: int, target: int) -> None:
    sooner, later = min(sooner, later), max(sooner, later)
    indexed = BusinessTime(OFFICE, start, start + timedelta(days=10))  # later ones reach past it
    early = clock_verdict(indexed, start, start + timedelta(minutes=sooner), target, NOW)
    late = clock_verdict(indexed, start, start + timedelta(minutes=later), target, NOW)
    assert not (early is Verdict.MISSED and late is Verdict.MET)
    if target and late is Verdict.MET:
        assert business_hours(start, start + timedelta(minutes=later), OFFICE) <= target


# ------------------------------------------------------------------------------ cases and figures


def case(**fields: object) -> CaseFacts:
    opened = ny(11, 23, 10)
    values: dict[str, object] = {
        "case_id": 1,
        "route": "wrong_item",
        "opening_route": "wrong_item",
        "opened_at": opened,
        "first_inbound_at": opened,
        "first_reply_at": None,
    }
    return CaseFacts(**(values | fields))  # type: ignore[arg-type]


def test_the_first_reply_is_the_first_one_after_the_customer_wrote() -> None:
    opening = ny(11, 23, 10)
    replies = [(ny(11, 22, 10), "Ana"), (ny(11, 23, 15), "Ben"), (ny(11, 23, 11), "Cy")]
    assert first_reply_after(opening, replies) == (ny(11, 23, 11), "Cy")
    assert first_reply_after(opening, replies[:1]) is None


def test_a_week_and_its_agents() -> None:
    weeks = trend_weeks(date(2026, 11, 25), 2, zone="America/New_York", now=NOW)
    cases = [
        case(
            case_id=1,
            first_reply_at=ny(11, 23, 12),
            assignee="Ana",
            resolved_at=ny(11, 24, 10),
            rating="good",
        ),
        case(
            case_id=2,
            first_reply_at=ny(11, 23, 14),
            first_reply_author="Ben",
            reopened=True,
            resolved_at=ny(11, 25, 10),
        ),
        case(case_id=3, route="chargeback_risk", opening_route="chargeback_risk", rating="bad"),
        case(case_id=4, opened_at=ny(11, 16, 10), first_inbound_at=ny(11, 16, 10), imported_from="zendesk"),
        case(case_id=5, opened_at=ny(11, 2, 10)),  # before the weeks: left out
    ]
    found = trend(weeks, cases, calendar=OFFICE, targets=TARGETS, now=NOW)
    earlier, last = found.weeks
    assert (earlier.cases, earlier.imported, last.cases) == (1, 1, 3)
    assert dict(last.by_route) == {"wrong_item": 2, "chargeback_risk": 1}
    assert (last.first_response.median, last.first_response.count) == (3.0, 2)
    assert last.resolution.median == pytest.approx((8 + 16) / 2)  # 8 h and 16 h (2 business days)
    # case 1 met both clocks, case 2 both too (16 h < 40 h), case 3 missed its same-day reply
    assert (last.sla.met, last.sla.missed, last.sla.pending) == (2, 1, 0)
    assert last.satisfaction.share == 0.5
    agents = {row.agent: row for row in last.agents}
    assert agents["Ana"].cases == 1
    assert agents["Ana"].reopen_rate == 0
    assert agents["Ben"].reopen_rate == 1
    assert agents[UNASSIGNED].reopen_rate is None  # never resolved: nothing to reopen
    assert list(found.routes) == ["wrong_item", "chargeback_risk"]
    assert sum(row.cases for row in found.agents) == 4


def test_the_opening_route_sets_the_targets() -> None:
    """A case that moved to chargebacks keeps the 8 h first-response target it opened with
    (the live clocks do the same: a stricter target after the fact would back-date a breach)."""
    moved = case(route="chargeback_risk", opening_route="wrong_item", first_reply_at=ny(11, 23, 16))
    weeks = trend_weeks(date(2026, 11, 25), 1, zone="America/New_York", now=NOW)
    (week,) = trend(weeks, [moved], calendar=OFFICE, targets=TARGETS, now=NOW).weeks
    assert week.first_response_sla.met == 1
    assert dict(week.by_route) == {"chargeback_risk": 1}

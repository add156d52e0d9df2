"""Golden SLA deadlines from ``sla/golden.toml``, on calendars built by ``calendar_for``.

The table is the readable contract of the clock: business hours, public holidays, store
closures, lunch breaks, DST changes and waiting-on-customer pauses.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, cast

import pytest

from aftersales.adapters.business_calendar.holidays import calendar_for, holiday_name
from aftersales.domain.policy import Interval, StorePolicy
from aftersales.domain.sla.calendar import business_minutes, due_at

GOLDEN = tomllib.loads((Path(__file__).parent / "sla" / "golden.toml").read_text("utf-8"))
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class CalendarFacts:
    """The ``StorePolicy`` fields ``calendar_for`` reads, and nothing else.

    ``StorePolicy`` has many required fields unrelated to the clock (and they change), so
    the tests pass this stand-in, which has the same attribute names and types.
    """

    time_zone: str
    country: str
    subdivision: str | None
    business_hours: Mapping[int, tuple[Interval, ...]]
    closures: frozenset[date]


def store_policy(spec: dict[str, Any]) -> StorePolicy:
    """A policy-like value for one of the golden table's calendars."""
    hours = spec["hours"]
    unknown = set(hours) - set(WEEKDAYS)
    assert not unknown, f"unknown weekday keys {unknown}"
    facts = CalendarFacts(
        time_zone=spec["tz"],
        country=spec["country"],
        subdivision=spec.get("subdivision"),
        business_hours={
            WEEKDAYS.index(day): tuple(Interval(start, end) for start, end in intervals)
            for day, intervals in hours.items()
        },
        closures=frozenset(spec.get("closures", [])),
    )
    return cast(StorePolicy, facts)


def budget_minutes(case: dict[str, Any]) -> float:
    """The case's budget in minutes; exactly one of ``minutes`` and ``hours`` is given."""
    assert ("minutes" in case) != ("hours" in case), f"{case['name']}: minutes xor hours"
    return float(case["minutes"]) if "minutes" in case else float(case["hours"]) * 60


CASES = GOLDEN["case"]
POLICIES = {name: store_policy(spec) for name, spec in GOLDEN["calendars"].items()}
NY_POLICY = POLICIES["us_ny_office"]


def test_case_names_are_unique() -> None:
    names = [case["name"] for case in CASES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_golden_deadline(case: dict[str, Any]) -> None:
    calendar = calendar_for(POLICIES[case["calendar"]])
    pauses = [(start, end) for start, end in case.get("pauses", [])]
    minutes = budget_minutes(case)
    expected: datetime = case["due"]

    due = due_at(case["start"], minutes, calendar, pauses)

    # Same instant, compared in UTC because Python never equates a time in a DST-repeated
    # hour with one in another zone, and shown with the store's local offset.
    assert due.astimezone(UTC) == expected.astimezone(UTC)
    assert due.utcoffset() == expected.utcoffset()
    assert due.tzinfo == calendar.tz
    spent = business_minutes(case["start"], due, calendar, pauses)
    assert spent == pytest.approx(minutes, abs=1e-6)


# --- the holidays adapter ----------------------------------------------------------------


def test_holiday_name_names_public_holidays_only() -> None:
    assert holiday_name(NY_POLICY, date(2026, 11, 26)) == "Thanksgiving Day"
    assert holiday_name(NY_POLICY, date(2026, 11, 25)) is None
    berlin = POLICIES["de_be_office"]
    assert holiday_name(berlin, date(2026, 8, 14)) is None  # a closure, not a holiday
    assert holiday_name(berlin, date(2026, 12, 26)) is not None


def test_calendar_closes_on_holidays_and_closures() -> None:
    berlin = calendar_for(POLICIES["de_be_office"])
    assert berlin.is_closed_day(date(2026, 12, 25))  # Christmas Day
    assert berlin.is_closed_day(date(2026, 8, 14))  # the store's own closure
    assert not berlin.is_closed_day(date(2026, 12, 24))
    assert berlin.is_closed_day(date(2031, 12, 25))  # holidays expand to later years


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"country": "XX", "subdivision": None}, "'XX'"),
        ({"subdivision": "ZZ"}, "'ZZ'"),
        ({"time_zone": "Mars/Olympus_Mons"}, "'Mars/Olympus_Mons'"),
    ],
)
def test_unknown_codes_raise_value_error_naming_them(changes: dict[str, Any], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        calendar_for(replace(NY_POLICY, **changes))


def test_unknown_country_in_holiday_name_raises_value_error() -> None:
    with pytest.raises(ValueError, match="'XX'"):
        holiday_name(replace(NY_POLICY, country="XX", subdivision=None), date(2026, 1, 1))


def test_invalid_opening_hours_raise_value_error() -> None:
    bad_hours = {0: (Interval(time(17), time(9)),)}
    with pytest.raises(ValueError, match="weekday 0"):
        calendar_for(replace(NY_POLICY, business_hours=bad_hours))

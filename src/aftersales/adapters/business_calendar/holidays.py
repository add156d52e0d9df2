"""A store's business calendar, with public holidays from the ``holidays`` package.

The domain's calendar only takes a "is this date closed?" predicate; this adapter supplies
it from the maintained ``holidays`` data for the store's country and subdivision plus the
store's own closure dates, so the domain never imports ``holidays``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aftersales.adapters.business_calendar.holiday_cache import public_holidays
from aftersales.domain.policy import StorePolicy
from aftersales.domain.sla.calendar import BusinessCalendar

if TYPE_CHECKING:
    import holidays

__all__ = ["calendar_for", "holiday_name"]


def _public_holidays(policy: StorePolicy) -> holidays.HolidayBase:
    """The public holidays of the store's country/subdivision; they expand year by year."""
    import holidays  # imported here: the calendar reads them from the cache

    try:
        return holidays.country_holidays(policy.country, subdiv=policy.subdivision)
    except NotImplementedError as exc:  # how ``holidays`` reports an unknown code
        where = f"country={policy.country!r}, subdivision={policy.subdivision!r}"
        raise ValueError(f"no public holiday data for {where}: {exc}") from exc


def _zone(name: str) -> ZoneInfo:
    """The IANA zone called ``name``; an unknown or malformed name is a ``ValueError``."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {name!r}") from exc


def calendar_for(policy: StorePolicy, cache_dir: Path | None = None) -> BusinessCalendar:
    """The business calendar of ``policy``: its zone, weekly hours, holidays and closures.
    With ``cache_dir`` (the data folder's cache) the public holidays are read from there
    once the package has been asked (adapters/business_calendar/holiday_cache.py).

    Raises ``ValueError`` for an unknown time zone, country or subdivision, or invalid
    opening intervals.
    """
    closures = frozenset(policy.closures)
    by_year: dict[int, dict[date, str]] = {}

    def holidays_of(year: int) -> dict[date, str]:
        if year not in by_year:
            try:
                by_year[year] = public_holidays(policy.country, policy.subdivision, year, cache_dir)
            except NotImplementedError as exc:  # how ``holidays`` reports an unknown code
                where = f"country={policy.country!r}, subdivision={policy.subdivision!r}"
                raise ValueError(f"no public holiday data for {where}: {exc}") from exc
        return by_year[year]

    def is_closed_day(day: date) -> bool:
        """Closed for a store closure or a public holiday (closures are the cheap check)."""
        return day in closures or day in holidays_of(day.year)

    holidays_of(datetime.now(UTC).year)  # an unknown country or subdivision is said now
    return BusinessCalendar(
        tz=_zone(policy.time_zone), weekly=policy.business_hours, is_closed_day=is_closed_day
    )


def holiday_name(policy: StorePolicy, day: date) -> str | None:
    """The name of the public holiday on ``day`` for the store, or ``None``.

    Store closures are not holidays and give ``None``. Several holidays on one date come
    back as one name joined by ``"; "`` (the ``holidays`` package's convention).
    """
    name: str | None = _public_holidays(policy).get(day)
    return name

"""Promise windows: delivery promised N business days after fulfilment."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from aftersales.domain.sla.calendar import BusinessCalendar

_MAX_DAYS_AHEAD = 3 * 366


def is_business_day(moment: datetime, calendar: BusinessCalendar) -> bool:
    day = moment.astimezone(calendar.tz).date()
    return bool(calendar.weekly.get(day.weekday())) and not calendar.is_closed_day(day)


def add_business_days(start: datetime, days: int, calendar: BusinessCalendar) -> datetime:
    """The end of the ``days``-th business day after ``start`` (local midnight after it)."""
    local = start.astimezone(calendar.tz)
    counted = 0
    for step in range(1, _MAX_DAYS_AHEAD):
        moment = local + timedelta(days=step)
        if is_business_day(moment, calendar):
            counted += 1
        if counted >= days:
            day = moment.date() + timedelta(days=1)
            return datetime(day.year, day.month, day.day, tzinfo=calendar.tz)
    raise ValueError("the calendar has no business days within three years")


def last_promised_day(window_end: datetime) -> date:
    """The last calendar day inside a window that ends at local midnight."""
    return (window_end - timedelta(microseconds=1)).date()

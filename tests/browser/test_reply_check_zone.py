"""The composer's live reply check shows the promised time in the store's zone, whatever
the browser's zone: the server formats it (``promised_update_text``), the page shows that.

Given the lead signed in from a browser in Tokyo (14 hours ahead of the New York store), when
a reply promising a New York afternoon is typed, then the check shows that New York time; a
reply promising a closed Sunday shows the refusal with the next open time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timedelta

import pytest
from playwright.sync_api import Browser, Page, StorageState, expect

from aftersales.domain.replies import format_moment
from aftersales.domain.sla.calendar import BusinessCalendar

from .conftest import LiveDesk, new_context
from .test_web_desk import open_case, promise_day, promising_reply


@pytest.fixture
def tokyo_page(
    browser: Browser, desk: LiveDesk, calendar: BusinessCalendar, lead_session: StorageState
) -> Iterator[Page]:
    profile = new_context(browser, desk, "Asia/Tokyo", lead_session)
    page = profile.new_page()
    page.goto("/cases")
    yield page
    profile.close()


@pytest.mark.browser
def test_the_live_check_shows_the_promise_in_the_store_s_zone(
    tokyo_page: Page, calendar: BusinessCalendar
) -> None:
    page = tokyo_page
    open_case(page, "1043")
    checks = page.locator("#reply-checks li")
    day = promise_day(calendar)
    promised = datetime.combine(day, time(15), tzinfo=calendar.tz)

    page.fill("#reply-text", promising_reply(day))
    expect(checks).to_have_text([f"Next update promised: {format_moment(promised)} (store time)"])

    sunday = datetime.now(calendar.tz).date() + timedelta(days=7)
    sunday += timedelta(days=(6 - sunday.weekday()) % 7)
    page.fill("#reply-text", f"We will call you by Sunday {sunday.day} {sunday:%B}, 12:00.")
    expect(checks.first).to_have_class("fail")
    expect(checks.first).to_contain_text("The store is closed on Sunday; the next open time is ")

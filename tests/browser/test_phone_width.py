"""The desk on a phone, in Chromium at 390 px wide: no page scrolls sideways, and on a case
page the reply and status controls come right after the conversation (before the timeline,
the clocks' history and the card), so an agent on a phone answers without scrolling past them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, StorageState, ViewportSize

from aftersales.domain.sla.calendar import BusinessCalendar

from .conftest import LiveDesk, new_context

PHONE: ViewportSize = {"width": 390, "height": 844}
SIGNED_OUT_PAGES = ["/login", "/contact", "/rate/a-forged-link"]
SIGNED_IN_PAGES = [
    "/cases",
    "/cases?assignee=me",
    "/cases?status=closed",
    "/review",
    "/lab",
    "/policy",
    "/users",
    "/account",
]


@pytest.fixture
def phone(
    browser: Browser, desk: LiveDesk, calendar: BusinessCalendar, lead_session: StorageState
) -> Iterator[Page]:
    """The operations lead, signed in, on a phone-sized screen."""
    profile = new_context(browser, desk, calendar.tz.key, lead_session)
    page = profile.new_page()
    page.set_viewport_size(PHONE)
    yield page
    profile.close()


def sideways_overflow(page: Page) -> int:
    """How many pixels the page is wider than the screen (0: it does not scroll sideways)."""
    width: int = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    return width


@pytest.mark.parametrize("path", SIGNED_IN_PAGES + SIGNED_OUT_PAGES)
def test_no_page_scrolls_sideways_at_390_px(phone: Page, path: str) -> None:
    phone.goto(path)
    assert sideways_overflow(phone) <= 0, f"{path} is wider than 390 px"


def test_a_case_page_fits_a_phone_with_the_reply_right_after_the_conversation(phone: Page) -> None:
    phone.goto("/cases")
    phone.locator("table.queue tbody tr td a").first.click()
    phone.wait_for_url("**/cases/*")
    assert sideways_overflow(phone) <= 0
    order = phone.evaluate(
        """() => ['messages', 'composer', 'status', 'timeline'].map(
            id => document.getElementById(id).getBoundingClientRect().top + window.scrollY)"""
    )
    messages, composer, status, timeline = order
    assert messages < composer < timeline, "the reply form must follow the conversation"
    assert composer < status < timeline, "the status control must come before the timeline"

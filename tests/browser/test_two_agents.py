"""Two agents on one case, in Chromium: each sees the other has it open, and the one whose page
missed the other's reply is refused (409) with the change shown and the draft kept, so the
customer gets one mail, not two. The desk is the demo store's week (see conftest.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select

from aftersales.adapters.db import schema
from aftersales.adapters.db.engine import make_engine
from aftersales.domain.sla.calendar import BusinessCalendar

from .conftest import LEAD_NAME, LiveDesk, desk_env, new_context, run_cli
from .test_web_desk import open_case, promise_day, promising_reply

SAM_EMAIL = "sam@northwind.example"
SAM_NAME = "Sam Rivera"
SAM_PASSWORD = "two-agents-one-case"
SAMS_DRAFT = "Hi! I have asked UPS to trace the parcel; I will write again tomorrow by 2 pm."


@pytest.fixture
def sam_page(browser: Browser, desk: LiveDesk, calendar: BusinessCalendar) -> Iterator[Page]:
    """A frontline agent signed in in a browser profile of their own."""
    run_cli(
        desk_env(desk.data_dir),
        *("user", "add", SAM_EMAIL, "--role", "frontline", "--name", SAM_NAME, "--password-stdin"),
        stdin=SAM_PASSWORD + "\n",
    )
    profile = new_context(browser, desk, calendar.tz.key)
    page = profile.new_page()
    page.goto("/login")
    page.fill("#email", SAM_EMAIL)
    page.fill("#password", SAM_PASSWORD)
    page.click("#sign-in")
    page.wait_for_url("**/cases")
    yield page
    profile.close()


def mails_to_the_customer(desk: LiveDesk, case_id: int) -> int:
    """Rows of the outbox for the case: what the mail sender would send."""
    engine = make_engine(f"sqlite:///{desk.data_dir / 'aftersales.db'}")
    try:
        with engine.connect() as connection:
            query = select(func.count()).select_from(schema.outbox).where(schema.outbox.c.case_id == case_id)
            return int(connection.execute(query).scalar_one())
    finally:
        engine.dispose()


def replies_on(page: Page, case_id: int) -> int:
    record = page.request.get(f"/api/cases/{case_id}").json()
    return sum(1 for m in record["messages"] if m["direction"] == "outbound")


@pytest.mark.browser
def test_two_agents_one_case_the_second_send_is_refused_and_the_customer_gets_one_mail(
    lead_page: Page, sam_page: Page, desk: LiveDesk, calendar: BusinessCalendar
) -> None:
    marcus, sam = lead_page, sam_page
    open_case(marcus, "1074")
    case_id = int(re.search(r"/cases/(\d+)$", marcus.url).group(1))  # type: ignore[union-attr]
    sam.goto(f"/cases/{case_id}")
    # each sees the other: Sam on loading the page, Marcus's page when it next says it is open
    expect(sam.locator("#presence")).to_have_text(f"{LEAD_NAME} is also viewing this case.")
    marcus.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(marcus.locator("#presence")).to_have_text(f"{SAM_NAME} is also viewing this case.")
    sam.fill("#reply-text", SAMS_DRAFT)
    mails, replies = mails_to_the_customer(desk, case_id), replies_on(marcus, case_id)

    marcus.fill("#reply-text", promising_reply(promise_day(calendar)))
    marcus.click("#send-reply")
    marcus.wait_for_url(re.compile(rf"/cases/{case_id}$"))
    with sam.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/reply")) as answer:
        sam.click("#send-reply")

    assert answer.value.status == 409
    expect(sam.locator("#changes")).to_contain_text(f"{LEAD_NAME} replied to the customer")
    expect(sam.locator("#reply-text")).to_have_value(SAMS_DRAFT)
    expect(sam.locator("#send-anyway")).to_be_visible()
    expect(sam.locator("#messages article.outbound").last).to_contain_text(
        promise_day(calendar).strftime("%A")
    )
    assert mails_to_the_customer(desk, case_id) == mails + 1
    assert replies_on(marcus, case_id) == replies + 1

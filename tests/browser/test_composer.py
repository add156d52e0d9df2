"""Saved replies in the composer, in Chromium: "Insert" puts the filled-in reply at the
cursor of the reply box without loading the page again; the mail banner says replies are
stored, not e-mailed (the browser desk has no SMTP server)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .test_web_desk import open_case


@pytest.mark.browser
def test_a_saved_reply_is_inserted_at_the_cursor(lead_page: Page) -> None:
    page = lead_page
    expect(page.locator("#mail-banner #smtp-missing")).to_contain_text(
        "Replies are stored but not e-mailed: SMTP is not set up"
    )
    open_case(page, "1043")
    url = page.url
    case_id = url.rsplit("/", 1)[1]
    offered = page.request.get(f"/api/cases/{case_id}/saved-replies").json()["saved_replies"]
    still = next(r for r in offered if r["name"] == "Still on it")
    assert still["text"].startswith("Hello Ana,")

    page.fill("#reply-text", "First line.\n\nLast line.")
    page.locator("#reply-text").evaluate("box => { box.focus(); box.setSelectionRange(13, 13); }")
    page.select_option("#saved-reply-select", label="Still on it")
    page.click("#insert-saved-reply")

    expect(page.locator("#reply-text")).to_have_value("First line.\n\n" + still["text"] + "Last line.")
    assert page.url == url  # inserted in place: no ?saved_reply= page load
    expect(page.locator("#reply-checks li").first).to_have_class(re.compile(r"pass|fail"))

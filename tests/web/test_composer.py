"""The composer's saved replies and the desk's mail honesty, in-process on SQLite and
PostgreSQL.

Given the desk (no SMTP or IMAP server configured) and Ana Souza's where-is-my-order case,
when an agent opens the case page, picks a saved reply (through the API, or without
JavaScript with ``?saved_reply=``) or replies, then the reply box holds the filled-in text,
the composer still offers the saved replies after the first reply, each reply shows what
became of its mail, and every signed-in page says that replies are stored, not e-mailed.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from html import unescape

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from aftersales.domain.accounts import Role
from aftersales.settings import MailSecurity, MailServer
from aftersales.web.app import create_app
from support.web import make_user, sign_in

from .test_web_desk import assert_error, new_case

Headers = Callable[[Role], dict[str, str]]
SignedIn = Callable[[Role], str]
ANA = {
    "text": "Where is my order #1043? Tracking hasn't moved in 5 days.",
    "from": "ana@example.com",
    "name": "Ana Souza",
}
SMTP_MISSING = "Replies are stored but not e-mailed: SMTP is not set up — see"
IMAP_MISSING = "Customer e-mail is not fetched: IMAP is not set up — see"


def _reply_box(page: str) -> str:
    found = re.search(r'<textarea name="text" id="reply-text"[^>]*>(.*?)</textarea>', page, re.S)
    assert found, "the page has no reply box"
    return unescape(found.group(1))


def _offered(page: str) -> list[str]:
    found = re.search(r'<select name="saved_reply" id="saved-reply-select".*?</select>', page, re.S)
    assert found, "the page offers no saved replies"
    return [unescape(name) for name in re.findall(r'<option value="([^"]+)"', found.group())]


def test_the_api_gives_the_case_s_saved_replies_filled_in(client: TestClient, token: Headers) -> None:
    headers = token(Role.FRONTLINE)
    case_id = new_case(client, headers, ANA)

    response = client.get(f"/api/cases/{case_id}/saved-replies", headers=headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["case_id"] == case_id
    assert [(r["name"], r["route"], r["language"]) for r in body["saved_replies"]] == [
        ("Tracking update", "shipping_delay", "en"),
        ("Still on it", "any", "en"),
    ]
    still = body["saved_replies"][1]
    assert still["text"].startswith("Hello Ana,\n\nA quick update on order #1043:")
    assert still["missing"] == []
    assert body["saved_replies"][0]["missing"] == ["last_scan"]  # the desk has no order facts


def test_the_api_answers_404_for_an_unknown_case(client: TestClient, token: Headers) -> None:
    assert_error(client.get("/api/cases/999/saved-replies", headers=token(Role.FRONTLINE)), 404, "not_found")


def test_without_javascript_a_saved_reply_fills_the_reply_box(
    client: TestClient, token: Headers, signed_in: SignedIn
) -> None:
    case_id = new_case(client, token(Role.ADMIN), ANA)
    signed_in(Role.FRONTLINE)
    page = client.get(f"/cases/{case_id}").text
    assert _offered(page) == ["Tracking update", "Still on it"]
    assert _reply_box(page).startswith("Hello Ana,\n\nI'm sorry your order #1043 has not moved.")

    chosen = client.get(f"/cases/{case_id}", params={"saved_reply": "Still on it"}).text

    assert _reply_box(chosen).startswith("Hello Ana,\n\nA quick update on order #1043:")
    assert 'value="Still on it" selected' in chosen


def test_an_unknown_saved_reply_keeps_the_draft_and_says_why(
    client: TestClient, token: Headers, signed_in: SignedIn
) -> None:
    case_id = new_case(client, token(Role.ADMIN), ANA)
    signed_in(Role.FRONTLINE)
    draft = _reply_box(client.get(f"/cases/{case_id}").text)

    page = client.get(f"/cases/{case_id}", params={"saved_reply": "Nope"}).text

    assert _reply_box(page) == draft
    assert (
        "There is no saved reply &#39;Nope&#39; for this case; its saved replies: Tracking update, Still on it."
        in page
    )


def test_after_the_first_reply_the_composer_offers_the_saved_replies_and_the_mail_state(
    client: TestClient, token: Headers, signed_in: SignedIn
) -> None:
    headers = token(Role.ADMIN)
    case_id = new_case(client, headers, ANA)
    reply = {"text": "We're checking with the carrier; I'll update you by tomorrow 3 pm.", "force": True}
    assert client.post(f"/api/cases/{case_id}/reply", json=reply, headers=headers).status_code == 200
    signed_in(Role.FRONTLINE)

    page = client.get(f"/cases/{case_id}").text

    assert _reply_box(page) == ""
    assert "Next reply from a saved reply" in page
    assert _offered(page) == ["Tracking update", "Still on it"]
    assert re.search(r'data-delivery="queued">queued: not e-mailed until SMTP is set up</span>', page)
    messages = client.get(f"/api/cases/{case_id}", headers=headers).json()["messages"]
    assert [m["delivery"] and m["delivery"]["state"] for m in messages] == [None, "queued"]
    assert set(messages[1]["delivery"]) == {"state", "at", "error"}


def test_signed_in_pages_say_when_mail_is_not_set_up(client: TestClient, signed_in: SignedIn) -> None:
    assert SMTP_MISSING not in client.get("/login").text
    signed_in(Role.FRONTLINE)

    for path in ("/cases", "/lab", "/policy"):
        page = client.get(path).text
        assert SMTP_MISSING in page, path
        assert IMAP_MISSING in page, path


@pytest.mark.parametrize(
    ("smtp", "imap", "shown"),
    [
        pytest.param(True, True, [], id="both set up: no banner"),
        pytest.param(True, False, [IMAP_MISSING], id="no IMAP"),
        pytest.param(False, True, [SMTP_MISSING], id="no SMTP"),
    ],
)
def test_the_banner_names_what_is_missing(app: FastAPI, smtp: bool, imap: bool, shown: list[str]) -> None:
    server = MailServer(host="mail.example.test", port=465, user="", password="", security=MailSecurity.SSL)
    settings = dataclasses.replace(
        app.state.web.settings, smtp=server if smtp else None, imap=server if imap else None
    )
    desk = create_app(settings, hasher=app.state.web.hasher, tick_seconds=None)
    with TestClient(desk, follow_redirects=False) as client:
        sign_in(client, make_user(desk, Role.FRONTLINE))
        page = client.get("/cases").text
    desk.state.web.desk.engine.dispose()

    assert [text for text in (SMTP_MISSING, IMAP_MISSING) if text in page] == shown
    assert ('id="mail-banner"' in page) == bool(shown)

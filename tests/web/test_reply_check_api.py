"""``POST /api/reply-check``: the promise a reply makes, read as sending it would read it, in
the store's zone (the fixed shape outside tools rely on), on SQLite and PostgreSQL.

Given Ana's where-is-my-order case on the demo store (Mon-Sat hours, Sunday closed), when a
reply quotes an earlier date as a fact and promises a Tuesday, then the check returns that
Tuesday; a past day or a closed hour comes back as a problem with no time; and the reply
that is sent stores exactly the time the check showed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from aftersales.domain.accounts import Role

from .test_web_desk import new_case

Headers = Callable[[Role], dict[str, str]]


def said(day: date) -> str:
    """'Tuesday 15 December': how a reply names a day."""
    return f"{day:%A} {day.day} {day:%B}"


def open_tuesday(app: FastAPI) -> date:
    """A Tuesday one to two weeks ahead on which the store is open (no holiday)."""
    calendar = app.state.web.kit.calendar
    today = datetime.now(calendar.tz).date()
    day = today + timedelta(days=7 + (1 - today.weekday()) % 7)
    while calendar.is_closed_day(day):
        day += timedelta(days=7)
    return day


def check(client: TestClient, headers: dict[str, str], text: str, case_id: int) -> dict[str, Any]:
    response = client.post("/api/reply-check", json={"text": text, "case_id": case_id}, headers=headers)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_a_quoted_fact_date_is_not_the_promise(app: FastAPI, client: TestClient, token: Headers) -> None:
    headers = token(Role.OPERATIONS)
    case_id = new_case(client, headers)
    calendar = app.state.web.kit.calendar
    tuesday = open_tuesday(app)
    scan = datetime.now(calendar.tz).date() - timedelta(days=6)
    text = (
        f"The last carrier scan was on {said(scan)}, in Memphis. "
        f"We are opening a check with the carrier and will write to you by {said(tuesday)}, 10:00."
    )

    answer = check(client, headers, text, case_id)

    promised = datetime.combine(tuesday, time(10), tzinfo=calendar.tz)
    assert answer == {
        "ok": True,
        "problems": [],
        "promised_update_at": promised.isoformat(),
        "promised_update_text": f"{said(tuesday)}, 10:00 {promised:%Z}",
        "closing": False,
    }
    sent = client.post(f"/api/cases/{case_id}/reply", json={"text": text}, headers=headers)
    assert sent.status_code == 200, sent.text
    assert sent.json()["promised_update_at"] == promised.isoformat()


def test_a_past_day_or_a_closed_hour_comes_back_as_a_problem_with_no_time(
    app: FastAPI, client: TestClient, token: Headers
) -> None:
    headers = token(Role.OPERATIONS)
    case_id = new_case(client, headers)
    yesterday = datetime.now(app.state.web.kit.calendar.tz).date() - timedelta(days=1)

    past = check(client, headers, f"We will write to you by {said(yesterday)}.", case_id)
    closed = check(client, headers, "We will call you by Sunday 12:00.", case_id)

    assert (past["ok"], past["promised_update_at"], past["promised_update_text"]) == (False, None, None)
    assert [(p["check"], p["sentence"]) for p in past["problems"]] == [
        ("past_time", f"We will write to you by {said(yesterday)}.")
    ]
    assert closed["promised_update_at"] is None
    [problem] = closed["problems"]
    assert (problem["check"], problem["sentence"]) == ("closed_time", "We will call you by Sunday 12:00.")
    assert problem["fix"].startswith("The store is closed on Sunday; the next open time is Monday ")


def test_a_closing_reply_passes_without_a_time(client: TestClient, token: Headers) -> None:
    headers = token(Role.OPERATIONS)
    case_id = new_case(client, headers)

    answer = check(client, headers, "Your replacement has shipped, this case is now closed.", case_id)

    assert (answer["ok"], answer["closing"], answer["promised_update_at"]) == (True, True, None)


def test_a_refused_promise_is_refused_when_sent_and_nothing_is_stored(
    app: FastAPI, client: TestClient, token: Headers
) -> None:
    headers = token(Role.OPERATIONS)
    case_id = new_case(client, headers)
    before = client.get(f"/api/cases/{case_id}", headers=headers).json()

    sent = client.post(
        f"/api/cases/{case_id}/reply", json={"text": "We will call you by Sunday 12:00."}, headers=headers
    )

    assert sent.status_code == 422, sent.text
    assert sent.json()["error"]["code"] == "reply_refused"
    assert [p["check"] for p in sent.json()["error"]["details"]] == ["closed_time"]
    assert client.get(f"/api/cases/{case_id}", headers=headers).json() == before

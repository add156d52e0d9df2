"""A desk user's notification choices on their account page, and the server's notify job
acting on them, on SQLite and PostgreSQL.

Given Sam (frontline) signed in, when Sam chooses "a new chargeback-risk case: at once" and a
chargeback threat comes in, then the notify job queues one mail to Sam, once however often it
runs; the page refuses a timing it does not offer (422) and a post without its CSRF token.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from aftersales.adapters.db import schema
from aftersales.domain.accounts import Role
from aftersales.domain.jobs import JobName
from aftersales.jobs.desk_jobs import DIGEST_SECONDS, NOTIFY_SECONDS
from aftersales.web.app import web_jobs

from .test_web_desk import CHARGEBACK, new_case


def _selected(client: TestClient) -> dict[str, str]:
    """Each topic's select on the account page: the option it shows selected."""
    html = client.get("/account").text
    selects = re.findall(r'<select name="(\w+)" id="notify-\w+">(.*?)</select>', html, re.S)
    return {name: re.findall(r'<option value="(\w+)" selected>', options)[0] for name, options in selects}


def test_choices_on_the_account_page_drive_the_notify_job_once(
    app: FastAPI,
    client: TestClient,
    signed_in: Callable[[Role], str],
    token: Callable[[Role], dict[str, str]],
) -> None:
    csrf = signed_in(Role.FRONTLINE)
    before = _selected(client)
    saved = client.post(
        "/account/notifications",
        data={"chargeback_risk": "immediate", "breach": "digest", "bad_rating": "off", "csrf_token": csrf},
    )
    wrong = client.post("/account/notifications", data={"breach": "sometimes", "csrf_token": csrf})
    after = _selected(client)
    jobs = web_jobs(app.state.web)
    jobs.notify()  # the consumer starts at the newest event
    case_id = new_case(client, token(Role.OPERATIONS), CHARGEBACK)
    with app.state.web.desk.engine.begin() as connection:  # settled: PostgreSQL's feed waits a few seconds
        connection.execute(update(schema.events).values(at=datetime.now(UTC) - timedelta(minutes=1)))

    first, second = jobs.notify(), jobs.notify()

    assert before == {"chargeback_risk": "off", "breach": "off", "bad_rating": "off"}
    assert (saved.status_code, wrong.status_code) == (303, 422)
    assert "is not one of off, immediate, digest." in wrong.text
    assert after == {"chargeback_risk": "immediate", "breach": "digest", "bad_rating": "off"}
    assert (first["mailed"], second["mailed"]) == (1, 0)
    with app.state.web.desk.engine.connect() as connection:
        mails = connection.execute(select(schema.outbox).where(schema.outbox.c.kind == "notification")).all()
    assert [(m.to_address, m.case_id) for m in mails] == [("frontline@northwind.example", case_id)]
    assert f"/cases/{case_id}" in mails[0].body


def test_the_account_page_needs_a_signed_in_user_and_its_csrf_token(
    client: TestClient, signed_in: Callable[[Role], str]
) -> None:
    anonymous = client.get("/account")
    signed_in(Role.FRONTLINE)
    forged = client.post("/account/notifications", data={"breach": "immediate", "csrf_token": "forged"})

    assert (anonymous.status_code, anonymous.headers["location"].split("?")[0]) == (303, "/login")
    assert forged.status_code == 403
    assert _selected(client)["breach"] == "off"


def test_notifications_run_every_minute_and_the_digest_hourly(app: FastAPI) -> None:
    periods = {job.name: job.seconds for job, _body in web_jobs(app.state.web).schedule(None)}
    assert (periods[JobName.NOTIFY], periods[JobName.NOTIFICATION_DIGEST]) == (NOTIFY_SECONDS, DIGEST_SECONDS)
    assert web_jobs(app.state.web).notification_digest() == {"digests": 0, "items": 0}

"""The satisfaction survey through the web desk, on SQLite and PostgreSQL.

Given a case answered from its page with "this reply resolves the case", the mail carries two
signed one-click links (good, bad). Then, as the customer on a browser of their own:

| the customer                                  | the answer | what is stored                               |
| --------------------------------------------- | ---------- | -------------------------------------------- |
| opens the "bad" link (or a mail scanner does) | 200 page   | nothing: "bad" is chosen, a button sends it  |
| sends the form without its CSRF token         | 403        | nothing                                      |
| sends it with a comment                       | 200 thanks | the rating, one ``rated`` event, a flag      |
| sends it again, or opens the link again       | 410        | nothing more                                 |
| opens a link whose signature was altered      | 400        | nothing                                      |
| opens a genuinely signed link nobody was sent | 404        | nothing                                      |
| opens a link past its days                    | 410        | nothing                                      |

A bad rating reopens nothing; the case page and the queue show its flag until a person clears it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from aftersales.adapters.db import schema
from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.adapters.passwords import Argon2Hasher
from aftersales.domain.accounts import Role
from aftersales.settings import Settings
from aftersales.web.app import create_app
from support.web import csrf_of

from .case_page import CasePage
from .test_web_desk import CHARGEBACK, new_case

DESK = "https://desk.northwind.example"
RESOLVING = "Your replacement tumbler was delivered this morning; thank you for your patience."
_LINK = re.compile(re.escape(DESK) + r"(/rate/[^?\s]+)\?rating=(good|bad)")


@pytest.fixture
def app(uow: SqlUnitOfWork, engine: Engine, tmp_path: Path) -> Iterator[FastAPI]:
    """The desk with its public address known: resolving replies carry rating links."""
    url = engine.url.render_as_string(hide_password=False)
    settings = Settings(data_dir=tmp_path, policy_file=None, database_url=url, public_url=DESK)
    app = create_app(settings, hasher=Argon2Hasher(time_cost=1, memory_cost=8), tick_seconds=None)
    yield app
    app.state.web.desk.engine.dispose()


def _rows(app: FastAPI, table: Any) -> list[Any]:
    with app.state.web.desk.engine.connect() as connection:
        return list(connection.execute(select(table).order_by(table.c.id)))


def _resolve_with_a_reply(
    app: FastAPI,
    client: TestClient,
    signed_in: Callable[[Role], str],
    token: Callable[[Role], dict[str, str]],
) -> tuple[int, dict[str, str]]:
    """A case answered and resolved from its page; returns it and its mail's links by answer."""
    case_id = new_case(client, token(Role.OPERATIONS))
    csrf = signed_in(Role.OPERATIONS)
    page = CasePage(client.get(f"/cases/{case_id}").text)
    assert page.has("reply-resolves")
    seen = page.field("reply-form", "seen_event_id")
    form = {"text": RESOLVING, "resolve": "true", "seen_event_id": seen, "csrf_token": csrf}
    sent = client.post(f"/cases/{case_id}/reply", data=form)
    assert sent.status_code == 303, sent.text
    (mail,) = [row for row in _rows(app, schema.outbox) if row.kind == "reply"]
    links = {answer: path for path, answer in _LINK.findall(mail.body)}
    assert set(links) == {"good", "bad"}
    assert links["good"] == links["bad"]  # one link, two answers
    return case_id, links


def _rated_events(app: FastAPI, case_id: int) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (e.kind, e.actor, e.data)
        for e in _rows(app, schema.events)
        if e.case_id == case_id and e.kind == "rated"
    ]


def test_a_rating_through_the_public_page_is_stored_once_and_flags_a_bad_one(
    app: FastAPI,
    client: TestClient,
    signed_in: Callable[[Role], str],
    token: Callable[[Role], dict[str, str]],
) -> None:
    case_id, links = _resolve_with_a_reply(app, client, signed_in, token)
    statuses = [e.data for e in _rows(app, schema.events) if e.kind == "status_changed"]
    assert statuses[-1] == {"from": "new", "to": "resolved"}
    with TestClient(app, follow_redirects=False) as customer:
        opened = customer.get(f"{links['bad']}?rating=bad")
        stored_after_opening = [r.rating for r in _rows(app, schema.case_ratings)]
        csrf = csrf_of(opened.text)
        forged_csrf = customer.post(
            links["bad"], data={"rating": "bad", "comment": "late", "csrf_token": "x"}
        )
        sent = customer.post(
            links["bad"], data={"rating": "bad", "comment": "  Took two weeks.  ", "csrf_token": csrf}
        )
        again = customer.post(links["bad"], data={"rating": "good", "comment": "", "csrf_token": csrf})
        reopened = customer.get(f"{links['good']}?rating=good")

    assert opened.status_code == 200
    assert re.search(r'id="rating-bad"[^>]*checked', opened.text)
    assert not re.search(r'id="rating-good"[^>]*checked', opened.text)
    assert opened.headers["cache-control"] == "no-store"
    assert stored_after_opening == [""]  # opening the link (a mail scanner) recorded nothing
    assert forged_csrf.status_code == 403
    assert (sent.status_code, 'id="rating-thanks"' in sent.text) == (200, True)
    assert (again.status_code, reopened.status_code) == (410, 410)
    assert "used already" in again.text
    assert _rated_events(app, case_id) == [
        ("rated", "customer", {"rating": "bad", "comment": "Took two weeks."})
    ]
    (stored,) = _rows(app, schema.case_ratings)
    assert (stored.rating, stored.comment, stored.rated_at is not None) == ("bad", "Took two weeks.", True)

    # a bad rating reopens nothing, and flags the case on its page and in the queue
    case_page = CasePage(client.get(f"/cases/{case_id}").text)
    queue = client.get("/cases?all=true").text
    assert case_page.text("case-status") == "resolved"
    assert "Took two weeks." in case_page.text("rating-flag")
    assert "rated bad" in queue
    cleared = client.post(
        f"/cases/{case_id}/rating-flag/clear",
        data={"csrf_token": case_page.field("clear-rating-flag-form", "csrf_token")},
    )
    assert cleared.status_code == 303
    assert not CasePage(client.get(f"/cases/{case_id}").text).has("rating-flag")
    assert "rated bad" not in client.get("/cases?all=true").text
    assert [e.kind for e in _rows(app, schema.events) if e.case_id == case_id][-1] == "rating_flag_cleared"


def test_forged_unknown_and_expired_links_get_a_page_that_says_so(
    app: FastAPI,
    client: TestClient,
    signed_in: Callable[[Role], str],
    token: Callable[[Role], dict[str, str]],
) -> None:
    case_id, links = _resolve_with_a_reply(app, client, signed_in, token)
    path = links["good"]
    forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    unknown = "/rate/" + app.state.web.links.sign("a-token-nobody-was-sent")
    with TestClient(app, follow_redirects=False) as customer:
        answers = {
            "forged": customer.get(forged).status_code,
            "forged post": customer.post(forged, data={"rating": "good"}).status_code,
            "unknown": customer.get(unknown).status_code,
        }
        with app.state.web.desk.engine.begin() as connection:
            connection.execute(
                update(schema.case_ratings).values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
            )
        expired_page = customer.get(path)
        answers["expired"] = expired_page.status_code

    assert answers == {"forged": 400, "forged post": 400, "unknown": 404, "expired": 410}
    assert "has expired" in expired_page.text
    assert _rated_events(app, case_id) == []
    assert [r.rated_at for r in _rows(app, schema.case_ratings)] == [None]


def test_a_reply_that_does_not_resolve_carries_no_link(
    app: FastAPI,
    client: TestClient,
    signed_in: Callable[[Role], str],
    token: Callable[[Role], dict[str, str]],
) -> None:
    case_id = new_case(client, token(Role.OPERATIONS))
    csrf = signed_in(Role.OPERATIONS)
    text = "We have asked the carrier and will update you by tomorrow 3 pm."
    sent = client.post(f"/cases/{case_id}/reply", data={"text": text, "csrf_token": csrf, "force": "true"})

    assert sent.status_code == 303
    assert [("/rate/" in r.body) for r in _rows(app, schema.outbox)] == [False]
    assert _rows(app, schema.case_ratings) == []


def test_the_api_resolves_with_a_reply_where_the_role_may_resolve(
    app: FastAPI, client: TestClient, token: Callable[[Role], dict[str, str]]
) -> None:
    lead, frontline = token(Role.OPERATIONS), token(Role.FRONTLINE)
    threat = new_case(client, lead, CHARGEBACK)
    where_is = new_case(client, lead)
    body = {"text": RESOLVING, "resolve": True}

    refused = client.post(f"/api/cases/{threat}/reply", json=body, headers=frontline)
    resolved = client.post(f"/api/cases/{where_is}/reply", json=body, headers=frontline)

    assert refused.status_code == 403
    assert (resolved.status_code, resolved.json()["status"]) == (200, "resolved")
    assert [r.case_id for r in _rows(app, schema.case_ratings)] == [where_is]

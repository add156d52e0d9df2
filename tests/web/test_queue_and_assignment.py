"""The queue and assignment through the web, on SQLite and PostgreSQL: `POST /api/cases/{id}/assign`,
the case page's assign form, `GET /api/cases` with its filters, and the queue page.

Given the desk with two desk users (Sam, and the signed-in or token user) and cases opened
through the API, when a case is assigned, listed or searched, then the answer has the fixed
shapes, and a refusal changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from aftersales.adapters.db import search
from aftersales.domain.accounts import Role
from aftersales.services.accounts import add_user, disable_user
from support.web import PASSWORD

from .test_web_desk import CHARGEBACK, WHERE_IS, assert_error, new_case, row_counts

Headers = Callable[[Role], dict[str, str]]
SAM = "sam@northwind.example"
GONE = "gone@northwind.example"
DENTED = {"text": "The tumbler arrived dented, order #2001.", "from": "cy@example.com", "name": "Cy Moreau"}


@pytest.fixture
def people(app: FastAPI) -> None:
    """Sam, a frontline user, and a user who has been disabled."""
    web = app.state.web
    now = datetime.now(UTC)
    with web.users() as users:
        for email, name in ((SAM, "Sam Reyes"), (GONE, "Gone Away")):
            add_user(
                users, web.hasher, email=email, name=name, role=Role.FRONTLINE, password=PASSWORD, at=now
            )
        disable_user(users, GONE, now)


def _case(client: TestClient, headers: dict[str, str], case_id: int) -> dict[str, Any]:
    response = client.get(f"/api/cases/{case_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


# ---------------------------------------------------------------- POST /api/cases/{id}/assign


def test_assign_to_a_desk_user_then_to_nobody(client: TestClient, token: Headers, people: None) -> None:
    headers = token(Role.OPERATIONS)
    case_id = new_case(client, headers)

    given = client.post(
        f"/api/cases/{case_id}/assign", json={"user": "Sam@Northwind.example"}, headers=headers
    )
    assigned = _case(client, headers, case_id)
    again = client.post(f"/api/cases/{case_id}/assign", json={"user": SAM}, headers=headers)
    cleared = client.post(f"/api/cases/{case_id}/assign", json={"user": None}, headers=headers)
    record = _case(client, headers, case_id)

    assert given.status_code == 200
    assert given.json() == {"id": case_id, "assignee": {"email": SAM, "name": "Sam Reyes"}}
    assert assigned["case"]["assignee"] == {"email": SAM, "name": "Sam Reyes"}
    assert assigned["case"]["lead_name"] == "Marcus Lee"  # the route's lead stays the escalation owner
    assert (again.status_code, cleared.json()) == (200, {"id": case_id, "assignee": None})
    assert record["case"]["assignee"] is None
    events = [
        (e["kind"], e["actor"], e["data"]["from"], e["data"]["to"])
        for e in record["timeline"]
        if e["kind"] == "assigned"
    ]
    assert events == [("assigned", "Operations", None, SAM), ("assigned", "Operations", SAM, None)]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        pytest.param({"user": "nobody@northwind.example"}, 422, "unknown_user", id="unknown user"),
        pytest.param({"user": GONE}, 422, "unknown_user", id="disabled user"),
        pytest.param({"user": "  "}, 422, "unknown_user", id="blank"),
        pytest.param({}, 422, "invalid_request", id="no user key"),
        pytest.param({"user": SAM, "role": "lead"}, 422, "invalid_request", id="an unknown key"),
    ],
)
def test_assign_refuses_and_changes_nothing(
    app: FastAPI,
    client: TestClient,
    token: Headers,
    people: None,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    headers = token(Role.OPERATIONS)
    case_id = new_case(client, headers)
    before = row_counts(app)

    response = client.post(f"/api/cases/{case_id}/assign", json=body, headers=headers)

    error = assert_error(response, status, code)
    assert row_counts(app) == before
    assert _case(client, headers, case_id)["case"]["assignee"] is None
    if code == "unknown_user" and body["user"].strip():
        assert SAM in error["details"]["users"]
        assert GONE not in error["details"]["users"]
        assert "sam@northwind.example (Sam Reyes)" in error["message"]


def test_assigning_an_unknown_case_is_404(client: TestClient, token: Headers, people: None) -> None:
    response = client.post("/api/cases/999/assign", json={"user": SAM}, headers=token(Role.OPERATIONS))

    assert_error(response, 404, "not_found")


# ---------------------------------------------------------------- GET /api/cases


@pytest.fixture
def listed(client: TestClient, token: Headers, people: None) -> dict[str, Any]:
    """A delay (Ana), a chargeback threat (Bo) and a dented tumbler (Cy, assigned to Sam)."""
    headers = token(Role.OPERATIONS)
    ids = {
        "delay": new_case(client, headers, {**WHERE_IS, "name": "Ana Silva"}),
        "threat": new_case(client, headers, CHARGEBACK),
        "dented": new_case(client, headers, DENTED),
    }
    client.post(f"/api/cases/{ids['dented']}/assign", json={"user": SAM}, headers=headers)
    client.post(
        f"/api/cases/{ids['threat']}/assign",
        json={"user": "api-operations@northwind.example"},
        headers=headers,
    )
    client.post(f"/api/cases/{ids['delay']}/status", json={"status": "resolved"}, headers=headers)
    return {"headers": headers, **ids}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param({}, ["threat", "dented"], id="open cases, riskiest route first"),
        pytest.param({"all": "true"}, ["threat", "dented", "delay"], id="closed ones too, last"),
        pytest.param({"status": "resolved"}, ["delay"], id="one status"),
        pytest.param({"assignee": "me"}, ["threat"], id="mine"),
        pytest.param({"assignee": SAM}, ["dented"], id="an assignee"),
        pytest.param({"assignee": "none", "all": "true"}, ["delay"], id="unassigned"),
        pytest.param({"q": "dented"}, ["dented"], id="a word of the message"),
        pytest.param({"q": "Ana", "all": "true"}, ["delay"], id="a customer's name"),
        pytest.param({"q": "Ana"}, [], id="search within the open ones"),
        pytest.param({"q": "#2002"}, ["threat"], id="an order number"),
        pytest.param({"q": "bo@example.com"}, ["threat"], id="an e-mail"),
        pytest.param({"route": "damaged_item"}, ["dented"], id="a route"),
        pytest.param(
            {"order": "overdue", "all": "true"}, ["threat", "dented", "delay"], id="most overdue first"
        ),
    ],
)
def test_the_api_queue_filters(
    client: TestClient, listed: dict[str, Any], params: dict[str, str], expected: list[str]
) -> None:
    response = client.get("/api/cases", params=params, headers=listed["headers"])

    assert response.status_code == 200, response.text
    assert [row["id"] for row in response.json()] == [listed[k] for k in expected]


def test_a_queue_row_shows_its_assignee_sla_state_and_last_message(
    client: TestClient, listed: dict[str, Any]
) -> None:
    [row] = client.get("/api/cases", params={"assignee": SAM}, headers=listed["headers"]).json()

    assert row["assignee"] == {"email": SAM, "name": "Sam Reyes"}
    assert (row["sla"], row["preview"], row["last_message_direction"]) == (
        "on_track",
        "The tumbler arrived dented, order #2001.",
        "inbound",
    )


@pytest.mark.parametrize(
    ("params", "code"),
    [
        pytest.param({"assignee": "nobody@northwind.example"}, "unknown_user", id="unknown assignee"),
        pytest.param({"status": "lost"}, "invalid_request", id="unknown status"),
        pytest.param({"order": "newest"}, "invalid_request", id="unknown order"),
    ],
)
def test_the_api_queue_says_which_filter_is_wrong(
    client: TestClient, listed: dict[str, Any], params: dict[str, str], code: str
) -> None:
    assert_error(client.get("/api/cases", params=params, headers=listed["headers"]), 422, code)


# ---------------------------------------------------------------- pages


def test_the_case_page_assigns_with_its_form(
    app: FastAPI, client: TestClient, signed_in: Callable[[Role], str], token: Headers, people: None
) -> None:
    headers = token(Role.OPERATIONS)
    case_id = new_case(client, headers)
    csrf = signed_in(Role.FRONTLINE)

    page = client.get(f"/cases/{case_id}").text
    done = client.post(f"/cases/{case_id}/assign", data={"assignee": SAM, "csrf_token": csrf})
    refused = client.post(f"/cases/{case_id}/assign", data={"assignee": GONE, "csrf_token": csrf})
    after = client.get(f"/cases/{case_id}").text

    assert 'id="assign-form"' in page
    assert f'<option value="{SAM}"' in page
    assert f'value="{GONE}"' not in page  # a disabled user is not offered
    assert (done.status_code, done.headers["location"]) == (303, f"/cases/{case_id}#assign")
    assert refused.status_code == 422  # the case page again, with the reason beside the select
    assert 'id="assign-problem"' in refused.text
    assert GONE in refused.text
    assert f'<option value="{SAM}" selected>' in after
    assert _case(client, headers, case_id)["case"]["assignee"]["email"] == SAM


def test_the_queue_page_lists_views_filters_and_refreshes_its_rows(
    client: TestClient, signed_in: Callable[[Role], str], listed: dict[str, Any]
) -> None:
    signed_in(Role.OPERATIONS)

    page = client.get("/cases").text
    mine = client.get("/cases", params={"assignee": "me"}).text
    rows = client.get("/cases", params={"part": "rows", "q": "dented"}).text
    unknown = client.get("/cases", params={"assignee": "nobody@northwind.example"})
    nothing = client.get("/cases", params={"q": "Ana"}).text

    for part in ('id="queue-filters"', 'id="view-mine"', 'id="queue-results" data-refresh="30"', "Sam Reyes"):
        assert part in page
    assert "The tumbler arrived dented" in page  # the last message's preview
    assert "No open cases match these filters." in mine  # the signed-in user has none
    assert rows.lstrip().startswith('<div class="table-box">')
    assert "<form" not in rows
    assert f"/cases/{listed['dented']}" in rows
    assert unknown.status_code == 200
    assert "is not an active user of the desk" in unknown.text
    assert 'id="search-closed"' in nothing  # the closed case is one click away


def test_the_queue_page_says_when_a_search_looked_at_the_newest_messages_only(
    client: TestClient,
    signed_in: Callable[[Role], str],
    listed: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    signed_in(Role.OPERATIONS)
    assert 'id="search-capped"' not in client.get("/cases", params={"q": "dented"}).text

    monkeypatch.setattr(search, "MESSAGE_HITS", 0)  # every word is now in "too many" messages
    rows = client.get("/cases", params={"part": "rows", "q": "dented"}).text

    assert 'id="search-capped"' in rows
    assert f"/cases/{listed['dented']}" in rows

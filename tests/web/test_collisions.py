"""The collision guard and presence through the web desk: the API's 409 and its shape, the case
page's hidden ``seen_event_id``, the page that comes back with what changed and the draft kept,
and "Sam is also viewing this case". On SQLite, and on PostgreSQL when configured.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from aftersales.adapters.db.presence import presence_unit_of_work
from aftersales.domain.accounts import Role
from aftersales.services.presence import note_viewer
from support.web import make_user, sign_in

from .case_page import CasePage
from .test_web_desk import WHERE_IS, assert_error, new_case, row_counts

Headers = Callable[[Role], dict[str, str]]
PROMISE = "We have asked the carrier for a trace and will update you by Tuesday 3 pm."
OTHER = "The carrier is tracing it; we will write again by Tuesday 4 pm."


def latest_event(client: TestClient, case_id: int, headers: dict[str, str]) -> int:
    timeline = client.get(f"/api/cases/{case_id}", headers=headers).json()["timeline"]
    ids: list[int] = [entry["id"] for entry in timeline]
    assert ids == sorted(ids), "the timeline's entries carry their ids, oldest first"
    return max(ids)


def outbound(client: TestClient, case_id: int, headers: dict[str, str]) -> list[str]:
    messages = client.get(f"/api/cases/{case_id}", headers=headers).json()["messages"]
    return [m["body"] for m in messages if m["direction"] == "outbound"]


# what happens after the agent's page was shown → the answer to the agent's reply
MEANWHILE = [
    pytest.param(
        "reply", {"text": OTHER, "force": True}, 409, {"reply_sent", "status_changed"}, id="a reply"
    ),
    pytest.param(
        "customer",
        WHERE_IS | {"text": "Any news on #1043?"},
        409,
        {"message_received"},
        id="the customer wrote",
    ),
    pytest.param("status", {"status": "waiting_on_customer"}, 409, {"status_changed"}, id="a status move"),
    pytest.param("notes", {"text": "asked UPS"}, 200, set(), id="a note"),
]


@pytest.mark.parametrize(("what", "body", "status", "kinds"), MEANWHILE)
def test_a_reply_through_the_api_after_an_unseen_change_is_409_and_stores_nothing(
    app: FastAPI,
    client: TestClient,
    token: Headers,
    what: str,
    body: dict[str, object],
    status: int,
    kinds: set[str],
) -> None:
    agent, other = token(Role.OPERATIONS), token(Role.FRONTLINE)
    case_id = new_case(client, agent)
    seen = latest_event(client, case_id, agent)
    path = "/api/messages" if what == "customer" else f"/api/cases/{case_id}/{what}"
    assert client.post(path, json=body, headers=other).status_code in {200, 201}
    before = row_counts(app)

    response = client.post(
        f"/api/cases/{case_id}/reply", json={"text": PROMISE, "seen_event_id": seen}, headers=agent
    )

    assert response.status_code == status, response.text
    if status == 409:
        error = assert_error(response, 409, "case_changed")
        details = error["details"]
        assert {c["kind"] for c in details["changes"]} == kinds
        assert details["latest_event_id"] == latest_event(client, case_id, agent)
        assert all(c["summary"] and c["id"] > seen for c in details["changes"])
        assert row_counts(app) == before
        again = client.post(
            f"/api/cases/{case_id}/reply",
            json={"text": PROMISE, "seen_event_id": details["latest_event_id"]},
            headers=agent,
        )
        assert again.status_code == 200, again.text
    assert outbound(client, case_id, agent).count(PROMISE) == 1


def test_a_status_move_through_the_api_after_an_unseen_reply_is_409(
    app: FastAPI, client: TestClient, token: Headers
) -> None:
    agent, other = token(Role.OPERATIONS), token(Role.FRONTLINE)
    case_id = new_case(client, agent)
    seen = latest_event(client, case_id, agent)
    client.post(f"/api/cases/{case_id}/reply", json={"text": OTHER, "force": True}, headers=other)
    before = row_counts(app)

    response = client.post(
        f"/api/cases/{case_id}/status", json={"status": "resolved", "seen_event_id": seen}, headers=agent
    )

    assert_error(response, 409, "case_changed")
    assert row_counts(app) == before


def test_the_page_that_missed_a_reply_comes_back_409_with_the_change_and_the_draft(
    app: FastAPI, client: TestClient, token: Headers, signed_in: Callable[[Role], str]
) -> None:
    other = token(Role.FRONTLINE)
    case_id = new_case(client, other)
    csrf = signed_in(Role.OPERATIONS)
    shown = CasePage(client.get(f"/cases/{case_id}").text)
    seen = shown.field("reply-form", "seen_event_id")
    assert shown.field("status-form", "seen_event_id") == seen
    client.post(f"/api/cases/{case_id}/reply", json={"text": OTHER, "force": True}, headers=other)
    before = row_counts(app)

    refused = client.post(
        f"/cases/{case_id}/reply", data={"text": PROMISE, "seen_event_id": seen, "csrf_token": csrf}
    )

    assert refused.status_code == 409
    page = CasePage(refused.text)
    assert page.field("reply-form", "text") == PROMISE
    assert "Frontline replied to the customer" in page.text("changes")
    assert int(page.field("reply-form", "seen_event_id")) > int(seen)
    assert page.has("send-anyway")
    assert page.attr("send-anyway", "name") is None  # sending after reading skips no reply check
    assert row_counts(app) == before
    sent = client.post(
        f"/cases/{case_id}/reply",
        data={
            "text": PROMISE,
            "seen_event_id": page.field("reply-form", "seen_event_id"),
            "csrf_token": csrf,
        },
    )
    assert sent.status_code == 303
    assert outbound(client, case_id, other) == [OTHER, PROMISE]


def test_the_case_page_says_who_else_has_it_open(
    app: FastAPI, client: TestClient, token: Headers, signed_in: Callable[[Role], str]
) -> None:
    case_id = new_case(client, token(Role.OPERATIONS))
    sam = make_user(app, Role.FRONTLINE, "sam@northwind.example")
    with TestClient(app, follow_redirects=False) as sams_browser:
        sign_in(sams_browser, sam)
        assert sams_browser.get(f"/cases/{case_id}").status_code == 200
    csrf = signed_in(Role.OPERATIONS)

    page = CasePage(client.get(f"/cases/{case_id}").text)
    polled = client.post(
        f"/api/cases/{case_id}/presence", json={"seen_event_id": 0}, headers={"X-CSRF-Token": csrf}
    )

    assert page.text("presence") == "Frontline is also viewing this case."
    assert polled.status_code == 200
    answer = polled.json()
    assert [v["name"] for v in answer["viewers"]] == ["Frontline"]
    assert answer["line"] == "Frontline is also viewing this case"
    assert answer["latest_event_id"] == int(page.field("reply-form", "seen_event_id"))
    assert {c["kind"] for c in answer["changes"]} >= {"routed"}  # everything after event 0
    assert (answer["refresh_seconds"], answer["expires_seconds"]) == (20, 60)


def test_presence_expires_after_a_minute_and_never_names_the_viewer_themself(
    app: FastAPI, client: TestClient, token: Headers
) -> None:
    case_id = new_case(client, token(Role.OPERATIONS))
    web = app.state.web
    emails = [
        make_user(app, role, f"{name}@northwind.example")
        for name, role in (("sam", Role.FRONTLINE), ("lee", Role.OPERATIONS))
    ]
    with web.users() as users:
        sam, lee = (users.user_by_email(email)[0].id for email in emails)
    log = presence_unit_of_work(web.desk.engine)
    start = web.now()

    note_viewer(log, case_id, sam, at=start)
    seen_by_lee = note_viewer(log, case_id, lee, at=start + timedelta(seconds=30))
    seen_by_sam = note_viewer(log, case_id, sam, at=start + timedelta(seconds=31))
    later = note_viewer(log, case_id, lee, at=start + timedelta(seconds=92))

    assert [v.user_id for v in seen_by_lee.others] == [sam]
    assert [v.user_id for v in seen_by_sam.others] == [lee]
    assert later.others == []  # Sam's page last said so 61 s before


def test_presence_for_an_unknown_case_is_404(client: TestClient, token: Headers) -> None:
    assert_error(client.post("/api/cases/999999/presence", headers=token(Role.OPERATIONS)), 404, "not_found")

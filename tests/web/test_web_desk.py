"""The web desk's boundaries and flows, in-process, on SQLite and PostgreSQL.

Given the desk with one case (a buyer asking where order #1043 is), when a request comes in
anonymously, without its CSRF token, from a role that may not do it, or carrying hostile HTML,
then it is refused with the right status and one error shape, and nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html import unescape
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from aftersales.adapters.db import schema
from aftersales.domain.accounts import Role
from aftersales.domain.messages import Channel, InboundMessage
from aftersales.services.intake import Incoming, take_in
from aftersales.web import api, pages, queue_pages
from support.web import csrf_of, make_user

WHERE_IS = {"text": "Where is my order #1043? Tracking hasn't moved in 5 days.", "from": "ana@example.com"}
CHARGEBACK = {
    "text": "I never got order #2002. I'm filing a chargeback with my bank today.",
    "from": "bo@example.com",
}
PUBLIC = {"/login", "/contact", "/healthz", "/openapi.json"}
Headers = Callable[[Role], dict[str, str]]


def new_case(client: TestClient, headers: dict[str, str], message: dict[str, str] = WHERE_IS) -> int:
    response = client.post("/api/messages", json=message, headers=headers)
    assert response.status_code == 201, response.text
    case_id: int = response.json()["case_id"]
    return case_id


def row_counts(app: FastAPI) -> dict[str, int]:
    """Rows per table; who has a case page open is left out (viewing a page records it)."""
    with app.state.web.desk.engine.connect() as connection:
        return {
            t.name: connection.execute(select(func.count()).select_from(t)).scalar_one()
            for t in schema.metadata.sorted_tables
            if t is not schema.case_presence
        }


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert (error["status"], error["code"]) == (status, code)
    assert error["message"]
    return error


# ---------------------------------------------------------------- who may ask


def _protected() -> list[tuple[str, str]]:
    """Every route of the API and the pages (the app nests its routers, so they are read here)."""
    found: list[tuple[str, str]] = []
    for route in [
        *api.router.routes,
        *pages.router.routes,
        *queue_pages.router.routes,
    ]:
        if isinstance(route, APIRoute) and route.path not in PUBLIC:
            found.extend((method, route.path.replace("{case_id}", "1")) for method in route.methods or ())
    return sorted(found)


def test_anonymous_requests_to_every_non_public_route_get_401_or_the_sign_in_page(
    app: FastAPI, client: TestClient
) -> None:
    protected = _protected()
    assert len(protected) > 20

    for method, path in protected:
        response = client.request(method, path, json={} if path.startswith("/api/") else None)
        if path.startswith("/api/"):
            assert_error(response, 401, "unauthorized")
        elif path == "/":
            assert response.status_code == 303
        else:
            assert (response.status_code, response.headers["location"].split("?")[0]) == (303, "/login"), path


def test_the_public_pages_answer_without_signing_in(client: TestClient) -> None:
    for path in PUBLIC:
        assert client.get(path).status_code == 200, path


FORM_POSTS = [
    ("/cases/{id}/reply", {"text": "We will update you by tomorrow 3 pm."}),
    ("/cases/{id}/note", {"text": "called the carrier"}),
    ("/cases/{id}/status", {"status": "resolved"}),
    ("/cases/{id}/assign", {"assignee": "operations@northwind.example"}),
    ("/cases/{id}/evidence", {"key": "order_number", "present": "true"}),
    ("/cases/{id}/decision", {"decision": "refund", "amount": "10"}),
    ("/lab", {"text": "my mug arrived broken"}),
    ("/policy", {"text": "[store]"}),
    ("/logout", {}),
]


@pytest.mark.parametrize(("path", "form"), FORM_POSTS, ids=[p for p, _ in FORM_POSTS])
@pytest.mark.parametrize("sent", ["", "forged-token"], ids=["no token", "wrong token"])
def test_a_form_post_without_the_session_s_csrf_token_is_refused_and_changes_nothing(
    app: FastAPI,
    client: TestClient,
    signed_in: Callable[[Role], str],
    token: Headers,
    path: str,
    form: dict[str, str],
    sent: str,
) -> None:
    case_id = new_case(client, token(Role.OPERATIONS))
    signed_in(Role.OPERATIONS)
    before = row_counts(app)

    response = client.post(path.replace("{id}", str(case_id)), data={**form, "csrf_token": sent})

    assert response.status_code == 403
    assert row_counts(app) == before
    assert client.get("/cases").status_code == 200  # still signed in


def test_a_json_call_made_with_the_session_cookie_needs_the_csrf_header(
    client: TestClient, signed_in: Callable[[Role], str]
) -> None:
    csrf = signed_in(Role.FRONTLINE)

    refused = client.post("/api/messages", json=WHERE_IS)
    accepted = client.post("/api/messages", json=WHERE_IS, headers={"X-CSRF-Token": csrf})

    assert_error(refused, 403, "csrf")
    assert accepted.status_code == 201


def test_a_wrong_password_is_refused_and_a_sign_in_link_never_leads_off_the_site(
    app: FastAPI, client: TestClient
) -> None:
    email = make_user(app, Role.FRONTLINE)
    page = client.get("/login?next=//evil.example/")
    wrong = client.post("/login", data={"email": email, "password": "nope", "csrf_token": csrf_of(page.text)})
    right = client.post(
        "/login",
        data={
            "email": email,
            "password": "correct horse battery",
            "csrf_token": csrf_of(page.text),
            "next": "//evil.example/",
        },
    )

    assert wrong.status_code == 401
    assert "do not match" in wrong.text
    assert (right.status_code, right.headers["location"]) == (303, "/cases")


def test_the_session_cookie_is_http_only_and_same_site(app: FastAPI, client: TestClient) -> None:
    email = make_user(app, Role.FRONTLINE)
    page = client.get("/login")
    response = client.post(
        "/login", data={"email": email, "password": "correct horse battery", "csrf_token": csrf_of(page.text)}
    )

    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie


# ---------------------------------------------------------------- what each role may do


ROLE_BOUNDARIES = [
    # role, message, request, expected status
    (Role.FRONTLINE, WHERE_IS, ("decision", {"decision": "partial refund", "amount": "120"}), 403),
    (Role.FRONTLINE, WHERE_IS, ("decision", {"decision": "partial refund", "amount": "20"}), 200),
    (Role.OPERATIONS, WHERE_IS, ("decision", {"decision": "full refund", "amount": "120"}), 200),
    (Role.FRONTLINE, CHARGEBACK, ("status", {"status": "closed"}), 403),
    (Role.FRONTLINE, CHARGEBACK, ("status", {"status": "resolved"}), 403),
    (Role.FRONTLINE, CHARGEBACK, ("status", {"status": "waiting_on_customer"}), 403),
    (Role.FRONTLINE, CHARGEBACK, ("status", {"status": "open"}), 200),
    (Role.FOUNDER, CHARGEBACK, ("status", {"status": "closed"}), 200),
    (Role.FRONTLINE, WHERE_IS, ("status", {"status": "resolved"}), 200),
]


@pytest.mark.parametrize(("role", "message", "request_", "status"), ROLE_BOUNDARIES)
def test_role_boundaries_are_enforced_on_the_server(
    app: FastAPI,
    client: TestClient,
    token: Headers,
    role: Role,
    message: dict[str, str],
    request_: tuple[str, dict[str, str]],
    status: int,
) -> None:
    headers = token(role)
    case_id = new_case(client, headers, message)
    before = row_counts(app)
    action, body = request_

    response = client.post(f"/api/cases/{case_id}/{action}", json=body, headers=headers)

    assert response.status_code == status, response.text
    if status == 403:
        assert "frontline" in assert_error(response, 403, "forbidden")["message"]
        assert row_counts(app) == before


# ---------------------------------------------------------------- customer HTML


XSS = (
    "<p>Order #1043 arrived broken.</p><script>alert(1)</script>"
    '<img src=x onerror="alert(2)"><a href="javascript:alert(3)">photo</a>'
    "<iframe src='https://evil.example'></iframe><svg onload=alert(4)>"
)


class _Markup(HTMLParser):
    """Every tag and attribute a browser would build from a page (text stays text)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _live_markup(html: str) -> list[str]:
    """What could run in ``html``, counting the sanitised mail inside each frame's srcdoc."""
    found = []
    for tag, attrs in _Markup(html).tags:
        if tag == "script" and not (attrs.get("src") or "").startswith("/static/"):  # only our own files
            found.append(f"<script> {attrs}")
        found.extend(f"<{tag} {name}>" for name in attrs if name.startswith("on"))
        if (attrs.get("href") or "").strip().lower().startswith("javascript:"):
            found.append(f"<{tag} href=javascript:>")
        if tag == "iframe":
            assert attrs.get("sandbox") == "", "customer HTML must be framed with every sandbox flag"
            found.extend(_live_markup(attrs.get("srcdoc") or ""))
    return found


def test_a_stored_xss_payload_renders_inert(
    app: FastAPI, client: TestClient, signed_in: Callable[[Role], str]
) -> None:
    hostile = InboundMessage(
        message_id="x1@mallory.example",
        dedupe_key="x1",
        channel=Channel.EMAIL,
        from_address="mallory@example.com",
        from_name="<b onmouseover=alert(6)>Mallory</b>",
        to_addresses=(),
        subject="<script>alert(5)</script> order #1043",
        sent_at=datetime.now(UTC),
        body="Order #1043 arrived broken.",
        full_body="Order #1043 arrived broken.",
        html=XSS,
    )
    web = app.state.web
    case_id = take_in(web.desk.uow, web.kit, Incoming(hostile, "test"), now=datetime.now(UTC)).case_id
    signed_in(Role.OPERATIONS)

    page = client.get(f"/cases/{case_id}").text
    queue = client.get("/cases").text

    assert _live_markup(page) == []
    assert _live_markup(queue) == []
    assert "<iframe" in page  # the mail's HTML is shown, framed
    assert "&lt;script&gt;alert(5)&lt;/script&gt;" in queue


def test_mail_html_is_shown_sanitised_in_a_sandboxed_frame(
    client: TestClient, signed_in: Callable[[Role], str]
) -> None:
    from aftersales.web.sanitize import safe_email_html

    cleaned = safe_email_html(XSS + '<img src="https://tracker.example/p.gif"><img src="cid:photo1">')

    assert "<script" not in cleaned
    assert "onerror" not in cleaned
    assert "javascript:" not in cleaned
    assert "<iframe" not in cleaned
    assert "tracker.example" not in cleaned
    assert 'src="cid:photo1"' in cleaned


# ---------------------------------------------------------------- the API


def test_api_errors_share_one_shape(client: TestClient, token: Headers) -> None:
    headers = token(Role.OPERATIONS)
    case_id = new_case(client, headers)

    assert_error(client.get("/api/cases/999999", headers=headers), 404, "not_found")
    assert_error(client.post("/api/messages", json={}, headers=headers), 422, "invalid_request")
    assert_error(
        client.post("/api/messages", json={"text": "hi", "from": "not-an-address"}, headers=headers),
        422,
        "invalid_input",
    )
    refused = assert_error(
        client.post(f"/api/cases/{case_id}/reply", json={"text": "We are looking into it."}, headers=headers),
        422,
        "reply_refused",
    )
    assert refused["details"][0]["check"] == "no_next_step_time"
    assert_error(
        client.post(f"/api/cases/{case_id}/status", json={"status": "new"}, headers=headers),
        409,
        "invalid_transition",
    )
    assert_error(client.get("/api/cases", headers={"Authorization": "Bearer as_forged"}), 401, "unauthorized")


def test_a_reply_that_promises_a_time_moves_the_next_update_clock_to_it(
    client: TestClient, token: Headers
) -> None:
    headers = token(Role.FRONTLINE)
    case_id = new_case(client, headers)
    text = "We have asked the carrier for a trace and will update you by Tuesday 3 pm."

    response = client.post(f"/api/cases/{case_id}/reply", json={"text": text}, headers=headers)

    body = response.json()
    clocks = {c["name"]: c for c in body["clocks"]}
    assert response.status_code == 200
    assert clocks["first_response"]["state"] == "met"
    assert clocks["next_update"]["due_at"] == body["promised_update_at"]
    assert body["promised_update_at"].endswith(("15:00:00-05:00", "15:00:00-04:00"))


def test_the_same_api_message_twice_is_one_message(client: TestClient, token: Headers) -> None:
    headers = token(Role.OPERATIONS)
    message = {**WHERE_IS, "id": "form-42@shop.example"}

    first = client.post("/api/messages", json=message, headers=headers).json()
    again = client.post("/api/messages", json=message, headers=headers).json()

    assert (first["outcome"], again["outcome"]) == ("new_case", "duplicate")


def test_the_queue_lists_and_finds_cases(client: TestClient, token: Headers) -> None:
    headers = token(Role.OPERATIONS)
    first = new_case(client, headers)
    second = new_case(client, headers, CHARGEBACK)

    listed = client.get("/api/cases", headers=headers).json()
    by_email = client.get("/api/cases", params={"q": "BO@example.com"}, headers=headers).json()
    by_order = client.get("/api/cases", params={"q": "#1043"}, headers=headers).json()

    assert {c["id"] for c in listed} == {first, second}
    assert [c["id"] for c in by_email] == [second]
    assert [c["id"] for c in by_order] == [first]
    assert set(listed[0]) >= {"id", "route", "status", "lead", "customer", "order", "clocks", "risk"}


def test_the_routing_lab_and_the_policy_check_answer_without_storing(
    app: FastAPI, client: TestClient, token: Headers
) -> None:
    headers = token(Role.FRONTLINE)
    before = row_counts(app)

    card = client.post(
        "/api/route", json={"text": "My tumbler arrived dented, photo attached."}, headers=headers
    )
    bad = client.post("/api/policy/check", json={"toml": "[store]\nname = 3\n"}, headers=headers)

    assert card.json()["route"] == "damaged_item"
    assert bad.json()["ok"] is False
    assert bad.json()["problems"][0]["line"] is not None
    assert row_counts(app) == before


# ---------------------------------------------------------------- pages


def test_the_contact_form_opens_a_case_and_answers_with_the_first_response_time(
    app: FastAPI, client: TestClient
) -> None:
    page = client.get("/contact")
    form = {
        "name": "Ana Diaz",
        "email": "ana@example.com",
        "order": "#1043",
        "issue": "damaged",
        "message": "The lid is cracked.",
        "csrf_token": csrf_of(page.text),
    }

    answer = client.post("/contact", data=form)
    missing_issue = client.post("/contact", data={**form, "issue": ""})

    assert answer.status_code == 200
    assert "We will answer by" in answer.text
    assert missing_issue.status_code == 422
    with app.state.web.desk.uow() as cases:
        [found] = cases.find_cases("ana@example.com")
    assert (found.order_number, found.route.value) == ("1043", "damaged_item")


def test_a_case_page_shows_the_card_evidence_composer_and_timeline(
    client: TestClient, signed_in: Callable[[Role], str], token: Headers
) -> None:
    case_id = new_case(client, token(Role.OPERATIONS))
    csrf = signed_in(Role.OPERATIONS)

    page = client.get(f"/cases/{case_id}").text
    client.post(f"/cases/{case_id}/note", data={"text": "asked UPS for a trace", "csrf_token": csrf})
    after = client.get(f"/cases/{case_id}").text

    for part in (
        'id="card"',
        'id="evidence"',
        'id="reply-form"',
        'id="timeline"',
        'id="clocks"',
        "shipping delay",
    ):
        assert part in page, part
    assert "asked UPS for a trace" in after


def test_the_composer_s_draft_on_an_old_case_promises_a_time_still_ahead(
    client: TestClient, signed_in: Callable[[Role], str], token: Headers
) -> None:
    headers = token(Role.OPERATIONS)
    five_days_ago = (datetime.now(UTC) - timedelta(days=5)).isoformat()
    case_id = new_case(client, headers, {**WHERE_IS, "sent_at": five_days_ago})
    signed_in(Role.OPERATIONS)

    page = client.get(f"/cases/{case_id}").text
    draft = unescape(page.split('id="reply-text"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0])
    promised = client.post("/api/reply-check", json={"text": draft}, headers=headers).json()[
        "promised_update_at"
    ]

    assert promised is not None
    assert datetime.now(UTC) < datetime.fromisoformat(promised) < datetime.now(UTC) + timedelta(days=5)


@pytest.mark.parametrize("amount", ["nan", "Infinity", "-5"])
def test_a_decision_amount_that_is_not_money_is_refused_and_changes_nothing(
    app: FastAPI, client: TestClient, signed_in: Callable[[Role], str], token: Headers, amount: str
) -> None:
    case_id = new_case(client, token(Role.OPERATIONS))
    csrf = signed_in(Role.FRONTLINE)
    before = row_counts(app)

    response = client.post(
        f"/cases/{case_id}/decision", data={"decision": "refund", "amount": amount, "csrf_token": csrf}
    )

    assert response.status_code == 422
    assert row_counts(app) == before

"""Findings 8, 9, 10 and the account and log parts of 15: roles as a table, account control
with server-side sessions, sign-in throttling, logs without customer data, and the weekly
report's style under the site's CSP. In-process (Starlette's TestClient) on SQLite and
PostgreSQL, through the fixtures of tests/web/conftest.py."""

from __future__ import annotations

import base64
import hashlib
import itertools
import logging
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

import web.conftest as web_desk
from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.adapters.passwords import Argon2Hasher
from aftersales.domain.accounts import Role
from aftersales.domain.errors import ConfigError
from aftersales.services.accounts import issue_token, set_role
from aftersales.settings import Settings, load_settings
from aftersales.web.app import create_app
from aftersales.web.security import SESSION_COOKIE
from support.web import PASSWORD, csrf_of, make_user, sign_in
from web.test_web_desk import CHARGEBACK, WHERE_IS, assert_error, new_case, row_counts

# The web desk's fixtures live in tests/web/conftest.py, which pytest offers only below
# tests/web; named here, they are this module's fixtures too.
app, client, token, signed_in = web_desk.app, web_desk.client, web_desk.token, web_desk.signed_in

Headers = Callable[[Role], dict[str, str]]
CUSTOMER_ADDRESS = "ana.silva@example.com"


def user_id_of(app: FastAPI, email: str) -> int:
    with app.state.web.users_read() as users:
        user_id: int = users.user_by_email(email)[0].id
    return user_id


def fresh_client(app: FastAPI, cookie: str | None = None) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    if cookie is not None:
        client.cookies.set(SESSION_COOKIE, cookie)
    return client


def admin_client(app: FastAPI) -> tuple[TestClient, str]:
    """A second browser, signed in as an admin; returns it and its CSRF token."""
    admin = fresh_client(app)
    return admin, sign_in(admin, make_user(app, Role.ADMIN, "admin@northwind.example"))


def refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "aftersales.web" and "role refusal" in r.getMessage()
    ]


# ---------------------------------------------------------------- finding 8: roles as a table


def test_finding_08_marketing_cannot_refund_resolve_or_close_a_chargeback_case(
    app: FastAPI, client: TestClient, token: Headers, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="aftersales.web")
    case_id = new_case(client, token(Role.OPERATIONS), CHARGEBACK)
    marketing = token(Role.MARKETING)
    before = row_counts(app)

    refund = {"decision": "Full refund approved", "amount": "1000000"}
    answers = [
        client.post(f"/api/cases/{case_id}/decision", json=refund, headers=marketing),
        client.post(f"/api/cases/{case_id}/status", json={"status": "resolved"}, headers=marketing),
        client.post(f"/api/cases/{case_id}/status", json={"status": "closed"}, headers=marketing),
    ]

    messages = [assert_error(a, 403, "forbidden")["message"] for a in answers]
    assert messages == [
        "marketing may not record a refund: ask operations",
        "marketing may not resolve a chargeback_risk case: its lead decides that",
        "marketing may not close a chargeback_risk case: its lead decides that",
    ]
    assert row_counts(app) == before
    assert len(refusals(caplog)) == 3
    assert all(f"on case {case_id}" in line and "@" not in line for line in refusals(caplog))


def test_finding_08_a_refund_decision_must_carry_its_amount(
    app: FastAPI, client: TestClient, token: Headers
) -> None:
    case_id = new_case(client, token(Role.OPERATIONS))
    frontline = token(Role.FRONTLINE)
    before = row_counts(app)

    without = client.post(
        f"/api/cases/{case_id}/decision", json={"decision": "Full refund $5,000 approved"}, headers=frontline
    )
    understated = client.post(
        f"/api/cases/{case_id}/decision",
        json={"decision": "Full refund $5,000 approved", "amount": "20"},
        headers=frontline,
    )

    assert "has no amount" in assert_error(without, 422, "invalid_input")["message"]
    assert assert_error(understated, 403, "forbidden")["message"] == (
        "a refund of $5,000.00 is above the frontline limit of $50.00: ask operations"
    )
    assert row_counts(app) == before
    within = {"decision": "partial refund", "amount": "20"}
    assert client.post(f"/api/cases/{case_id}/decision", json=within, headers=frontline).status_code == 200


def test_finding_08_frontline_cannot_pause_a_chargeback_case_and_the_page_does_not_offer_it(
    app: FastAPI, client: TestClient, token: Headers, signed_in: Callable[[Role], str]
) -> None:
    case_id = new_case(client, token(Role.OPERATIONS), CHARGEBACK)
    csrf = signed_in(Role.FRONTLINE)
    before = row_counts(app)

    api = client.post(
        f"/api/cases/{case_id}/status", json={"status": "waiting_on_customer"}, headers={"X-CSRF-Token": csrf}
    )
    form = client.post(f"/cases/{case_id}/status", data={"status": "waiting_on_customer", "csrf_token": csrf})
    page = client.get(f"/cases/{case_id}").text

    assert assert_error(api, 403, "forbidden")["message"].startswith("frontline may not pause")
    assert form.status_code == 403
    assert row_counts(app) == before
    founder = fresh_client(app)
    sign_in(founder, make_user(app, Role.FOUNDER))
    assert not {"waiting_on_customer", "resolved", "closed"} & _status_moves(page)
    assert {"waiting_on_customer", "resolved", "closed"} <= _status_moves(
        founder.get(f"/cases/{case_id}").text
    )


def _status_moves(page: str) -> set[str]:
    """The options of the case page's status form."""
    form = page.split('id="status-select"')[1].split("</select>")[0]
    return set(re.findall(r'<option value="(\w+)">', form))


def test_finding_08_a_marketing_page_offers_no_refund_and_its_form_post_is_refused(
    app: FastAPI, client: TestClient, token: Headers, signed_in: Callable[[Role], str]
) -> None:
    case_id = new_case(client, token(Role.OPERATIONS), WHERE_IS)
    csrf = signed_in(Role.MARKETING)

    page = client.get(f"/cases/{case_id}").text
    posted = client.post(
        f"/cases/{case_id}/decision", data={"decision": "refund", "amount": "10", "csrf_token": csrf}
    )

    assert f'action="/cases/{case_id}/decision"' not in page  # not their route: no decision form
    assert posted.status_code == 403


# ---------------------------------------------------------------- finding 9: account control


def test_finding_09_a_cookie_copied_before_logout_is_refused_after_it(
    app: FastAPI, client: TestClient
) -> None:
    csrf = sign_in(client, make_user(app, Role.OPERATIONS))
    copied = client.cookies[SESSION_COOKIE]
    thief = fresh_client(app, copied)
    assert thief.get("/api/cases").status_code == 200  # the copy works while the session lives

    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303

    assert_error(thief.get("/api/cases"), 401, "unauthorized")
    page = thief.get("/cases")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login")
    with app.state.web.desk.engine.connect() as db:
        assert db.execute(text("SELECT count(*) FROM sessions")).scalar_one() == 0


def test_finding_09_the_cookie_holds_only_a_random_token_and_the_database_only_its_hash(
    app: FastAPI, client: TestClient
) -> None:
    sign_in(client, make_user(app, Role.FRONTLINE))
    cookie = client.cookies[SESSION_COOKIE]

    with app.state.web.desk.engine.connect() as db:
        stored = db.execute(text("SELECT id FROM sessions")).scalar_one()

    assert stored == hashlib.sha256(cookie.encode()).hexdigest()
    assert "." not in cookie
    assert len(cookie) >= 40


def test_finding_09_disable_signs_the_user_out_everywhere_and_revokes_their_tokens(
    app: FastAPI, client: TestClient, token: Headers
) -> None:
    email = make_user(app, Role.FRONTLINE)
    sign_in(client, email)
    laptop = fresh_client(app)
    sign_in(laptop, email)
    with app.state.web.users() as users:
        api = {
            "Authorization": f"Bearer {issue_token(users, user_id_of(app, email), 'sync', datetime.now(UTC))}"
        }
    admin, admin_csrf = admin_client(app)

    done = admin.post(f"/users/{user_id_of(app, email)}/disable", data={"csrf_token": admin_csrf})

    assert done.status_code == 303
    assert "disabled" in admin.get(done.headers["location"]).text
    for browser in (client, laptop):
        assert browser.get("/cases").headers["location"].startswith("/login")
    assert_error(client.get("/api/cases", headers=api), 401, "unauthorized")
    assert _try(client, email, PASSWORD).status_code == 401  # a disabled user cannot sign in again


def test_finding_09_set_role_takes_effect_on_the_next_request(
    app: FastAPI, client: TestClient, token: Headers
) -> None:
    case_id = new_case(client, token(Role.OPERATIONS), CHARGEBACK)
    founder = token(Role.FOUNDER)
    decision = {"decision": "defend the dispute"}
    assert client.post(f"/api/cases/{case_id}/decision", json=decision, headers=founder).status_code == 200

    with app.state.web.users() as users:
        set_role(users, "api-founder@northwind.example", Role.MARKETING)

    assert_error(
        client.post(f"/api/cases/{case_id}/decision", json=decision, headers=founder), 403, "forbidden"
    )


def test_finding_09_a_role_or_password_change_on_the_users_page_ends_the_sessions(
    app: FastAPI, client: TestClient
) -> None:
    email = make_user(app, Role.FRONTLINE)
    admin, admin_csrf = admin_client(app)
    user_id = user_id_of(app, email)

    sign_in(client, email)
    admin.post(f"/users/{user_id}/role", data={"role": "operations", "csrf_token": admin_csrf})
    assert client.get("/cases").status_code == 303
    sign_in(client, email)
    assert "operations" in client.get("/cases").text

    admin.post(
        f"/users/{user_id}/password", data={"password": "a brand new password", "csrf_token": admin_csrf}
    )
    assert client.get("/cases").status_code == 303
    assert _try(client, email, PASSWORD).status_code == 401
    assert _try(client, email, "a brand new password").status_code == 303


def test_finding_09_only_an_admin_manages_users_and_the_last_admin_stays(
    app: FastAPI, client: TestClient, signed_in: Callable[[Role], str]
) -> None:
    csrf = signed_in(Role.OPERATIONS)
    assert client.get("/users").status_code == 403
    assert client.post("/users/1/disable", data={"csrf_token": csrf}).status_code == 403
    assert fresh_client(app).get("/users").status_code == 303  # anonymous: the sign-in page

    admin, admin_csrf = admin_client(app)
    admin_id = user_id_of(app, "admin@northwind.example")
    refused = admin.post(f"/users/{admin_id}/disable", data={"csrf_token": admin_csrf})
    assert "last active admin" in admin.get(refused.headers["location"]).text
    forged = admin.post(f"/users/{admin_id}/role", data={"role": "marketing", "csrf_token": "forged"})
    assert forged.status_code == 403


_NUMBERS = itertools.count()


@pytest.fixture
def secure_app(engine: Engine, uow: SqlUnitOfWork, tmp_path: Path) -> Iterator[FastAPI]:
    url = engine.url.render_as_string(hide_password=False)
    settings = Settings(data_dir=tmp_path, policy_file=None, database_url=url, secure_cookies=True)
    app = create_app(settings, hasher=Argon2Hasher(time_cost=1, memory_cost=8), tick_seconds=None)
    yield app
    app.state.web.desk.engine.dispose()


def _sign_in_cookie(app: FastAPI, base_url: str) -> str:
    """The Set-Cookie of a sign-in's session. The sign-in form's own cookie is sent back by
    hand: a Secure one is not sent over plain HTTP (behind a TLS proxy the browser sends it)."""
    email = make_user(app, Role.FRONTLINE, f"user{next(_NUMBERS)}@northwind.example")
    with TestClient(app, base_url=base_url, follow_redirects=False) as browser:
        form = browser.get("/login")
        form_cookie = form.headers["set-cookie"].split(";")[0]
        answer = browser.post(
            "/login",
            data={"email": email, "password": PASSWORD, "csrf_token": csrf_of(form.text)},
            headers={"Cookie": form_cookie},
        )
    assert answer.status_code == 303
    return next(c for c in answer.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE + "="))


def test_finding_09_secure_cookies_over_https_or_with_the_setting(app: FastAPI, secure_app: FastAPI) -> None:
    assert "secure" not in _sign_in_cookie(app, "http://testserver").lower()
    assert "secure" in _sign_in_cookie(app, "https://testserver").lower()
    assert "secure" in _sign_in_cookie(secure_app, "http://testserver").lower()


def test_finding_09_the_secure_cookie_setting_is_read_from_the_environment() -> None:
    assert load_settings({"AFTERSALES_SECURE_COOKIES": "1"}).secure_cookies is True
    assert load_settings({}).secure_cookies is False
    with pytest.raises(ConfigError, match="AFTERSALES_SECURE_COOKIES"):
        load_settings({"AFTERSALES_SECURE_COOKIES": "maybe"})


# ---------------------------------------------------------------- finding 10: throttling


def _try(client: TestClient, email: str, password: str) -> Any:
    csrf = csrf_of(client.get("/login").text)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf})


def test_finding_10_thirty_wrong_passwords_then_the_right_one_get_429(
    app: FastAPI, client: TestClient
) -> None:
    email = make_user(app, Role.FRONTLINE)

    statuses = [_try(client, email, f"wrong guess {n}").status_code for n in range(30)]
    right = _try(client, email, PASSWORD)

    assert statuses[:5] == [401] * 5
    assert set(statuses[5:]) == {429}
    assert right.status_code == 429
    assert 0 < int(right.headers["Retry-After"]) <= 15 * 60
    assert "try again in 15 minutes" in right.text
    with app.state.web.desk.engine.connect() as db:
        assert db.execute(text("SELECT count(*) FROM sign_in_failures")).scalar_one() == 5


def test_finding_10_the_throttle_holds_across_server_processes_and_per_address(
    app: FastAPI, client: TestClient
) -> None:
    email = make_user(app, Role.FRONTLINE)
    for n in range(20):  # twenty accounts from one address
        assert _try(client, f"nobody{n}@northwind.example", "guess").status_code == 401

    other_process = create_app(app.state.web.settings, hasher=app.state.web.hasher, tick_seconds=None)
    with TestClient(other_process, follow_redirects=False) as second:
        assert _try(second, email, PASSWORD).status_code == 429
    other_process.state.web.desk.engine.dispose()


def test_finding_10_a_good_sign_in_forgets_the_account_s_earlier_failures(
    app: FastAPI, client: TestClient
) -> None:
    email = make_user(app, Role.FRONTLINE)
    for _ in range(4):
        _try(client, email, "wrong")

    assert _try(client, email, PASSWORD).status_code == 303
    assert _try(client, email, "wrong").status_code == 401  # counted from zero again


# ---------------------------------------------------------------- finding 15: report and logs


def test_finding_15_report_css_allowed(client: TestClient, signed_in: Callable[[Role], str]) -> None:
    signed_in(Role.OPERATIONS)

    report = client.get("/review/report.html")
    queue = client.get("/cases")

    styles = re.findall(r"<style>(.*?)</style>", report.text, re.DOTALL)
    assert styles
    policy = report.headers["content-security-policy"]
    for css in styles:
        digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    assert "unsafe-inline" not in policy
    assert "script-src 'self'" in policy
    assert "style-src 'self';" in queue.headers["content-security-policy"]  # the site's stays strict


def test_finding_15_no_customer_data_in_logs(
    app: FastAPI, client: TestClient, token: Headers, caplog: pytest.LogCaptureFixture
) -> None:
    headers = token(Role.OPERATIONS)
    case_id = new_case(client, headers)
    engine = app.state.web.desk.engine
    caplog.set_level(logging.DEBUG)
    with engine.begin() as db:
        db.execute(text("ALTER TABLE events RENAME TO events_away"))
    try:
        note = {"text": f"Customer asked to write to {CUSTOMER_ADDRESS} instead; she is upset."}
        answer = client.post(f"/api/cases/{case_id}/notes", json=note, headers=headers)
    finally:
        with engine.begin() as db:
            db.execute(text("ALTER TABLE events_away RENAME TO events"))

    assert_error(answer, 500, "internal")
    logged = "\n".join(f"{r.getMessage()}\n{r.exc_text or ''}\n{r.stack_info or ''}" for r in caplog.records)
    assert "unexpected error on POST" in logged
    assert "events" in logged
    assert CUSTOMER_ADDRESS not in logged
    assert "she is upset" not in logged
    assert all(r.exc_info is None for r in caplog.records)  # no exception text with its values


def test_finding_15_access_log(
    app: FastAPI, client: TestClient, caplog: pytest.LogCaptureFixture, signed_in: Callable[[Role], str]
) -> None:
    caplog.set_level(logging.INFO, logger="aftersales.access")
    client.get("/healthz")
    signed_in(Role.OPERATIONS)
    caplog.clear()

    client.get(f"/cases?q={CUSTOMER_ADDRESS}")
    client.get("/api/cases/999999")
    lines = [r.getMessage() for r in caplog.records if r.name == "aftersales.access"]

    user_id = user_id_of(app, "operations@northwind.example")
    assert len(lines) == 2
    assert re.fullmatch(rf"GET /cases 200 \d+ms {user_id}", lines[0])
    assert re.fullmatch(rf"GET /api/cases/999999 404 \d+ms {user_id}", lines[1])
    assert CUSTOMER_ADDRESS not in "\n".join(lines)

    caplog.clear()
    fresh_client(app).get("/healthz")
    assert re.fullmatch(r"GET /healthz 200 \d+ms -", caplog.records[-1].getMessage())


def test_finding_15_failed_sign_ins_logged(
    app: FastAPI, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    email = make_user(app, Role.FRONTLINE)

    _try(client, email, "wrong password 1")
    _try(client, "stranger@elsewhere.example", "wrong password 2")

    lines = [r.getMessage() for r in caplog.records if r.name == "aftersales.web"]
    assert f"sign-in failed for user id {user_id_of(app, email)} from testclient" in lines
    assert any(
        re.fullmatch(r"sign-in failed for unknown account [0-9a-f]{12} from testclient", x) for x in lines
    )
    everything = "\n".join(r.getMessage() for r in caplog.records)
    assert "wrong password" not in everything
    assert email not in everything
    assert "stranger@elsewhere.example" not in everything

"""The JSON API against its own OpenAPI schema, fuzzed with schemathesis.

Given the demo store's week in a fresh SQLite data folder and an admin's API token, when
schemathesis generates requests for every operation in /openapi.json (requests the schema
allows, and near-misses it derives from it; the app in-process, the token on every call),
then no request gets a 5xx, and every 4xx answer has the API's one error shape
``{"error": {"status", "code", "message"}}`` with ``status`` equal to the HTTP status.
At most 25 cases an operation: the module takes 11-17 s on the 2-core CI machine, so it is
not marked slow.

Found by this test: a case id beyond the database's integer range (2**31 and up on
PostgreSQL, whose ids are 32-bit; 2**63 and up on SQLite) reached the query and the server
answered 500. Ids are now bounded in the schema (422); the regression test below pins it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from click.testing import CliRunner
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import BaseSchema, Case, GenerationMode, Response
from schemathesis.core.errors import InvalidSchema
from schemathesis.core.result import Err, Ok
from schemathesis.schemas import APIOperation

from aftersales.adapters.passwords import Argon2Hasher
from aftersales.cli import cli
from aftersales.domain.accounts import Role
from aftersales.services.accounts import add_user, issue_token
from aftersales.settings import Settings
from aftersales.web import api
from aftersales.web.app import create_app

ADMIN = "admin@northwind.example"
PASSWORD = "correct horse battery"
EXAMPLES_PER_OPERATION = 25
PAST_POSTGRESQL = 2**31  # one past the largest id PostgreSQL's 32-bit integer holds
PAST_SQLITE = 2**63  # one past the largest integer SQLite binds
Desk = tuple[FastAPI, dict[str, str]]


@pytest.fixture(scope="module")
def demo_desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """The app on a data folder holding the demo week, and an admin's Authorization header."""
    data_dir: Path = tmp_path_factory.mktemp("openapi-fuzz")
    env = {
        "AFTERSALES_DATA_DIR": str(data_dir),
        "AFTERSALES_POLICY": None,
        "AFTERSALES_DATABASE_URL": None,
        "AFTERSALES_SECRET_KEY": None,
    }
    demo = CliRunner().invoke(cli, ["demo"], env=env)
    assert demo.exit_code == 0, (demo.output, demo.exception)
    store = Settings(data_dir=data_dir, policy_file=None)
    app = create_app(store, hasher=Argon2Hasher(time_cost=1, memory_cost=8), tick_seconds=None)
    web = app.state.web
    now = datetime.now(UTC)
    with web.users() as users:
        admin = add_user(
            users, web.hasher, email=ADMIN, name="Admin", role=Role.ADMIN, password=PASSWORD, at=now
        )
        secret = issue_token(users, admin.id, "openapi-fuzz", now)
    yield app, {"Authorization": f"Bearer {secret}"}
    web.desk.engine.dispose()


@pytest.fixture(scope="module")
def api_schema(demo_desk: Desk) -> BaseSchema:
    app, _ = demo_desk
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def documented_operations() -> list[tuple[str, str]]:
    """(method, path) of every operation the schema documents: the API router's and /healthz.

    Listed from the router, not the loaded schema, so collecting the tests builds no app:
    schemathesis' ``@schema.parametrize()`` over ``schemathesis.pytest.from_fixture`` fails
    under pytest 9 (schemathesis 4.32.5 reads ``request.node._nodeid``, which pytest 9 no
    longer has), so each operation is a pytest parameter and Hypothesis draws its cases here."""
    found = [
        (method, route.path)
        for route in api.router.routes
        if isinstance(route, APIRoute)
        for method in sorted(route.methods or ())
    ]
    return [*found, ("GET", "/healthz")]


OPERATIONS = documented_operations()
# every operation that takes a case id, each with a body it accepts, so only the id is wrong
# (the reply check takes it in its body: the test puts it there)
CASE_ID_CALLS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/api/cases/{case_id}", None),
    ("GET", "/api/cases/{case_id}/saved-replies", None),
    ("POST", "/api/cases/{case_id}/reply", {"text": "Thanks, we'll update you by Friday."}),
    ("POST", "/api/cases/{case_id}/notes", {"text": "Asked the carrier."}),
    ("POST", "/api/cases/{case_id}/assign", {"user": None}),
    ("POST", "/api/cases/{case_id}/status", {"status": "open"}),
    ("POST", "/api/cases/{case_id}/evidence", {"key": "photo", "present": True}),
    ("POST", "/api/cases/{case_id}/decision", {"decision": "Refund the order in full."}),
    ("POST", "/api/cases/{case_id}/route", {"route": "review"}),
    ("POST", "/api/cases/{case_id}/route/confirm", None),
    ("POST", "/api/cases/{case_id}/presence", {"seen_event_id": 0}),
    ("POST", "/api/reply-check", {"text": "We'll update you by Friday.", "case_id": None}),
]


def test_every_documented_operation_is_fuzzed(api_schema: BaseSchema) -> None:
    operations = [_operation(result) for result in api_schema.get_all_operations()]
    in_schema = {(operation.method.upper(), operation.path) for operation in operations}
    assert in_schema == set(OPERATIONS)
    with_case_id = {(method, path) for method, path in OPERATIONS if "{case_id}" in path}
    assert with_case_id == {(method, path) for method, path, _ in CASE_ID_CALLS if "{case_id}" in path}


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_generated_request_gets_a_server_error(
    api_schema: BaseSchema, demo_desk: Desk, method: str, path: str
) -> None:
    # given the demo desk, an admin's token, and requests the schema allows or nearly allows
    _, bearer = demo_desk
    operation = api_schema[path][method]
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
    )

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(case=cases)
    def check(case: Case[Any]) -> None:
        # when
        response = call(case, bearer)
        # then
        assert response.status_code < 500, described(response)
        if 400 <= response.status_code < 500:
            assert_error_shape(response)

    check()


@pytest.mark.parametrize("case_id", [PAST_POSTGRESQL, PAST_SQLITE], ids=["past PostgreSQL", "past SQLite"])
@pytest.mark.parametrize(
    ("method", "path", "body"), CASE_ID_CALLS, ids=[f"{m} {p}" for m, p, _ in CASE_ID_CALLS]
)
def test_a_case_id_beyond_the_database_range_is_refused(
    demo_desk: Desk, method: str, path: str, body: dict[str, Any] | None, case_id: int
) -> None:
    # given the demo desk and a valid request but for a case id the database cannot hold
    app, bearer = demo_desk
    if body is not None and "case_id" in body:
        body = {**body, "case_id": case_id}
    with TestClient(app, raise_server_exceptions=False) as client:
        # when
        response = client.request(method, path.replace("{case_id}", str(case_id)), json=body, headers=bearer)
    # then it is refused as invalid, in the one error shape, not a 500
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["status"], error["code"]) == (422, "invalid_request")
    assert "case_id" in error["message"]


# ---------------------------------------------------------------- helpers


def _operation(
    result: Ok[APIOperation[Any, Any, Any, Any]] | Err[InvalidSchema],
) -> APIOperation[Any, Any, Any, Any]:
    """The operation, or the schema's own error when it cannot be read."""
    if isinstance(result, Err):
        raise result.err()
    return result.ok()


def call(case: Case[Any], headers: dict[str, str]) -> Response:
    """The response; in-process, an unhandled error in the app surfaces as the exception."""
    try:
        return case.call(headers=headers)
    except Exception as error:  # the app's own exception: reported with the request that raised it
        pytest.fail(f"the server raised {error!r} on:\n{case.as_curl_command(headers=headers)}")


def described(response: Response) -> str:
    body = response.request.body
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
    return (
        f"{response.request.method} {response.request.url} body={text[:500]!r} "
        f"-> {response.status_code}: {response.text[:500]}"
    )


def assert_error_shape(response: Response) -> None:
    body = response.json()
    assert set(body) == {"error"}, described(response)
    error = body["error"]
    assert {"status", "code", "message"} <= set(error), described(response)
    assert error["status"] == response.status_code, described(response)
    assert isinstance(error["code"], str), described(response)
    assert error["code"], described(response)
    assert isinstance(error["message"], str), described(response)
    assert error["message"], described(response)

"""The web desk in-process (Starlette's TestClient) over the real database of each test run:
SQLite, and PostgreSQL when AFTERSALES_TEST_DATABASE_URL is set."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.adapters.passwords import Argon2Hasher
from aftersales.domain.accounts import Role
from aftersales.services.accounts import issue_token
from aftersales.settings import Settings
from aftersales.web.app import create_app
from support.web import make_user, sign_in


@pytest.fixture
def app(uow: SqlUnitOfWork, engine: Engine, tmp_path: Path) -> Iterator[FastAPI]:
    """The app on an emptied database, with a cheap password hasher and no background tick."""
    url = engine.url.render_as_string(hide_password=False)
    settings = Settings(data_dir=tmp_path, policy_file=None, database_url=url)
    app = create_app(settings, hasher=Argon2Hasher(time_cost=1, memory_cost=8), tick_seconds=None)
    yield app
    app.state.web.desk.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as client:
        yield client


@pytest.fixture
def signed_in(app: FastAPI, client: TestClient) -> Callable[[Role], str]:
    """Sign the client in as a new user of ``role``; returns the session's CSRF token."""

    def as_role(role: Role) -> str:
        return sign_in(client, make_user(app, role))

    return as_role


@pytest.fixture
def token(app: FastAPI) -> Callable[[Role], dict[str, str]]:
    """An Authorization header for a new user of ``role``."""

    def for_role(role: Role) -> dict[str, str]:
        web = app.state.web
        email = make_user(app, role, f"api-{role.value}@northwind.example")
        with web.users() as users:
            user_id = users.user_by_email(email)[0].id
            secret = issue_token(users, user_id, "tests", datetime.now(UTC))
        return {"Authorization": f"Bearer {secret}"}

    return for_role

"""The web desk's people in tests: a user of a role, and signing in through the real form."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi import FastAPI
from fastapi.testclient import TestClient

from aftersales.domain.accounts import Role
from aftersales.services.accounts import add_user

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_user(app: FastAPI, role: Role, email: str | None = None) -> str:
    web = app.state.web
    email = email or f"{role.value}@northwind.example"
    with web.users() as users:
        add_user(
            users,
            web.hasher,
            email=email,
            name=role.value.title(),
            role=role,
            password=PASSWORD,
            at=datetime.now(UTC),
        )
    return email


def csrf_of(page: str) -> str:
    found = _CSRF.search(page)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_in(client: TestClient, email: str) -> str:
    """Sign in through the form; returns the new session's CSRF token."""
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/lab").text)

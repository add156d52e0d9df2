"""The API's card says who read the message, with a language-model reader configured."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.adapters.passwords import Argon2Hasher
from aftersales.adapters.policy.file import default_policy_text
from aftersales.domain.accounts import Role
from aftersales.settings import LlmSettings, Settings
from aftersales.web.app import create_app
from support.chat_server import ChatServer, reading, serving


@pytest.fixture
def server() -> Iterator[ChatServer]:
    with serving() as running:
        yield running


@pytest.fixture
def app(uow: SqlUnitOfWork, engine: Engine, tmp_path: Path, server: ChatServer) -> Iterator[FastAPI]:
    """The desk with a language model that reads every message."""
    policy = tmp_path / "policy.toml"
    policy.write_text(
        default_policy_text().replace('use = "when_unsure"', 'use = "always"'), encoding="utf-8"
    )
    url = engine.url.render_as_string(hide_password=False)
    settings = Settings(
        data_dir=tmp_path, policy_file=policy, database_url=url, llm=LlmSettings(server.base_url, "m")
    )
    app = create_app(settings, hasher=Argon2Hasher(time_cost=1, memory_cost=8), tick_seconds=None)
    yield app
    app.state.web.desk.engine.dispose()


def test_the_routing_lab_card_carries_read_by_and_the_reader_note(
    client: TestClient, token: Callable[[Role], dict[str, str]], server: ChatServer
) -> None:
    text = "my order #1043 still says label created after 6 days. Did you ship it?"
    server.script = [reading("shipping_delay", quotes=("label created",))]
    card = client.post("/api/route", json={"text": text}, headers=token(Role.FRONTLINE)).json()
    assert (card["route"], card["read_by"], card["reader_note"]) == (
        "shipping_delay",
        "llm",
        "reads as shipping_delay",
    )
    assert card["lead"]["role"] == "operations"

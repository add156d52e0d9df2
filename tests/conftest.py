"""Shared fixtures: the routing kit as the CLI builds it, and both databases."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from aftersales.adapters.db import schema
from aftersales.adapters.db.engine import make_engine
from aftersales.adapters.db.migrate import upgrade
from aftersales.adapters.db.repository import SqlUnitOfWork, unit_of_work
from aftersales.services.routing import RoutingKit
from aftersales.settings import Settings
from aftersales.wiring import build_routing_kit


@pytest.fixture(scope="session")
def kit(tmp_path_factory: pytest.TempPathFactory) -> RoutingKit:
    data_dir: Path = tmp_path_factory.mktemp("data")
    return build_routing_kit(Settings(data_dir=data_dir, policy_file=None))


# ---------------------------------------------------------------- databases
# Every test that touches storage runs on SQLite, and on PostgreSQL when
# AFTERSALES_TEST_DATABASE_URL names a server (.ci/run starts one and sets it; in CI the
# PostgreSQL half may not be skipped).


def _postgres_url() -> str:
    url = os.environ.get("AFTERSALES_TEST_DATABASE_URL", "")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI must run the PostgreSQL half: set AFTERSALES_TEST_DATABASE_URL (.ci/run does)")
        pytest.skip("set AFTERSALES_TEST_DATABASE_URL to run the storage tests on PostgreSQL too")
    return url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'aftersales.db'}")
        upgrade(engine)
        yield engine
        engine.dispose()
        return
    admin = make_engine(_postgres_url())
    name = f"aftersales_test_{secrets.token_hex(4)}"
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(admin.url.set(database=name).render_as_string(hide_password=False))
    upgrade(engine)
    yield engine
    engine.dispose()
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture
def uow(engine: Engine, tmp_path: Path) -> SqlUnitOfWork:
    """A unit-of-work factory on an emptied database (the schema stays, the rows go)."""
    with engine.begin() as connection:
        for table in reversed(schema.metadata.sorted_tables):
            connection.execute(table.delete())
    return unit_of_work(engine, tmp_path / "attachments")

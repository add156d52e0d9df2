"""Migration 0013 on both databases: cases stored before it get their preview, their place in
the new orders and a search index, and its downgrade keeps every message. At head, the search
index is still kept by the database itself (a later migration that rebuilt ``messages`` or
``customers`` on SQLite would drop their triggers: this says so)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from aftersales.adapters.db import schema
from aftersales.adapters.db.engine import make_engine
from aftersales.adapters.db.migrate import _config, upgrade
from aftersales.adapters.db.repository import unit_of_work
from aftersales.domain.queue import QueueQuery

CLOCKS_BROKEN_RESOLUTION = (
    '[{"name": "resolution", "state": "breached", "due_at": "2026-11-20T10:00:00-05:00"},'
    ' {"name": "next_update", "state": "on_track", "due_at": "2026-12-08T10:00:00-05:00"}]'
)
CLOCKS_BROKEN_UPDATE = '[{"name": "next_update", "state": "breached", "due_at": "2026-11-21T10:00:00-05:00"}]'
# (case id, route, status, stored risk, clocks) and its messages (direction, body), oldest first
STORED = [
    (1, "cancel_or_change", "open", 2, CLOCKS_BROKEN_RESOLUTION, [("inbound", "Change the address"), ("outbound", "Done,  we changed\nit and will confirm by Tuesday")]),
    (2, "wrong_item", "waiting_on_customer", 2, CLOCKS_BROKEN_UPDATE, [("inbound", "Wrong colour sent")]),
    (3, "chargeback_risk", "new", 0, "[]", [("inbound", "I will call my bank")]),
]  # fmt: skip


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'desk.db'}")
        yield engine
        engine.dispose()
        return
    url = os.environ.get("AFTERSALES_TEST_DATABASE_URL", "")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI must run the PostgreSQL half: set AFTERSALES_TEST_DATABASE_URL")
        pytest.skip("set AFTERSALES_TEST_DATABASE_URL to run the storage tests on PostgreSQL too")
    admin = make_engine(url)
    name = f"aftersales_mig_{secrets.token_hex(4)}"
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(admin.url.set(database=name).render_as_string(hide_password=False))
    yield engine
    engine.dispose()
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def _downgrade(engine: Engine, revision: str) -> None:
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _store_before_0013(engine: Engine) -> None:
    upgrade(engine, "0012")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO customers (id, email, name, created_at) VALUES (1, 'ana@example.com', 'Ana Silva', :at)"
            ),
            {"at": "2026-11-20 10:00:00"},
        )
        n = 0
        for case_id, route, status, risk, clocks, messages in STORED:
            connection.execute(
                text(
                    "INSERT INTO cases (id, customer_id, order_number, subject, route, secondary_routes, "
                    "confidence, status, lead_role, lead_name, decision, write_back, clocks, risk, queue_order, "
                    "is_open, opened_at, updated_at) VALUES (:id, 1, '', 's', :route, '[]', 0.9, :status, "
                    "'operations', '', '{}', '[]', :clocks, :risk, 0, true, :at, :at)"
                ),
                {
                    "id": case_id,
                    "route": route,
                    "status": status,
                    "clocks": clocks,
                    "risk": risk,
                    "at": "2026-11-20 10:00:00",
                },
            )
            for direction, body in messages:
                n += 1
                connection.execute(
                    text(
                        "INSERT INTO messages (case_id, direction, channel, message_id, dedupe_key, in_reply_to, "
                        '"references", from_address, author, subject, sent_at, body, full_body, html, attachments) '
                        "VALUES (:case_id, :direction, 'email', :mid, :mid, '', '[]', '', '', 'Order', :at, :body, "
                        ":body, '', '[]')"
                    ),
                    {
                        "case_id": case_id,
                        "direction": direction,
                        "mid": f"m{n}",
                        "body": body,
                        "at": f"2026-11-2{n} 10:00:00",
                    },
                )


def test_stored_cases_get_their_preview_place_and_search(empty_engine: Engine, tmp_path: Path) -> None:
    _store_before_0013(empty_engine)

    upgrade(empty_engine)

    with unit_of_work(empty_engine, tmp_path)() as cases:
        rows = {row.id: row for row in cases.queue(QueueQuery())}
        found = [row.id for row in cases.queue(QueueQuery(search="bank"))]
        by_name = [row.id for row in cases.queue(QueueQuery(search="silva"))]
    assert list(rows) == [3, 1, 2]  # chargeback, the answered change, then the waiting case
    assert {i: (r.sla.value, r.preview, r.last_direction) for i, r in rows.items()} == {
        1: ("on_track", "Done, we changed it and will confirm by Tuesday", "outbound"),
        2: ("waiting", "Wrong colour sent", "inbound"),
        3: ("on_track", "I will call my bank", "inbound"),
    }
    assert rows[1].next_due_at == datetime(2026, 12, 8, 15, tzinfo=UTC)  # the promise, not the old breach
    assert (found, by_name) == ([3], [3, 1, 2])


def test_the_downgrade_keeps_every_message_and_the_old_order(empty_engine: Engine) -> None:
    _store_before_0013(empty_engine)
    upgrade(empty_engine)

    _downgrade(empty_engine, "0012")

    with empty_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM messages")).scalar_one() == 4
        orders: dict[int, int] = dict(
            connection.execute(text("SELECT id, queue_order FROM cases ORDER BY id")).all()
        )
    columns = {c["name"] for c in inspect(empty_engine).get_columns("cases")}
    assert {"assignee_user_id", "due_order", "last_message_preview"}.isdisjoint(columns)
    assert sorted(orders, key=lambda i: orders[i]) == [1, 2, 3]  # breached ones first, as 0002 keyed it
    upgrade(empty_engine)  # and back up again


def test_the_search_index_is_kept_by_the_database_at_head(engine: Engine) -> None:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            kept = set(
                connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars()
            )
            expected = {
                f"{t}_search_{c}" for t in ("messages", "customers") for c in ("insert", "delete", "update")
            }
        else:
            kept = set(connection.execute(text("SELECT indexname FROM pg_indexes")).scalars())
            expected = {"ix_messages_search", "ix_customers_search"}
    assert expected <= kept


def test_the_migration_matches_the_schema_for_cases(engine: Engine) -> None:
    with engine.connect() as connection:
        found = compare_metadata(MigrationContext.configure(connection), schema.metadata)
        if engine.dialect.name == "sqlite":
            keys = connection.execute(text("PRAGMA foreign_key_list(cases)")).all()
            # SQLite reflects no name for a key declared with its column (ALTER TABLE ... ADD
            # COLUMN can declare no other kind): the key itself is checked here instead
            assert [(k[2], k[3], k[6]) for k in keys if k[3] == "assignee_user_id"] == [
                ("users", "assignee_user_id", "SET NULL")
            ]
            found = [
                d for d in found if not (d[0] in ("add_fk", "remove_fk") and "assignee_user_id" in repr(d))
            ]
    assert [d for d in found if "'cases'" in repr(d) or "cases." in repr(d)] == []

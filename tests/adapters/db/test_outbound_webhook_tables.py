"""Migration 0021 makes the outbound webhook tables exactly as schema.py describes them,
and undoes it; the inbound Shopify deliveries' table is left alone."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from aftersales.adapters.db import schema
from aftersales.adapters.db.engine import make_engine
from aftersales.adapters.db.migrate import _config, upgrade

TABLES = ("webhook_endpoints", "webhook_sends", "webhook_send_attempts")


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        found = compare_metadata(MigrationContext.configure(connection), schema.metadata)
    return [d for d in found if any(f"'{table}'" in repr(d) or f"{table}." in repr(d) for table in TABLES)]


def test_the_migration_matches_the_schema(engine: Engine) -> None:
    assert _differences(engine) == []


def test_downgrade_drops_the_tables_and_upgrade_brings_them_back(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    upgrade(engine)
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0020")
    tables = set(inspect(engine).get_table_names())
    assert not tables & set(TABLES)
    assert "webhook_deliveries" in tables
    upgrade(engine)
    assert set(TABLES) <= set(inspect(engine).get_table_names())

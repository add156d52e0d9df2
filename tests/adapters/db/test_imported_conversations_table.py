"""Migration 0019 makes the imported_conversations table exactly as schema.py describes it,
and undoes it."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from aftersales.adapters.db import schema
from aftersales.adapters.db.engine import make_engine
from aftersales.adapters.db.migrate import _config, upgrade


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        found = compare_metadata(MigrationContext.configure(connection), schema.metadata)
    return [d for d in found if "imported_conversations" in repr(d)]


def test_the_migration_matches_the_schema(engine: Engine) -> None:
    assert _differences(engine) == []


def test_downgrade_drops_the_table_and_upgrade_brings_it_back(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    upgrade(engine)
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0018")
    assert not inspect(engine).has_table("imported_conversations")
    upgrade(engine)
    assert inspect(engine).has_table("imported_conversations")

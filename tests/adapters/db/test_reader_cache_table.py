"""Migration 0011 makes the reader cache exactly as schema.py describes it, and undoes it."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from aftersales.adapters.db import schema
from aftersales.adapters.db.engine import make_engine
from aftersales.adapters.db.migrate import _config, upgrade
from aftersales.adapters.db.reader_cache import SqlReadingCache


def _reader_cache_differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        found = compare_metadata(MigrationContext.configure(connection), schema.metadata)
    return [d for d in found if "reader_cache" in repr(d)]


def test_the_migration_matches_the_schema(engine: Engine) -> None:
    assert _reader_cache_differences(engine) == []


def test_downgrade_drops_the_table_and_upgrade_brings_it_back(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    upgrade(engine)
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0010")
    assert not inspect(engine).has_table("reader_cache")
    upgrade(engine)
    cache = SqlReadingCache(engine)
    cache.put("k", "reader-1", {"route": "review"})
    cache.put("k", "reader-1", {"route": "other"})  # another process was first: the first stays
    assert (cache.get("k"), cache.last_error) == ({"route": "review"}, "")

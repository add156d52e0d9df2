"""Migration 0011 makes the reader cache exactly as schema.py describes it, and undoes it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect

from aftersales.adapters.db.engine import make_engine
from aftersales.adapters.db.migrate import downgrade, upgrade
from aftersales.adapters.db.reader_cache import SqlReadingCache


def test_downgrade_drops_the_table_and_upgrade_brings_it_back(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    upgrade(engine)
    downgrade(engine, "0010")
    assert not inspect(engine).has_table("reader_cache")
    upgrade(engine)
    cache = SqlReadingCache(engine)
    cache.put("k", "reader-1", {"route": "review"})
    cache.put("k", "reader-1", {"route": "other"})  # another process was first: the first stays
    assert (cache.get("k"), cache.last_error) == ({"route": "review"}, "")

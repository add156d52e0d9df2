"""Migration 0019 makes the imported_conversations table exactly as schema.py describes it,
and undoes it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect

from aftersales.adapters.db.engine import make_engine
from aftersales.adapters.db.migrate import downgrade, upgrade


def test_downgrade_drops_the_table_and_upgrade_brings_it_back(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    upgrade(engine)
    downgrade(engine, "0018")
    assert not inspect(engine).has_table("imported_conversations")
    upgrade(engine)
    assert inspect(engine).has_table("imported_conversations")

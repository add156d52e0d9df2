"""Migration 0021 makes the outbound webhook tables exactly as schema.py describes them,
and undoes it; the inbound Shopify deliveries' table is left alone."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect

from aftersales.adapters.db.engine import make_engine
from aftersales.adapters.db.migrate import downgrade, upgrade

TABLES = ("webhook_endpoints", "webhook_sends", "webhook_send_attempts")


def test_downgrade_drops_the_tables_and_upgrade_brings_them_back(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    upgrade(engine)
    downgrade(engine, "0020")
    tables = set(inspect(engine).get_table_names())
    assert not tables & set(TABLES)
    assert "webhook_deliveries" in tables
    upgrade(engine)
    assert set(TABLES) <= set(inspect(engine).get_table_names())

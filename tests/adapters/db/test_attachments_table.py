"""Migration 0015 makes the attachments table as schema.py describes it, lists the files of the
messages already stored, and is undone by its downgrade."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Column, MetaData, Table, insert, inspect, select

from aftersales.adapters.db import schema
from aftersales.adapters.db.engine import make_engine
from aftersales.adapters.db.migrate import downgrade, upgrade

AT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def test_the_files_of_stored_messages_are_listed_and_the_downgrade_drops_the_table(tmp_path: Path) -> None:
    # given a desk at 0014 with two messages, one of them carrying two files
    engine = make_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    upgrade(engine, "0014")
    files = [
        {"filename": "dent.jpg", "content_type": "image/jpeg", "size": 10, "sha256": "a" * 64},
        {"filename": "box.png", "content_type": "image/png", "size": 20, "sha256": "b" * 64},
    ]
    with engine.begin() as connection:
        case = {"route": "damaged_item", "status": "new", "lead_role": "supply_chain"}
        # only the columns a case had at 0014 (the schema's later ones are not there yet)
        then = Table("cases", MetaData(), autoload_with=connection)
        defaults = {c.name: _default(c) for c in schema.cases.columns if c.name in then.c and c.default}
        connection.execute(
            insert(then).values(defaults | {"id": 1, "opened_at": AT, "updated_at": AT} | case)
        )
        message = {"case_id": 1, "direction": "inbound", "channel": "email", "sent_at": AT, "author": "Ana"}
        connection.execute(
            insert(schema.messages),
            [
                message | {"id": 1, "message_id": "m1", "dedupe_key": "k1", "attachments": []},
                message | {"id": 2, "message_id": "m2", "dedupe_key": "k2", "attachments": files},
            ],
        )

    # when it is migrated to 0015
    upgrade(engine)

    # then each file has a row with its own id, naming its message
    with engine.connect() as connection:
        rows = (
            connection.execute(select(schema.attachments).order_by(schema.attachments.c.id)).mappings().all()
        )
    assert [
        (r["id"], r["case_id"], r["message_id"], r["filename"], r["sha256"], r["added_by"]) for r in rows
    ] == [
        (1, 1, 2, "dent.jpg", "a" * 64, "Ana"),
        (2, 1, 2, "box.png", "b" * 64, "Ana"),
    ]

    # and the downgrade drops the table, the messages keep their files
    downgrade(engine, "0014")
    assert not inspect(engine).has_table("attachments")
    upgrade(engine)
    assert inspect(engine).has_table("attachments")


def _default(column: Column[Any]) -> Any:
    """A column's Python-side default value (``default=list`` gives [])."""
    default = column.default
    arg = getattr(default, "arg", None)
    return arg(None) if callable(arg) else arg

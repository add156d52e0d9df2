"""Migration 0020 makes the rating links, the notification choices and the digest items exactly
as schema.py describes them, lets the outbox hold mail about no one case, and undoes it all."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, inspect, select

from aftersales.adapters.db import schema
from aftersales.adapters.db.engine import make_engine
from aftersales.adapters.db.migrate import downgrade, upgrade
from aftersales.adapters.db.repository import unit_of_work
from aftersales.domain.outgoing import MailKind, OutgoingMail
from support.schema_check import schema_differences

TABLES = ("case_ratings", "notification_choices", "notification_digest_items", "outbox")
AT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def test_downgrade_drops_the_tables_and_mail_about_no_case_then_upgrade_brings_them_back(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    upgrade(engine)
    digest = OutgoingMail(
        case_id=None,
        kind=MailKind.DIGEST,
        message_id="digest-1@x.example",
        to_address="a@x.example",
        subject="digest",
        body="...",
    )
    with unit_of_work(engine, tmp_path / "files")() as cases:
        assert cases.queue_mail(digest, AT)
    downgrade(engine, "0019")
    assert not any(inspect(engine).has_table(name) for name in TABLES[:3])
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(schema.outbox)).scalar_one() == 0
    upgrade(engine)
    assert all(inspect(engine).has_table(name) for name in TABLES)
    assert schema_differences(engine) == []
    engine.dispose()

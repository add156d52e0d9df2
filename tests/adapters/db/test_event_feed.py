"""The case timeline as a feed: a consumer starts at the newest event, reads what came after
its cursor (never an imported case's events), and moves its cursor in the same transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import update

from aftersales.adapters.db import schema
from aftersales.adapters.db.engine import make_engine
from aftersales.adapters.db.migrate import upgrade
from aftersales.adapters.db.repository import SqlUnitOfWork, unit_of_work
from aftersales.domain.cases import Event
from aftersales.domain.event_feed import FeedConsumer
from support.feed import open_told_case

AT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def _open(uow: SqlUnitOfWork, email: str) -> int:
    return open_told_case(uow, email, at=AT)


def test_a_consumer_reads_each_event_once_and_never_an_imported_cases(uow: SqlUnitOfWork) -> None:
    _open(uow, "before@example.com")
    with uow() as cases:  # a new consumer starts at the newest event: the past is not told
        assert cases.feed_events(FeedConsumer.WEBHOOKS) == []

    told = _open(uow, "ana@example.com")
    imported = _open(uow, "old@example.com")
    with uow() as cases:
        cases.db.execute(
            update(schema.cases).where(schema.cases.c.id == imported).values(imported_from="zendesk")
        )
    with uow() as cases:
        events = cases.feed_events(FeedConsumer.WEBHOOKS)
        assert [(e.case_id, e.kind, e.data) for e in events] == [(told, "case_opened", {"channel": "email"})]
        cases.advance_feed(FeedConsumer.WEBHOOKS, events[-1].id)
    with uow() as cases:
        assert cases.feed_events(FeedConsumer.WEBHOOKS) == []
        # each consumer has its own cursor
        assert cases.feed_events(FeedConsumer.NOTIFICATIONS) == []
        cases.add_event(told, Event("status_changed", AT, "Ana", {"from": "new", "to": "open"}))
    with uow() as cases:
        assert [e.kind for e in cases.feed_events(FeedConsumer.NOTIFICATIONS)] == ["status_changed"]


def test_the_upgrade_starts_every_consumer_so_the_first_run_misses_nothing(tmp_path: Path) -> None:
    # a webhook registered (or a notification chosen) before any job ran hears of the next case
    engine = make_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    upgrade(engine)
    desk = unit_of_work(engine, tmp_path / "attachments")
    case_id = _open(desk, "ana@example.com")
    with desk() as cases:
        assert [(e.case_id, e.kind) for e in cases.feed_events(FeedConsumer.WEBHOOKS)] == [
            (case_id, "case_opened")
        ]
        assert [e.kind for e in cases.feed_events(FeedConsumer.NOTIFICATIONS)] == ["case_opened"]
    engine.dispose()

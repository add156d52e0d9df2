"""The case timeline read as a feed (domain/event_feed.py) on SQLAlchemy Core: functions over
one connection, so a consumer reads the events after its cursor and writes what it does with
them (webhook deliveries, notification mails) and its new cursor in one transaction.

Reading first takes the consumer's cursor row for update (a row lock on PostgreSQL, the write
lock on SQLite, whose writers BEGIN IMMEDIATE): two workers never read the same events.

A PostgreSQL event id is taken when its row is inserted, but another transaction may commit
a smaller id later; a reader moving past it would never see it. So on PostgreSQL the feed
stops short of any event whose moment is younger than ``SETTLE_SECONDS`` by the database's
clock. (An event stamped with an older moment, written by a transaction that commits after a
younger one was read, can still be passed over; the desk's events are stamped when written.)"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from aftersales.adapters.db import schema as t
from aftersales.domain.event_feed import FeedConsumer, FeedEvent

SETTLE_SECONDS = 5  # longer than any transaction that adds events

_CURSOR = (
    update(t.event_cursors)
    .where(t.event_cursors.c.consumer == bindparam("consumer_"))
    .values(last_event_id=t.event_cursors.c.last_event_id)
    .returning(t.event_cursors.c.last_event_id)
)
_ADVANCE = (
    update(t.event_cursors)
    .where(t.event_cursors.c.consumer == bindparam("consumer_"))
    .values(last_event_id=bindparam("last_event_id_"))
)
_EVENTS = (
    select(
        t.events.c.id, t.events.c.case_id, t.events.c.kind, t.events.c.at, t.events.c.actor, t.events.c.data
    )
    .join(t.cases, t.cases.c.id == t.events.c.case_id)
    .where(t.events.c.id > bindparam("after"), t.cases.c.imported_from == "")
    .order_by(t.events.c.id)
    .limit(bindparam("limit"))
)
_NEWEST = select(func.max(t.events.c.id)).where(t.events.c.id > bindparam("after"))


def _start_cursor(db: Connection, consumer: FeedConsumer) -> None:
    """A consumer without a cursor starts at the newest event: it is told of what happens from
    now on, not of the desk's whole past. (Migration 0018 starts the known consumers' cursors
    when the desk is upgraded; this covers a consumer added later, and emptied tables.)"""
    newest = select(func.coalesce(func.max(t.events.c.id), 0)).scalar_subquery()
    dialect_insert = pg_insert if db.dialect.name == "postgresql" else sqlite_insert
    statement = (
        dialect_insert(t.event_cursors)
        .from_select(["consumer", "last_event_id"], select(bindparam("consumer_"), newest))
        .on_conflict_do_nothing(index_elements=[t.event_cursors.c.consumer])
    )
    db.execute(statement, {"consumer_": consumer.value})


def events_after_cursor(db: Connection, consumer: FeedConsumer, *, limit: int = 500) -> list[FeedEvent]:
    """The next events for ``consumer``, oldest first, with its cursor locked until the
    transaction ends. Call ``advance`` with the last one acted on before committing."""
    after = _locked_cursor(db, consumer)
    rows = db.execute(_settled(db, _EVENTS), {"after": after, "limit": limit})
    return [
        FeedEvent(id=r.id, case_id=r.case_id, kind=r.kind, at=r.at, actor=r.actor, data=r.data or {})
        for r in rows
    ]


def skip_to_newest(db: Connection, consumer: FeedConsumer) -> None:
    """Move ``consumer``'s cursor past every event ``events_after_cursor`` would hand out now
    (on PostgreSQL, the settled ones), reading none: its cursor is locked as a read locks it."""
    after = _locked_cursor(db, consumer)
    last = db.execute(_settled(db, _NEWEST), {"after": after}).scalar_one_or_none()
    if last is not None:
        advance(db, consumer, int(last))


def _locked_cursor(db: Connection, consumer: FeedConsumer) -> int:
    """``consumer``'s cursor (started if new), locked until the transaction ends."""
    _start_cursor(db, consumer)
    return int(db.execute(_CURSOR, {"consumer_": consumer.value}).scalar_one())


def _settled(db: Connection, statement: Select[Any]) -> Select[Any]:
    """``statement`` over the events, on PostgreSQL short of those younger than SETTLE_SECONDS."""
    if db.dialect.name != "postgresql":
        return statement
    return statement.where(t.events.c.at <= func.now() - func.make_interval(0, 0, 0, 0, 0, 0, SETTLE_SECONDS))


def advance(db: Connection, consumer: FeedConsumer, last_event_id: int) -> None:
    db.execute(_ADVANCE, {"consumer_": consumer.value, "last_event_id_": last_event_id})

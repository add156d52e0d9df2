"""Who has a case open (``case_presence``, domain/presence.py) on SQLAlchemy Core: one
repository per transaction (see ``presence_unit_of_work``)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, exists, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from aftersales.adapters.db import schema as t
from aftersales.adapters.db.engine import transactions
from aftersales.domain.presence import Viewer

_CASE_EXISTS = select(exists().where(t.cases.c.id == bindparam("case_id")))


def _put(dialect_insert: Any) -> Any:
    statement = dialect_insert(t.case_presence)
    return statement.on_conflict_do_update(
        index_elements=[t.case_presence.c.case_id, t.case_presence.c.user_id],
        set_={"seen_at": statement.excluded.seen_at},
    )


_PUT = {"postgresql": _put(pg_insert), "sqlite": _put(sqlite_insert)}
_VIEWERS = (
    select(t.case_presence.c.user_id, t.case_presence.c.seen_at, t.users.c.name, t.users.c.email)
    .join(t.users, t.users.c.id == t.case_presence.c.user_id)
    .where(t.case_presence.c.case_id == bindparam("case_id"), t.case_presence.c.seen_at > bindparam("since"))
    .where(t.users.c.active.is_(True))
    .order_by(t.case_presence.c.seen_at)
)
_LATEST_EVENT = select(func.coalesce(func.max(t.events.c.id), 0)).where(
    t.events.c.case_id == bindparam("case_id")
)
_FORGET = delete(t.case_presence).where(t.case_presence.c.seen_at < bindparam("before"))


class SqlPresenceLog:
    def __init__(self, connection: Connection) -> None:
        self.db = connection

    def see(self, case_id: int, user_id: int, at: datetime) -> bool:
        if not self.db.execute(_CASE_EXISTS, {"case_id": case_id}).scalar_one():
            return False
        statement = _PUT[self.db.dialect.name]
        self.db.execute(statement, {"case_id": case_id, "user_id": user_id, "seen_at": at})
        return True

    def viewers(self, case_id: int, since: datetime) -> list[Viewer]:
        rows = self.db.execute(_VIEWERS, {"case_id": case_id, "since": since})
        return [Viewer(row.user_id, row.name or row.email, row.seen_at) for row in rows]

    def forget_before(self, before: datetime) -> None:
        self.db.execute(_FORGET, {"before": before})

    def latest_event_id(self, case_id: int) -> int:
        return int(self.db.execute(_LATEST_EVENT, {"case_id": case_id}).scalar_one())


def presence_unit_of_work(
    engine: Engine, *, writes: bool = True
) -> Callable[[], AbstractContextManager[SqlPresenceLog]]:
    """A factory: ``with presence() as log:`` is one transaction, committed when the block ends
    (``writes=False``: for reading only, it never waits for SQLite's write lock)."""
    return transactions(engine, SqlPresenceLog, writes=writes)

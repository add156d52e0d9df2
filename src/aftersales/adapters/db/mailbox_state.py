"""Where each polled mailbox stands (``mailbox_state``): its UIDVALIDITY and the last UID taken
in, on SQLAlchemy Core. One repository per transaction (see ``mailbox_state_unit_of_work``)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime

from sqlalchemy import Connection, Engine, and_, bindparam, case, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from aftersales.adapters.db import schema as t
from aftersales.adapters.db.engine import transactions

_STATE = select(t.mailbox_state.c.uidvalidity, t.mailbox_state.c.last_uid).where(
    t.mailbox_state.c.mailbox == bindparam("mailbox")
)


class SqlMailboxStates:
    def __init__(self, connection: Connection) -> None:
        self.db = connection

    def state(self, mailbox: str) -> tuple[int, int] | None:
        """(uidvalidity, last_uid) of ``mailbox``, or None before its first poll."""
        row = self.db.execute(_STATE, {"mailbox": mailbox}).first()
        return None if row is None else (int(row.uidvalidity), int(row.last_uid))

    def save(self, mailbox: str, uidvalidity: int, last_uid: int, at: datetime) -> None:
        values = {"mailbox": mailbox, "uidvalidity": uidvalidity, "last_uid": last_uid, "polled_at": at}
        dialect_insert = pg_insert if self.db.dialect.name == "postgresql" else sqlite_insert
        statement = dialect_insert(t.mailbox_state).values(values)
        stored, new = t.mailbox_state.c, statement.excluded
        # An upsert, and last_uid never goes back within one UIDVALIDITY: two pollers of one
        # mailbox (`mail poll` while `serve` runs) neither collide nor undo each other's progress.
        kept_uid = case(
            (and_(stored.uidvalidity == new.uidvalidity, stored.last_uid > new.last_uid), stored.last_uid),
            else_=new.last_uid,
        )
        self.db.execute(
            statement.on_conflict_do_update(
                index_elements=[stored.mailbox],
                set_={"uidvalidity": new.uidvalidity, "last_uid": kept_uid, "polled_at": new.polled_at},
            )
        )


def mailbox_state_unit_of_work(
    engine: Engine, *, writes: bool = True
) -> Callable[[], AbstractContextManager[SqlMailboxStates]]:
    """A factory: ``with states() as repo:`` is one transaction, committed when the block ends."""
    return transactions(engine, SqlMailboxStates, writes=writes)

"""The contact form's posts (``contact_posts``), counted for its rate limit, on SQLAlchemy Core.
One repository per transaction (see ``contact_posts_unit_of_work``)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from contextlib import AbstractContextManager
from datetime import datetime

from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, select, text

from aftersales.adapters.db import schema as t
from aftersales.adapters.db.engine import transactions

_COUNT = select(func.count()).where(
    t.contact_posts.c.key == bindparam("key"), t.contact_posts.c.at > bindparam("since")
)
_PRUNE = delete(t.contact_posts).where(t.contact_posts.c.at <= bindparam("before"))
# two server processes counting the same key at once take turns (SQLite's writers do anyway)
_PG_KEY_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(:key))")


class SqlContactPosts:
    def __init__(self, connection: Connection) -> None:
        self.db = connection

    def lock(self, keys: Collection[str]) -> None:
        if self.db.dialect.name == "postgresql":
            for key in sorted(keys):  # always in one order: two posts never wait on each other
                self.db.execute(_PG_KEY_LOCK, {"key": key})

    def counts_since(self, keys: Mapping[str, str], since: datetime) -> dict[str, int]:
        return {
            name: int(self.db.execute(_COUNT, {"key": key, "since": since}).scalar_one())
            for name, key in keys.items()
        }

    def record(self, keys: Collection[str], at: datetime) -> None:
        self.db.execute(insert(t.contact_posts), [{"key": key, "at": at} for key in keys])

    def prune(self, before: datetime) -> None:
        self.db.execute(_PRUNE, {"before": before})


def contact_posts_unit_of_work(engine: Engine) -> Callable[[], AbstractContextManager[SqlContactPosts]]:
    """A factory: ``with posts() as repo:`` is one transaction, committed when the block ends."""
    return transactions(engine, SqlContactPosts)

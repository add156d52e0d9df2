"""Store policy text versions on SQLAlchemy Core, and the orders linked to them: one
repository per transaction (see ``policy_texts_unit_of_work``).

Orders are linked when they are imported (``domain.orders.linked_to_policy`` over
``SqlCaseRepository.policy_versions``) to the version with the latest ``effective_at`` at or
before the order's time; the relink here computes the same thing in SQL, so stored and newly
imported orders agree.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime

from sqlalchemy import (
    Connection,
    Engine,
    RowMapping,
    String,
    bindparam,
    cast,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)

from aftersales.adapters.db import schema as t
from aftersales.adapters.db.engine import transactions
from aftersales.domain.policy_texts import PolicyKind, PolicyTexts, PolicyVersion

_versions = t.policy_versions
_IN_FORCE = (
    select(_versions)
    .where(_versions.c.effective_at <= bindparam("at"))
    .order_by(_versions.c.effective_at.desc(), _versions.c.version.desc())
    .limit(1)
)
_ALL = select(_versions).order_by(_versions.c.version)
_ONE = select(_versions).where(_versions.c.version == bindparam("version_"))
_LAST_NUMBER = select(func.max(_versions.c.version))
_ADD = insert(_versions)

# "v3": the label orders carry (repository.policy_version_label), built in SQL
_LABEL = literal("v", String) + cast(_versions.c.version, String)
_orders = t.orders
_IN_FORCE_AT_PLACED = (
    select(_LABEL)
    .where(_versions.c.effective_at <= _orders.c.placed_at)
    .order_by(_versions.c.effective_at.desc(), _versions.c.version.desc())
    .limit(1)
    .scalar_subquery()
)
_LINK = func.coalesce(_IN_FORCE_AT_PLACED, "")
# Orders placed from a time on, linked to no version or to one of ours (a version an order
# file named in its own words is the source's, and is kept), whose link would change.
_RELINK = (
    update(_orders)
    .where(
        _orders.c.placed_at >= bindparam("placed_from"),
        or_(_orders.c.policy_version == "", _orders.c.policy_version.in_(select(_LABEL))),
        _orders.c.policy_version != _LINK,
    )
    .values(policy_version=_LINK)
)


class SqlPolicyTextRepository:
    def __init__(self, connection: Connection) -> None:
        self.db = connection

    def version_in_force(self, at: datetime) -> PolicyVersion | None:
        row = self.db.execute(_IN_FORCE, {"at": at}).mappings().first()
        return None if row is None else _version(row)

    def versions(self) -> list[PolicyVersion]:
        return [_version(row) for row in self.db.execute(_ALL).mappings()]

    def version(self, number: int) -> PolicyVersion | None:
        row = self.db.execute(_ONE, {"version_": number}).mappings().first()
        return None if row is None else _version(row)

    def add_version(
        self, texts: PolicyTexts, effective_at: datetime, added_at: datetime, added_by: str
    ) -> PolicyVersion:
        """The next version number holds ``texts``; the write lock a writing unit of work
        takes (SQLite) or the unique version number (PostgreSQL) keeps two adds apart."""
        number = (self.db.execute(_LAST_NUMBER).scalar() or 0) + 1
        version = PolicyVersion(
            version=number,
            sha256=texts.sha256,
            texts=texts,
            effective_at=effective_at,
            added_at=added_at,
            added_by=added_by,
        )
        values = {
            "version": number,
            "sha256": version.sha256,
            "texts": {kind.value: text for kind, text in texts.texts.items()},
            "effective_at": effective_at,
            "added_at": added_at,
            "added_by": added_by,
        }
        self.db.execute(_ADD, values)
        return version

    def relink_orders(self, placed_from: datetime) -> int:
        """Link the orders placed at or after ``placed_from`` to the version in force when
        each was placed; the number of orders whose link changed."""
        return self.db.execute(_RELINK, {"placed_from": placed_from}).rowcount


def _version(row: RowMapping) -> PolicyVersion:
    texts = PolicyTexts({kind: row["texts"][kind.value] for kind in PolicyKind if kind.value in row["texts"]})
    return PolicyVersion(
        version=row["version"],
        sha256=row["sha256"],
        texts=texts,
        effective_at=row["effective_at"],
        added_at=row["added_at"],
        added_by=row["added_by"],
    )


def policy_texts_unit_of_work(
    engine: Engine, *, writes: bool = True
) -> Callable[[], AbstractContextManager[SqlPolicyTextRepository]]:
    """A factory: ``with policy_texts() as repo:`` is one transaction, committed when the
    block ends. ``writes=False`` is for reading only (no write lock on SQLite)."""
    return transactions(engine, SqlPolicyTextRepository, writes=writes)

"""Desk users and API tokens on SQLAlchemy Core: one repository per transaction (see
``users_unit_of_work``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import datetime, timedelta

from sqlalchemy import (
    Connection,
    Engine,
    Executable,
    RowMapping,
    bindparam,
    delete,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from aftersales.adapters.db import schema as t
from aftersales.adapters.db.engine import transactions
from aftersales.domain.accounts import DeskSession, Role, User
from aftersales.domain.errors import InputError

# A token's last use is kept to the minute: writing it on every API call would make each
# read a write, and on SQLite each write takes the one write lock.
LAST_USED_RESOLUTION = timedelta(minutes=1)

# ON CONFLICT rather than a look-up first: two admins adding the same address at once both
# get the readable refusal, not an IntegrityError.
_ADD_USER: Mapping[str, Executable] = {
    name: dialect_insert(t.users)
    .on_conflict_do_nothing(index_elements=[t.users.c.email])
    .returning(t.users.c.id)
    for name, dialect_insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}
_USER_COLUMNS = (t.users.c.id, t.users.c.email, t.users.c.name, t.users.c.role, t.users.c.active)
_BY_EMAIL = select(*_USER_COLUMNS, t.users.c.password_hash).where(t.users.c.email == bindparam("email"))
_BY_ID = select(*_USER_COLUMNS).where(t.users.c.id == bindparam("user_id"))
_ALL = select(*_USER_COLUMNS).order_by(t.users.c.email)
_SET_HASH = (
    update(t.users).where(t.users.c.id == bindparam("user_id")).values(password_hash=bindparam("hash"))
)
_ADD_TOKEN = insert(t.api_tokens).returning(t.api_tokens.c.id)
_TOKEN_HOLDER = (
    select(*_USER_COLUMNS, t.api_tokens.c.id.label("token_id"))
    .join(t.api_tokens, t.api_tokens.c.user_id == t.users.c.id)
    .where(
        t.api_tokens.c.token_hash == bindparam("token_hash"),
        t.api_tokens.c.revoked_at.is_(None),
        t.users.c.active.is_(True),
    )
)
_TOKEN_USED = (
    update(t.api_tokens)
    .where(
        t.api_tokens.c.id == bindparam("token_id"),
        or_(t.api_tokens.c.last_used_at.is_(None), t.api_tokens.c.last_used_at < bindparam("stale_before")),
    )
    .values(last_used_at=bindparam("at"))
)
_REVOKE = (
    update(t.api_tokens)
    .where(t.api_tokens.c.user_id == bindparam("user_id_"), t.api_tokens.c.revoked_at.is_(None))
    .values(revoked_at=bindparam("at"))
)

_SESSION = (
    select(*_USER_COLUMNS, t.sessions.c.csrf_token, t.sessions.c.last_seen_at)
    .join(t.sessions, t.sessions.c.user_id == t.users.c.id)
    .where(
        t.sessions.c.id == bindparam("session_hash"),
        t.sessions.c.expires_at > bindparam("at"),
        t.users.c.active.is_(True),
    )
)


class SqlUserRepository:
    def __init__(self, connection: Connection) -> None:
        self.db = connection

    # ---------------------------------------------------------------- users
    def add_user(self, email: str, name: str, role: Role, password_hash: str, at: datetime) -> int:
        values = {
            "email": email,
            "name": name,
            "role": role.value,
            "password_hash": password_hash,
            "active": True,
            "created_at": at,
        }
        found = self.db.execute(_ADD_USER[self.db.dialect.name], values).scalar()
        if found is None:
            raise InputError(f"a user with the e-mail {email} already exists")
        return int(found)

    def user_by_email(self, email: str) -> tuple[User, str] | None:
        row = self.db.execute(_BY_EMAIL, {"email": email}).mappings().first()
        return None if row is None else (_user(row), str(row["password_hash"]))

    def user_by_id(self, user_id: int) -> User | None:
        row = self.db.execute(_BY_ID, {"user_id": user_id}).mappings().first()
        return None if row is None else _user(row)

    def list_users(self) -> list[User]:
        return [_user(row) for row in self.db.execute(_ALL).mappings()]

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        self.db.execute(_SET_HASH, {"user_id": user_id, "hash": password_hash})

    def set_active(self, user_id: int, *, active: bool) -> None:
        self.db.execute(update(t.users).where(t.users.c.id == user_id).values(active=active))

    def set_role(self, user_id: int, role: Role) -> None:
        self.db.execute(update(t.users).where(t.users.c.id == user_id).values(role=role.value))

    # ---------------------------------------------------------------- sessions
    def add_session(  # noqa: PLR0913  (one row's columns)
        self, session_hash: str, user_id: int, csrf_token: str, at: datetime, expires_at: datetime
    ) -> None:
        values = {
            "id": session_hash,
            "user_id": user_id,
            "csrf_token": csrf_token,
            "created_at": at,
            "last_seen_at": at,
            "expires_at": expires_at,
        }
        self.db.execute(insert(t.sessions), values)

    def session(self, session_hash: str, at: datetime) -> DeskSession | None:
        """The unexpired session of an active user."""
        row = self.db.execute(_SESSION, {"session_hash": session_hash, "at": at}).mappings().first()
        if row is None:
            return None
        return DeskSession(_user(row), str(row["csrf_token"]), row["last_seen_at"])

    def touch_session(self, session_hash: str, at: datetime) -> None:
        self.db.execute(update(t.sessions).where(t.sessions.c.id == session_hash).values(last_seen_at=at))

    def delete_session(self, session_hash: str) -> None:
        self.db.execute(delete(t.sessions).where(t.sessions.c.id == session_hash))

    def delete_sessions_of(self, user_id: int) -> int:
        return self.db.execute(delete(t.sessions).where(t.sessions.c.user_id == user_id)).rowcount

    def delete_expired_sessions(self, at: datetime) -> None:
        self.db.execute(delete(t.sessions).where(t.sessions.c.expires_at <= at))

    # ---------------------------------------------------------------- failed sign-ins
    def add_sign_in_failure(self, account: str, address: str, at: datetime) -> None:
        self.db.execute(insert(t.sign_in_failures), {"account": account, "address": address, "at": at})

    def sign_in_failures(
        self, account: str, address: str, since: datetime
    ) -> tuple[list[datetime], list[datetime]]:
        """The times of the recent failures for the account, and for the client address."""
        failures = t.sign_in_failures
        recent = select(failures.c.at).where(failures.c.at > since)
        by_account = self.db.execute(recent.where(failures.c.account == account)).scalars()
        by_address = list(self.db.execute(recent.where(failures.c.address == address)).scalars())
        return list(by_account), by_address

    def forget_sign_in_failures(self, *, account: str | None = None, before: datetime | None = None) -> None:
        """Drop an account's failures (it signed in), or every failure older than ``before``."""
        failures = t.sign_in_failures
        if account is not None:
            self.db.execute(delete(failures).where(failures.c.account == account))
        if before is not None:
            self.db.execute(delete(failures).where(failures.c.at < before))

    # ---------------------------------------------------------------- tokens
    def add_token(self, user_id: int, name: str, token_hash: str, at: datetime) -> int:
        values = {"user_id": user_id, "name": name, "token_hash": token_hash, "created_at": at}
        return int(self.db.execute(_ADD_TOKEN, values).scalar_one())

    def user_for_token_hash(self, token_hash: str, at: datetime) -> User | None:
        row = self.db.execute(_TOKEN_HOLDER, {"token_hash": token_hash}).mappings().first()
        if row is None:
            return None
        self.db.execute(
            _TOKEN_USED, {"token_id": row["token_id"], "at": at, "stale_before": at - LAST_USED_RESOLUTION}
        )
        return _user(row)

    def revoke_tokens(self, user_id: int, at: datetime) -> None:
        self.db.execute(_REVOKE, {"user_id_": user_id, "at": at})


def _user(row: RowMapping) -> User:
    return User(
        id=int(row["id"]),
        email=str(row["email"]),
        name=str(row["name"]),
        role=Role(row["role"]),
        active=bool(row["active"]),
    )


def users_unit_of_work(
    engine: Engine, *, writes: bool = True
) -> Callable[[], AbstractContextManager[SqlUserRepository]]:
    """A factory: ``with users() as repo:`` is one transaction, committed when the block ends.

    ``writes=False`` is for reading only: on SQLite it does not queue for the write lock (a
    token check writes its last use, so it needs ``writes=True``)."""
    return transactions(engine, SqlUserRepository, writes=writes)

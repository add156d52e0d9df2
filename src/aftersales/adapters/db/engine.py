"""Engines for the embedded SQLite file and for PostgreSQL, configured the same way everywhere."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from aftersales.adapters.files.atomic import PRIVATE_FILE, make_private, private_folder
from aftersales.domain.errors import ConfigError

# Execution option of a connection whose transactions will write (see _sqlite_engine).
WRITE_OPTION = "aftersales_writes"
R = TypeVar("R")
# How long one SQLite writer waits for another's lock before "database is locked", and how
# often a whole unit of work is then tried again (waiting 0.1 s, 0.2 s, 0.4 s, ... between).
# Writers take the lock at BEGIN (BEGIN IMMEDIATE), and transactions are kept short (intake
# writes one message per transaction), so a writer waits seconds at most, never this long.
BUSY_TIMEOUT_MS = 15_000
LOCKED_ATTEMPTS = 5
_BACKOFF_SECONDS = 0.1


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def make_engine(url: str, *, pooled: bool = True) -> Engine:
    """An engine for a database URL; SQLite gets WAL, foreign keys and a busy timeout.

    Both hide statement parameters from their errors: a logged database error would
    otherwise quote customers' addresses and message text. ``pooled=False``: every unit of
    work opens its own connection and closes it (for a side use, such as a cache, that
    must not hold a connection between uses)."""
    pool: dict[str, Any] = {} if pooled else {"poolclass": NullPool}
    if url.startswith("sqlite"):
        return _sqlite_engine(url, pool)
    if url.startswith(("postgresql", "postgres")):
        return create_engine(_psycopg(url), pool_pre_ping=True, hide_parameters=True, **pool)
    raise ConfigError(
        f"unsupported database URL {url.split(':', 1)[0]!r}: use sqlite:///PATH or postgresql://..."
    )


def _psycopg(url: str) -> str:
    """postgresql://... uses psycopg 3 (the driver the project installs), not psycopg2."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _sqlite_engine(url: str, pool: dict[str, Any]) -> Engine:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        _private_database(Path(path))
    engine = create_engine(url, hide_parameters=True, **pool)

    @event.listens_for(engine, "connect")
    def _configure(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        # the driver's own BEGIN is replaced by the one below
        connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # A deferred transaction that reads, then writes after another connection wrote,
        # fails at once with "database is locked" (the busy timeout does not apply to it).
        # Units of work that write take the write lock at BEGIN, so writers queue for it;
        # readers stay deferred and, with WAL, never wait.
        writes = connection.get_execution_options().get(WRITE_OPTION, False)
        # Nothing has run yet when BEGIN fails, so trying it again retries the whole unit.
        retry_when_locked(lambda: connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN"))

    return engine


def _private_database(path: Path) -> None:
    """The database file made 0600 before SQLite opens it (SQLite gives its -wal and -shm
    files the database's permissions), in a 0700 folder; one an older desk made readable by
    all is made private."""
    private_folder(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))  # an empty database
    except FileExistsError:
        for file in (path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")):
            make_private(file)
    except OSError:
        return  # a read-only folder: SQLite says what is wrong when it opens the file


def is_locked(error: BaseException) -> bool:
    """SQLite's "database is locked" (or "busy"): another writer held the lock too long."""
    orig = error.orig if isinstance(error, OperationalError) else None
    return isinstance(orig, sqlite3.OperationalError) and any(
        word in str(orig).lower() for word in ("locked", "busy")
    )


def retry_when_locked(work: Callable[[], R], *, attempts: int = LOCKED_ATTEMPTS) -> R:
    """``work()`` (a whole unit of work), tried again with a growing pause while SQLite says
    the database is locked; the last failure is raised. Other errors are raised at once."""
    for attempt in range(attempts):
        try:
            return work()
        except OperationalError as error:
            if not is_locked(error) or attempt == attempts - 1:
                raise
            time.sleep(_BACKOFF_SECONDS * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def transactions(
    engine: Engine,
    repository: Callable[[Connection], R],
    *,
    writes: bool = True,
    options: Mapping[str, Any] | None = None,
) -> Callable[[], AbstractContextManager[R]]:
    """A unit-of-work factory: ``with begin() as repo:`` is one transaction on a connection of
    ``engine``, handed to ``repository``, committed when the block ends. ``writes=False`` is
    for reading only: on SQLite it does not queue for the write lock."""

    @contextmanager
    def begin() -> Iterator[R]:
        settings = {WRITE_OPTION: writes, **(options or {})}
        with engine.connect() as connection, connection.execution_options(**settings).begin():
            yield repository(connection)

    return begin

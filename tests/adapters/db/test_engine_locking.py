"""SQLite writers wait their turn: a unit of work that finds the write lock taken retries with a
growing pause instead of failing with "database is locked" (finding 5 of the hardening issue)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from aftersales.adapters.db import engine as engines


def _hold_the_write_lock(path: Path, seconds: float, taken: threading.Event) -> None:
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    taken.set()
    time.sleep(seconds)
    holder.execute("COMMIT")
    holder.close()


def test_a_writer_retries_while_another_holds_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # no busy wait at all, so only the retry can get this writer through
    monkeypatch.setattr(engines, "BUSY_TIMEOUT_MS", 0)
    path = tmp_path / "desk.db"
    engine = engines.make_engine(engines.sqlite_url(path))
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE notes (text TEXT)"))
    begin = engines.transactions(engine, lambda connection: connection)
    taken = threading.Event()
    holder = threading.Thread(target=_hold_the_write_lock, args=(path, 0.5, taken))
    holder.start()
    taken.wait(5)
    with begin() as connection:  # BEGIN IMMEDIATE fails, waits 0.1 s, 0.2 s, 0.4 s ... and gets it
        connection.execute(text("INSERT INTO notes VALUES ('waited its turn')"))
    holder.join()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT text FROM notes")).scalars().all() == ["waited its turn"]
    engine.dispose()


def test_retry_when_locked_gives_up_after_its_attempts_and_leaves_other_errors_alone() -> None:
    calls = 0

    def locked() -> None:
        nonlocal calls
        calls += 1
        raise OperationalError("BEGIN", {}, sqlite3.OperationalError("database is locked"))

    with pytest.raises(OperationalError, match="locked"):
        engines.retry_when_locked(locked, attempts=3)
    assert calls == 3

    def broken() -> None:
        nonlocal calls
        calls += 1
        raise OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: notes"))

    calls = 0
    with pytest.raises(OperationalError, match="no such table"):
        engines.retry_when_locked(broken)
    assert calls == 1

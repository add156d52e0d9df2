"""The queue's listings of the last second, kept per query in this process.

Ten agents polling the queue ask for the same first page many times a second; each listing
is an index walk, 50 to 200 rows fetched and decoded (their clocks are JSON), which is most
of what a queue request costs. So a listing is kept for ``LISTING_SECONDS`` and handed out
again, until a transaction of this process that wrote to a table the listing reads (cases,
customers, users) commits: an agent's own reply, move or assignment shows on their next
queue at once. A write by another process (a second server, a worker, `aftersales intake`)
shows within ``LISTING_SECONDS``. Writes elsewhere (sessions, presence, the job log) keep
the listings.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event

from aftersales.domain.cases import CaseSummary
from aftersales.domain.queue import QueueQuery
from aftersales.ports import UnitOfWork

LISTING_SECONDS = 1.0
# listings kept at most: the first pages of a busy desk's few filters, not every search typed
MAX_KEPT = 256
# the tables a listing reads; a statement writing one of them voids the listings at commit
LISTED_TABLES = frozenset({"cases", "customers", "users"})
_WRITTEN_TABLE = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE)
_CHANGED = "aftersales_listed_table_written"  # a flag in the connection's info, until its commit


class RecentListings:
    """``listings(query)``: the queue ``query`` asks for, read through ``read`` or kept from
    a listing read less than ``seconds`` ago with no write of this process since."""

    def __init__(
        self,
        engine: Engine,
        read: UnitOfWork,
        seconds: float = LISTING_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._read = read
        self._seconds = seconds
        self._clock = clock
        self._writes = 0  # commits of this process's transactions that may have written
        self._kept: dict[QueueQuery, tuple[float, int, list[CaseSummary]]] = {}
        self._lock = threading.Lock()
        self._loading: dict[QueueQuery, threading.Lock] = {}  # one reader per stale listing
        self._listeners = (
            ("before_cursor_execute", self._on_statement),
            ("commit", self._on_commit),
            ("rollback", self._on_rollback),
        )
        for name, listener in self._listeners:
            event.listen(engine, name, listener)

    def close(self) -> None:
        """Stop watching the engine's writes (the engine outlives this, as in tests)."""
        for name, listener in self._listeners:
            event.remove(self._engine, name, listener)

    @staticmethod
    def _on_statement(connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        written = _WRITTEN_TABLE.match(statement)
        if written is not None and written.group(1).lower() in LISTED_TABLES:
            connection.info[_CHANGED] = True

    def _on_commit(self, connection: Any) -> None:
        if connection.info.pop(_CHANGED, False):
            with self._lock:
                self._writes += 1

    @staticmethod
    def _on_rollback(connection: Any) -> None:
        connection.info.pop(_CHANGED, None)

    def __call__(self, query: QueueQuery) -> list[CaseSummary]:
        found = self._fresh(query)
        if found is not None:
            return found
        # One request reads a listing gone stale; the others asking the same meanwhile wait
        # for it rather than all reading it at once (ten clients right after a write).
        with self._lock:
            loading = self._loading.setdefault(query, threading.Lock())
        with loading:
            found = self._fresh(query)
            if found is not None:
                return found
            now = self._clock()
            with self._lock:
                writes = self._writes
            with self._read() as cases:
                rows = cases.queue(query)
            with self._lock:  # kept under the count read before the listing: a write meanwhile voids it
                if len(self._kept) >= MAX_KEPT:
                    self._kept.clear()
                    self._loading = {query: loading}
                self._kept[query] = (now, writes, rows)
        return list(rows)

    def _fresh(self, query: QueueQuery) -> list[CaseSummary] | None:
        """A copy of the kept listing of ``query`` (never the kept list itself, to be changed),
        while it is younger than the limit and no write voided it; else None."""
        with self._lock:
            kept = self._kept.get(query)
            writes = self._writes
        if kept is not None and kept[1] == writes and self._clock() - kept[0] < self._seconds:
            return list(kept[2])
        return None

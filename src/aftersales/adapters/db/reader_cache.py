"""The language-model reader's cache (``reader_cache``) on SQLAlchemy Core.

A cache only saves requests: when the database cannot answer (not migrated yet, locked, gone)
the reader asks the model again instead of failing, and the error is kept for the trace.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from aftersales.adapters.db import schema as t
from aftersales.adapters.db.engine import transactions


class SqlReadingCache:
    def __init__(self, engine: Engine) -> None:
        self._read = transactions(engine, lambda connection: connection, writes=False)
        self._write = transactions(engine, lambda connection: connection)
        self.last_error = ""

    def get(self, key: str) -> Mapping[str, Any] | None:
        try:
            with self._read() as db:
                found = db.execute(select(t.reader_cache.c.reading).where(t.reader_cache.c.key == key))
                value = found.scalar_one_or_none()
        except SQLAlchemyError as error:
            self.last_error = f"the reader cache cannot be read ({type(error).__name__})"
            return None
        return value if isinstance(value, Mapping) else None

    def put(self, key: str, prompt_version: str, reading: Mapping[str, Any]) -> None:
        row = {"key": key, "prompt_version": prompt_version, "reading": dict(reading)}
        try:
            with self._write() as db:
                db.execute(insert(t.reader_cache), [row | {"created_at": datetime.now(UTC)}])
        except IntegrityError:
            pass  # another process stored the same reading first
        except SQLAlchemyError as error:
            self.last_error = f"the reader cache cannot be written ({type(error).__name__})"

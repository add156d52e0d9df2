"""The database's schema against schema.py, the differences made on purpose left out."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from aftersales.adapters.db import schema

# What the migrations make that schema.py leaves out on purpose: the full-text search of
# migration 0013 (SQLite FTS5 tables, PostgreSQL expression indexes; adapters/db/search.py),
# and on SQLite the foreign key 0013 added with a column (SQLite cannot name it).
_SEARCH = ("messages_search", "customers_search")


def _on_purpose(difference: object) -> bool:
    text = repr(difference)
    if any(name in text for name in _SEARCH):
        return True
    return "fk_cases_assignee_user_id_users" in text or (
        text.startswith("('remove_fk'") and "assignee_user_id" in text
    )


def schema_differences(engine: Engine) -> list[object]:
    """What the database has that schema.py does not describe, or lacks that it does."""
    with engine.connect() as connection:
        found = compare_metadata(MigrationContext.configure(connection), schema.metadata)
    return [d for d in found if not _on_purpose(d)]

"""The migrations make exactly the tables, columns, indexes and constraints schema.py
describes, on SQLite and PostgreSQL: one check over the whole schema, so a new table or
column cannot be described in one and forgotten in the other. Each migration's downgrade is
tested beside its table (test_*_table(s).py)."""

from __future__ import annotations

from sqlalchemy import Engine

from support.schema_check import schema_differences


def test_the_migrations_make_the_schema(engine: Engine) -> None:
    assert schema_differences(engine) == []

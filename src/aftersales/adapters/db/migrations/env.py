"""Alembic environment: always run from code with a connection (see ../migrate.py)."""

from __future__ import annotations

from alembic import context

from aftersales.adapters.db.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only `aftersales db upgrade` runs migrations
    raise RuntimeError("run migrations with `aftersales db upgrade`, not the alembic command")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

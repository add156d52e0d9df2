"""`aftersales db`: the database schema."""

from __future__ import annotations

import click

from aftersales.adapters.db.engine import make_engine
from aftersales.adapters.db.migrate import current_revision, head_revision, upgrade
from aftersales.settings import Settings


@click.group()
def db() -> None:
    """The case desk's database: the embedded SQLite file in the data folder by default, or
    PostgreSQL (or another SQLite file) given by AFTERSALES_DATABASE_URL."""


@db.command("upgrade")
@click.pass_obj
def upgrade_command(settings: Settings) -> None:
    """Create the tables, or migrate them to this version's schema (safe to run again). On
    PostgreSQL, also create the job queue's tables (procrastinate's), when missing."""
    engine = make_engine(settings.database)
    before = current_revision(engine)
    upgrade(engine)
    where = engine.url.render_as_string(hide_password=True)
    click.echo(f"{where}: schema {before or 'empty'} -> {head_revision()}")
    if engine.dialect.name == "postgresql":
        from aftersales.adapters.jobs.procrastinate_queue import apply_schema  # noqa: PLC0415 (PostgreSQL only)
        from aftersales.jobs.back_end import libpq_url  # noqa: PLC0415

        created = apply_schema(libpq_url(settings))
        click.echo(f"{where}: job queue tables {'created' if created else 'present'}")

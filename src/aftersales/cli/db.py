"""`aftersales db`: the database schema."""

from __future__ import annotations

import click

from aftersales.settings import Settings
from aftersales.wiring import upgrade_database, upgrade_job_queue


@click.group()
def db() -> None:
    """The case desk's database: the embedded SQLite file in the data folder by default, or
    PostgreSQL (or another SQLite file) given by AFTERSALES_DATABASE_URL."""


@db.command("upgrade")
@click.pass_obj
def upgrade_command(settings: Settings) -> None:
    """Create the tables, or migrate them to this version's schema (safe to run again)."""
    change = upgrade_database(settings)
    click.echo(f"{change.where}: schema {change.before or 'empty'} -> {change.after}")
    created = upgrade_job_queue(settings)
    if created is not None:
        click.echo(f"{change.where}: job queue tables {'created' if created else 'present'}")

"""Schema migrations with Alembic, run from code: `aftersales db upgrade` and the demo call this.

Alembic is imported only to migrate or to read its scripts: every command checks that the
schema is current, and loading Alembic for that cost a third of a second per command.
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

# The newest migration's revision; a test holds it equal to Alembic's own head.
HEAD_REVISION = "0024"
_VERSION_TABLE = "alembic_version"


def _config() -> Config:
    from alembic.config import Config  # lazily: see the module docstring

    config = Config()
    config.set_main_option("script_location", str(resources.files("aftersales.adapters.db") / "migrations"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command  # lazily: see the module docstring

    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Undo the migrations after ``revision`` (tests of each migration's downgrade)."""
    from alembic import command  # lazily: see the module docstring

    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, read from Alembic's version table; None when empty."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(_VERSION_TABLE):
            return None
        found = connection.execute(text(f"SELECT version_num FROM {_VERSION_TABLE}")).scalar()
        return str(found) if found is not None else None


def head_revision() -> str | None:
    """Alembic's head, read from the migration scripts."""
    from alembic.script import ScriptDirectory  # lazily: see the module docstring

    return ScriptDirectory.from_config(_config()).get_current_head()


def is_current(engine: Engine) -> bool:
    return current_revision(engine) == HEAD_REVISION

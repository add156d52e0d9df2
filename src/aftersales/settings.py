"""Deployment settings: where the store's data lives. Read once, at start-up, by the CLI.

Per-store business rules (routes, SLA targets, leads) are not settings: they live in the
store's policy file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path  # the store's data folder: policy.toml, router-model.json, the database
    policy_file: Path | None  # an explicit policy file; None: data_dir/policy.toml or the built-in
    database_url: str | None = None  # None: the SQLite file data_dir/aftersales.db
    secret_key: str | None = None  # signs web session cookies; None: data_dir/secret_key

    @property
    def database(self) -> str:
        """The database URL in force: AFTERSALES_DATABASE_URL, else the embedded SQLite file."""
        return self.database_url or f"sqlite:///{self.data_dir / 'aftersales.db'}"

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"

    @property
    def cache_dir(self) -> Path:
        """Rebuildable speed-ups (the cue index, the built-in model); safe to delete."""
        return self.data_dir / "cache"

    @property
    def model_file(self) -> Path:
        return self.data_dir / "router-model.json"

    def active_policy_file(self) -> Path | None:
        if self.policy_file is not None:
            return self.policy_file
        candidate = self.data_dir / "policy.toml"
        return candidate if candidate.is_file() else None


def default_data_dir(environ: Mapping[str, str]) -> Path:
    base = environ.get("XDG_DATA_HOME") or str(Path(environ.get("HOME", ".")) / ".local" / "share")
    return Path(base) / "aftersales"


def load_settings(environ: Mapping[str, str]) -> Settings:
    """AFTERSALES_DATA_DIR, AFTERSALES_POLICY, AFTERSALES_DATABASE_URL and AFTERSALES_SECRET_KEY
    override the defaults."""
    data_dir = (
        Path(environ["AFTERSALES_DATA_DIR"])
        if environ.get("AFTERSALES_DATA_DIR")
        else default_data_dir(environ)
    )
    policy = environ.get("AFTERSALES_POLICY")
    return Settings(
        data_dir=data_dir,
        policy_file=Path(policy) if policy else None,
        database_url=environ.get("AFTERSALES_DATABASE_URL") or None,
        secret_key=environ.get("AFTERSALES_SECRET_KEY") or None,
    )

"""Public holidays and subdivision codes from the ``holidays`` package, kept in the data
folder's cache.

Asking the package about one country imports all of its 250 countries (``holidays.countries``
imports every module): about 0.13 s of CPU, a third of what `aftersales route` costs. The
answers depend only on the installed package, so they are kept in one small JSON file named
after its version (and ours), read back by every later command; a missing, torn or stale file
is simply rebuilt. Without a cache folder the package is asked directly.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from aftersales import __version__
from aftersales.adapters.files.atomic import private_folder, write_atomically

T = TypeVar("T")


def country_codes(cache_dir: Path | None = None) -> frozenset[str]:
    """The ISO 3166-1 alpha-2 codes of the countries the ``holidays`` package knows."""

    def ask() -> list[str]:
        # The registry names every supported country without importing each country's module
        # (holidays.list_supported_countries() does, which costs a fifth of a second).
        from holidays.registry import COUNTRIES

        return sorted(str(entry[1]) for entry in COUNTRIES.values())

    return frozenset(_remembered(cache_dir, "countries", "all", ask))


def subdivision_codes(country: str, cache_dir: Path | None = None) -> tuple[str, ...]:
    """The subdivision codes the ``holidays`` package knows for ``country`` (an empty tuple for
    a country it knows none of)."""

    def ask() -> list[str]:
        import holidays  # imported here: the cache usually answers

        return list(holidays.country_holidays(country).subdivisions)

    return tuple(_remembered(cache_dir, "subdivisions", country, ask))


def public_holidays(
    country: str, subdivision: str | None, year: int, cache_dir: Path | None = None
) -> dict[date, str]:
    """The public holidays of ``year`` in ``country`` (and ``subdivision``), by date; several on
    one date are one name joined by "; " (the package's convention)."""

    def ask() -> dict[str, str]:
        import holidays  # imported here: the cache usually answers

        found = holidays.country_holidays(country, subdiv=subdivision, years=year)
        return {day.isoformat(): str(name) for day, name in found.items()}

    key = f"{country}/{subdivision or ''}/{year}"
    return {date.fromisoformat(day): name for day, name in _remembered(cache_dir, "years", key, ask).items()}


def _remembered(cache_dir: Path | None, table: str, key: str, ask: Callable[[], T]) -> T:
    """The answer under ``table``/``key`` in the cache file; else ``ask()``, then kept."""
    path = _cache_file(cache_dir)
    cached = _read(path) if path is not None else {}
    entries = cached.setdefault(table, {})
    if key in entries:
        answer: T = entries[key]
        return answer
    entries[key] = answer = ask()
    if path is not None:
        _save(path, cached)
    return answer


def _cache_file(cache_dir: Path | None) -> Path | None:
    """``cache_dir/holidays-<fingerprint>.json``: a new package version gets a new file."""
    if cache_dir is None:
        return None
    spec = importlib.util.find_spec("holidays")  # finds the package without importing it
    if spec is None or spec.origin is None:
        return None
    try:
        version = (Path(spec.origin).parent / "version.py").read_bytes()
    except OSError:
        return None
    fingerprint = hashlib.sha256(__version__.encode() + b"\0" + version).hexdigest()[:16]
    return cache_dir / f"holidays-{fingerprint}.json"


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # not made yet, or torn: rebuilt
    return data if isinstance(data, dict) and all(isinstance(v, dict) for v in data.values()) else {}


def _save(path: Path, data: dict[str, Any]) -> None:
    """Written whole; a read-only data folder only costs speed, never an error."""
    try:
        write_atomically(
            private_folder(path.parent) / path.name, json.dumps(data).encode("utf-8"), private=True
        )
    except OSError:
        return

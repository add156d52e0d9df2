"""The data that ships inside the package: the routing table, the cue book, the examples.

Building the cue book's dispatch table and the built-in model takes a few hundred
milliseconds; both are cached as JSON in the store's data folder (keyed by a hash of the
data and the version, so an upgrade or an edit rebuilds them), which keeps a one-message
`aftersales route` well under a second.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tomllib
from collections.abc import Callable, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from aftersales import __version__
from aftersales.adapters.files.atomic import private_folder, write_atomically
from aftersales.domain.routes import Route, RouteSpec
from aftersales.domain.routing.cues import CueBook, parse_cue_book
from aftersales.domain.routing.model import NaiveBayes, features, model_from_dict, model_to_dict, train
from aftersales.domain.routing.specs import parse_route_specs
from aftersales.domain.text import normalise

T = TypeVar("T")


def read_packaged_text(name: str) -> str:
    return (resources.files("aftersales") / "data" / name).read_text(encoding="utf-8")


def _packaged_toml(name: str) -> dict[str, Any]:
    return tomllib.loads(read_packaged_text(name))


def training_files() -> list[str]:
    """The packaged training text beside `examples.csv`, one CSV (`text,route`) per kind of
    writing: `data/training/*.csv`, as names relative to `data/`."""
    folder = resources.files("aftersales") / "data" / "training"
    if not folder.is_dir():
        return []
    return sorted(f"training/{item.name}" for item in folder.iterdir() if item.name.endswith(".csv"))


def _fingerprint(*names: str) -> str:
    digest = hashlib.sha256(__version__.encode())
    for name in names:
        digest.update(read_packaged_text(name).encode())
    return digest.hexdigest()[:16]


def _cached(
    path: Path | None, build: Callable[[], T], dump: Callable[[T], Any], load: Callable[[Any], T]
) -> T:
    """The value from ``path`` when it is there and readable; else build it and save it."""
    if path is not None and path.is_file():
        try:
            return load(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a stale or torn cache file is rebuilt below
    value = build()
    if path is not None:
        _write_quietly(path, json.dumps(dump(value)))
    return value


def _write_quietly(path: Path, text: str) -> None:
    """Write atomically; a read-only data folder only costs speed, never an error."""
    try:
        write_atomically(private_folder(path.parent) / path.name, text.encode("utf-8"), private=True)
    except OSError:
        return


@cache
def builtin_cue_book(cache_dir: Path | None = None) -> CueBook:
    data = _packaged_toml("cues.toml")
    path = cache_dir / f"cue-index-{_fingerprint('cues.toml')}.json" if cache_dir else None
    dispatch = _cached(
        path,
        lambda: parse_cue_book(data).dispatch,
        lambda table: {
            key: [[src, dict(groups)] for src, groups in entries] for key, entries in table.items()
        },
        lambda raw: {key: tuple((src, groups) for src, groups in entries) for key, entries in raw.items()},
    )
    return parse_cue_book(data, dispatch)


@cache
def builtin_route_specs() -> dict[Route, RouteSpec]:
    return parse_route_specs(_packaged_toml("routes.toml"), source="routes.toml")


def builtin_examples(names: Sequence[str] | None = None) -> list[tuple[str, Route]]:
    """The router's own training examples, written by the project and shipped in the package:
    `examples.csv` and every `training/*.csv` (or only the files ``names``, relative to `data/`)."""
    examples: list[tuple[str, Route]] = []
    for name in names if names is not None else ["examples.csv", *training_files()]:
        reader = csv.DictReader(io.StringIO(read_packaged_text(name)))
        for line, row in enumerate(reader, start=2):
            try:
                examples.append((row["text"], Route(row["route"])))
            except (KeyError, ValueError):
                raise ValueError(
                    f"data/{name}, line {line}: expected text,route with a known route"
                ) from None
    return examples


@cache
def builtin_model(cache_dir: Path | None = None) -> NaiveBayes:
    sources = ("examples.csv", *training_files(), "cues.toml")
    fingerprint = _fingerprint(*sources)
    path = cache_dir / f"model-{fingerprint}.json" if cache_dir else None
    return _cached(path, lambda: _trained_model(fingerprint), model_to_dict, model_from_dict)


@cache
def _trained_model(fingerprint: str) -> NaiveBayes:
    """The built-in model, trained once per process whatever the data folder (training on
    the shipped examples takes most of a second; a server or test run with several data
    folders trains it once). ``fingerprint`` keys the memo to the files it was built from."""
    repair = builtin_cue_book().repair
    return train((features(normalise(text, repair)), route) for text, route in builtin_examples())

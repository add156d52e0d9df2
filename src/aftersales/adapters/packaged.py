"""The data that ships inside the package: the routing table and the cue book."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

from aftersales.domain.routes import Route, RouteSpec
from aftersales.domain.routing.cues import CueBook, parse_cue_book
from aftersales.domain.routing.specs import parse_route_specs


def read_packaged_text(name: str) -> str:
    return (resources.files("aftersales") / "data" / name).read_text(encoding="utf-8")


def _packaged_toml(name: str) -> dict[str, Any]:
    return tomllib.loads(read_packaged_text(name))


@cache
def builtin_cue_book() -> CueBook:
    return parse_cue_book(_packaged_toml("cues.toml"))


@cache
def builtin_route_specs() -> dict[Route, RouteSpec]:
    return parse_route_specs(_packaged_toml("routes.toml"), source="routes.toml")

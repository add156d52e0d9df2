"""Explicit wording beats learned words: the table in routing/explicit_cues.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from aftersales.domain.routes import Route
from aftersales.services.routing import RoutingKit, route_text

CASES = tomllib.loads((Path(__file__).parent / "routing" / "explicit_cues.toml").read_text())["case"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_explicit_wording_decides_the_route(case: dict[str, Any], kit: RoutingKit) -> None:
    routing, _ = route_text(kit, case["text"])

    assert routing.route is Route(case["route"]), routing.decided_by

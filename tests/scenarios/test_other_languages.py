"""French, German and Spanish messages route by their plain words and are always doubted:
the table in routing/other_languages.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from aftersales.domain.routes import Route
from aftersales.services.routing import RoutingKit, route_text

CASES = tomllib.loads((Path(__file__).parent / "routing" / "other_languages.toml").read_text())["case"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["text"][:40])
def test_a_plain_message_in_another_language_routes_and_is_doubted(
    case: dict[str, Any], kit: RoutingKit
) -> None:
    routing, _ = route_text(kit, case["text"])

    assert (routing.route, routing.language) == (Route(case["route"]), case["language"]), routing.decided_by
    assert routing.unsure, "a person checks the route of a message the cue book knows only in part"
    assert any("covers only in part" in doubt for doubt in routing.doubts)

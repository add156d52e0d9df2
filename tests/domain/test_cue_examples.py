"""Every built-in cue carries a message it exists for: the example matches its cue, and a
decisive cue's example routes to its route."""

from __future__ import annotations

import re

import pytest

from aftersales.adapters.files.packaged import builtin_cue_book
from aftersales.domain.routing.cues import Cue, check_cue, example_matches, top_level_branches
from aftersales.domain.routing.router import HOLD_SCORE, choose, score_routes
from aftersales.domain.text import normalise

BOOK = builtin_cue_book()


def _id(cue: Cue) -> str:
    return f"{cue.route}:{cue.example[:40]}"


def test_every_cue_has_an_example() -> None:
    assert [cue.pattern for cue in BOOK.cues if not cue.example] == []


@pytest.mark.parametrize("cue", BOOK.cues, ids=_id)
def test_the_example_matches_its_cue(cue: Cue) -> None:
    assert check_cue(cue, BOOK.macros, BOOK.repair) == ""


@pytest.mark.parametrize("cue", [c for c in BOOK.cues if c.weight >= HOLD_SCORE], ids=_id)
def test_a_decisive_cues_example_routes_to_its_route(cue: Cue) -> None:
    scores, trace = score_routes(normalise(cue.example, BOOK.repair), BOOK, ())

    assert choose(scores, trace).route is cue.route


@pytest.mark.parametrize(
    ("example", "matches"),
    [("the parcel has not arrived", True), ("thanks, all good", False)],
)
def test_an_example_is_read_as_the_router_reads_it(example: str, matches: bool) -> None:
    pattern = re.compile(r"\bparcel has not arrived\b")
    assert example_matches(example, pattern, BOOK.repair) is matches


@pytest.mark.parametrize(
    ("pattern", "branches"),
    [
        ("a|b", ["a", "b"]),
        ("(?:a|b)c|d", ["(?:a|b)c", "d"]),
        (r"\|x|y", [r"\|x", "y"]),
        ("[|]a|b", ["[|]a", "b"]),
        ("[]|]a|b", ["[]|]a", "b"]),
        ("(?<!a|b)c", ["(?<!a|b)c"]),
    ],
)
def test_a_pattern_splits_into_its_top_level_alternatives(pattern: str, branches: list[str]) -> None:
    assert top_level_branches(pattern) == branches

"""The policy file's ``[cues.<route>]`` tables: a store's own routing cues, read and checked.

A store adds words the built-in cue book (``data/cues.toml``) does not know, such as its own
product names, with the same three parts as a built-in cue: a pattern, a weight and an
example message the cue exists for. Each is checked like every other key (the pattern
compiles, the weight is in range, the example matches) and merged over the built-in book
when the routing kit is built (``wiring.build_routing_kit``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from aftersales.adapters.files.packaged import builtin_cue_book
from aftersales.adapters.policy import rules
from aftersales.domain.routes import Route
from aftersales.domain.routing.cues import MAX_WEIGHT, MIN_WEIGHT, Cue, check_cue

if TYPE_CHECKING:
    from aftersales.adapters.policy.file import _Checker

_Table = Mapping[str, object]
_ROUTES = tuple(route.value for route in Route)
CUE_TABLE_KEYS = ("patterns",)
CUE_KEYS = ("pattern", "weight", "example")
_CONTENTS = "pattern, weight and example"


def as_weight(value: object) -> float | None:
    number = rules.as_number(value)
    return number if number is not None and MIN_WEIGHT <= number <= MAX_WEIGHT and number != 0 else None


WEIGHT = rules.Rule(
    f"a number from {MIN_WEIGHT:g} to {MAX_WEIGHT:g}, not 0 (3 or more holds the route on its own, "
    "2 is strong, 1 supports, below 0 vetoes)",
    as_weight,
    1.0,
)


def store_cues(check: _Checker, root: _Table) -> tuple[Cue, ...]:
    """The optional ``[cues.<route>]`` tables, each with ``patterns = [{pattern, weight, example}]``."""
    table = check.table(root, "", "cues", "one [cues.<route>] table per route", required=False)
    if table is None:
        return ()
    cues: list[Cue] = []
    for route, body in table.items():
        path = f"cues.{route}"
        if route not in _ROUTES:
            check.report(path, rules.unknown(route, _ROUTES, "route"))
            continue
        if not isinstance(body, dict):
            check.wrong(path, f"a table [{path}] with patterns = [{{{_CONTENTS}}}, ...]", body)
            continue
        check.unknown_keys(body, path, CUE_TABLE_KEYS)
        for item_path, item in check.tables(body, path, "patterns", _CONTENTS) or []:
            cue = _cue(check, Route(route), item_path, item)
            if cue is not None:
                cues.append(cue)
    return tuple(cues)


def _cue(check: _Checker, route: Route, path: str, item: _Table) -> Cue | None:
    check.unknown_keys(item, path, CUE_KEYS)
    mark = check.mark()
    pattern = check.required(item, path, "pattern", rules.TEXT)
    weight = check.required(item, path, "weight", WEIGHT)
    example = check.required(item, path, "example", rules.TEXT)
    if not check.clean_since(mark):
        return None
    cue = Cue(route, pattern, weight, example)
    book = builtin_cue_book()  # its macros ({order}, {refund}...) and spelling repair
    problem = check_cue(cue, book.macros, book.repair)
    if problem:
        key = "example" if problem.startswith("the example") else "pattern"
        check.report(f"{path}.{key}", problem)
        return None
    return cue

"""What a regular expression's matches can start with: the router's dispatch keys.

The router tries, at each word, only the cues whose matches can start with that word's
first two characters. Working those out needs the pattern's structure, which the
standard library's own regex parser gives (``re._parser``, private: on a Python without
it every cue is simply tried everywhere, which is slower but gives the same answer).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from typing import Any

try:
    _PARSER: Any = importlib.import_module("re._parser")
except ImportError:  # pragma: no cover - every CPython from 3.11 has it
    _PARSER = None

# Beyond this many distinct leading strings a cue is keyed on its first character only.
_MAX_STRINGS = 400


class PatternError(ValueError):
    """The pattern is not a valid regular expression."""


def leading_strings(pattern: str, length: int = 2) -> frozenset[str] | None:
    """Every string of up to ``length`` characters a match can start with.

    A string shorter than ``length`` means a match can end after it. None: unknown (the
    cue must be tried at every word). Raises PatternError on a bad pattern.
    """
    if _PARSER is None:
        return None
    try:
        tree = _PARSER.parse(pattern)
    except re.error as error:
        raise PatternError(str(error)) from None
    found = _sequence(list(tree), length)
    if found is None or "" in found:
        return None
    return frozenset(found)


def _sequence(items: Sequence[tuple[Any, Any]], length: int) -> set[str] | None:
    current = {""}
    for op, value in items:
        if all(len(s) >= length for s in current):
            break
        name = str(op)
        if name in ("AT", "ASSERT", "ASSERT_NOT"):
            continue  # zero-width: look past it
        step = _item(name, value, length)
        if step is None:
            return None
        current = {s if len(s) >= length else (s + t)[:length] for s in current for t in step}
        if len(current) > _MAX_STRINGS:
            return None
    return current


def _item(name: str, value: Any, length: int) -> set[str] | None:
    if name == "LITERAL":
        return {chr(value)}
    if name == "IN":
        return _class(value)
    if name == "SUBPATTERN":
        return _sequence(list(value[-1]), length)
    if name == "BRANCH":
        return _branch(value[1], length)
    if name in ("MAX_REPEAT", "MIN_REPEAT"):
        return _repeat(value, length)
    return None


def _branch(branches: Sequence[Any], length: int) -> set[str] | None:
    found: set[str] = set()
    for branch in branches:
        step = _sequence(list(branch), length)
        if step is None:
            return None
        found |= step
    return found


def _repeat(value: Any, length: int) -> set[str] | None:
    low, high, inner = value
    once = _sequence(list(inner), length)
    if once is None:
        return None
    found: set[str] = {""} if low == 0 else set()
    current = {""}
    for count in range(1, min(high, length) + 1):
        current = {(s + t)[:length] for s in current for t in once}
        if count >= low:
            found |= current
    if low > length:
        found = current
    return found


def _class(items: Sequence[tuple[Any, Any]]) -> set[str] | None:
    chars: set[str] = set()
    for op, value in items:
        if str(op) == "LITERAL":
            chars.add(chr(value))
        elif str(op) == "RANGE" and value[1] - value[0] < 64:
            chars |= {chr(code) for code in range(value[0], value[1] + 1)}
        else:
            return None  # \w, negated or wide classes: anything
    return chars

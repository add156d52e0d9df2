"""The cue book: weighted patterns that point a message at a route.

The patterns are data (``data/cues.toml``); this module compiles them once and scores a
normalised message against them, keeping every match for the trace.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aftersales.domain.routes import Route
from aftersales.domain.signals import FLAG_NAMES, FlagPatterns
from aftersales.domain.text import NormalisedText, SpellingRepair

_MACRO = re.compile(r"\{(\w+)\}")
try:
    _REGEX_PARSER: Any = importlib.import_module("re._parser")
except ImportError:  # pragma: no cover - every CPython from 3.11 has it
    _REGEX_PARSER = None


class CueError(ValueError):
    """The cue data is malformed; the message names the route and the pattern."""


@dataclass(frozen=True, slots=True)
class Cue:
    route: Route
    pattern: str  # as written in the data, before macro expansion
    weight: float


@dataclass(frozen=True, slots=True)
class CueMatch:
    cue: Cue
    start: int  # span in the original text
    end: int


@dataclass(frozen=True, slots=True)
class CueBook:
    cues: tuple[Cue, ...]
    # first character of a word -> the pattern sources to try there, each with its map from
    # group name to the index of the cue in ``cues`` (see _dispatch)
    _dispatch: Mapping[str, tuple[tuple[str, Mapping[str, int]], ...]]
    flag_patterns: FlagPatterns
    repair: SpellingRepair
    # compiled on first use: a one-message CLI run compiles only the letters it meets
    _compiled: dict[str, tuple[tuple[re.Pattern[str], Mapping[str, int]], ...]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def _patterns(self, char: str) -> tuple[tuple[re.Pattern[str], Mapping[str, int]], ...]:
        patterns = self._compiled.get(char)
        if patterns is None:
            patterns = tuple((re.compile(src), groups) for src, groups in self._dispatch.get(char, ()))
            self._compiled[char] = patterns
        return patterns

    def matches(self, normalised: NormalisedText) -> list[CueMatch]:
        found: list[CueMatch] = []
        seen: set[int] = set()
        text = normalised.text
        for position in normalised.word_starts:
            for pattern, groups in self._patterns(text[position]):
                match = pattern.match(text, position)
                if match is None:
                    continue
                index = groups[match.lastgroup or ""]
                if index not in seen:
                    seen.add(index)
                    start, end = normalised.original_span(*match.span())
                    found.append(CueMatch(self.cues[index], start, end))
        return found


def parse_cue_book(data: Mapping[str, Any]) -> CueBook:
    """Build a cue book from decoded TOML; raises CueError naming what is wrong."""
    macros = {str(k): str(v) for k, v in data.get("macros", {}).items()}
    cues: list[Cue] = []
    for route_name, spec in data.get("routes", {}).items():
        route = _route(route_name)
        for entry in spec.get("cues", []):
            cues.append(_cue(route, entry))
    dispatch = _dispatch(cues, macros)
    keywords = data.get("keywords", {})
    repair = SpellingRepair(keywords.get("words", []), keywords.get("known", []))
    flag_data = data.get("flags", {})
    unknown = set(flag_data) - set(FLAG_NAMES)
    if unknown:
        raise CueError(f"flags: unknown flag {sorted(unknown)}; allowed: {', '.join(FLAG_NAMES)}")
    flag_patterns = FlagPatterns(
        {
            name: tuple(_compile(p, macros, f"flags.{name}") for p in flag_data.get(name, []))
            for name in FLAG_NAMES
        }
    )
    return CueBook(tuple(cues), dispatch, flag_patterns, repair)


def _route(name: str) -> Route:
    try:
        return Route(name)
    except ValueError:
        allowed = ", ".join(r.value for r in Route)
        raise CueError(f"routes.{name}: unknown route; allowed: {allowed}") from None


def _cue(route: Route, entry: Sequence[Any]) -> Cue:
    if len(entry) != 2 or not isinstance(entry[0], str) or not isinstance(entry[1], int | float):
        raise CueError(f"routes.{route}.cues: each cue is [pattern, weight], got {entry!r}")
    return Cue(route, entry[0], float(entry[1]))


def _expand(pattern: str, macros: Mapping[str, str], where: str) -> str:
    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in macros:
            raise CueError(f"{where}: unknown macro {{{name}}} in {pattern!r}")
        return macros[name]

    return _MACRO.sub(substitute, pattern)


def _compile(pattern: str, macros: Mapping[str, str], where: str) -> re.Pattern[str]:
    try:
        return re.compile(_expand(pattern, macros, where))
    except re.error as error:
        raise CueError(f"{where}: bad pattern {pattern!r}: {error}") from None


def _dispatch(
    cues: Sequence[Cue], macros: Mapping[str, str]
) -> dict[str, tuple[tuple[str, Mapping[str, int]], ...]]:
    """Per first character, the patterns to try at a word starting with it.

    Trying only the cues that can start with a word's first letter, instead of every cue
    at every word, is what keeps routing at thousands of messages a second. Each route
    (and, apart, each route's vetoes) gets its own pattern, so matches for different
    routes at the same word never hide each other; within one, the strongest cue wins.
    """
    table: dict[tuple[str, Route, bool], list[tuple[int, str]]] = {}
    for index, cue in sorted(enumerate(cues), key=lambda ic: -abs(ic[1].weight)):
        where = f"routes.{cue.route}.cues[{cue.pattern!r}]"
        body = _expand(cue.pattern, macros, where)
        try:
            firsts = first_characters(body)  # also checks the pattern's syntax
        except CueError as error:
            raise CueError(f"{where}: {error}") from None
        for char in firsts or _ANY_FIRST:
            table.setdefault((char, cue.route, cue.weight < 0), []).append((index, body))
    dispatch: dict[str, list[tuple[str, Mapping[str, int]]]] = {}
    for (char, _route, _negative), entries in table.items():
        groups = {f"g{n}": index for n, (index, _body) in enumerate(entries)}
        alternatives = "|".join(f"(?P<g{n}>{body})" for n, (_index, body) in enumerate(entries))
        dispatch.setdefault(char, []).append((f"(?:{alternatives})", groups))
    return {char: tuple(patterns) for char, patterns in dispatch.items()}


# Normalised text starts words with these; a cue whose first character cannot be worked
# out is tried after every one of them.
_ANY_FIRST = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def first_characters(body: str) -> frozenset[str] | None:
    """The characters a match of ``body`` can start with, or None when any (or unknown).

    Reads the pattern with the standard library's own regex parser (a private module: on a
    Python without it, every cue is simply tried at every word start).
    """
    if _REGEX_PARSER is None:
        return None
    try:
        tree = _REGEX_PARSER.parse(body)
    except re.error as error:
        raise CueError(f"bad pattern {body!r}: {error}") from None
    chars, nullable = _firsts(list(tree))
    return None if chars is None or nullable else frozenset(chars)


def _firsts(items: Sequence[tuple[Any, Any]]) -> tuple[set[str] | None, bool]:
    """(first characters, can match empty) of a parsed sequence."""
    found: set[str] = set()
    for op, value in items:
        name = str(op)
        if name in ("AT", "ASSERT", "ASSERT_NOT"):
            continue  # zero-width: look past it
        step = _first_of(name, value)
        if step is None:
            return None, False
        chars, nullable = step
        found |= chars
        if not nullable:
            return found, False
    return found, True


def _first_of(name: str, value: Any) -> tuple[set[str], bool] | None:
    if name == "LITERAL":
        return {chr(value)}, False
    if name == "IN":
        return _class_chars(value)
    if name == "SUBPATTERN":
        return _known(_firsts(list(value[-1])))
    if name == "BRANCH":
        return _branch(value[1])
    if name in ("MAX_REPEAT", "MIN_REPEAT"):
        low, _high, inner = value
        step = _known(_firsts(list(inner)))
        return None if step is None else (step[0], step[1] or low == 0)
    return None


def _known(step: tuple[set[str] | None, bool]) -> tuple[set[str], bool] | None:
    return None if step[0] is None else (step[0], step[1])


def _branch(branches: Sequence[Any]) -> tuple[set[str], bool] | None:
    chars: set[str] = set()
    nullable = False
    for branch in branches:
        step = _known(_firsts(list(branch)))
        if step is None:
            return None
        chars |= step[0]
        nullable = nullable or step[1]
    return chars, nullable


def _class_chars(items: Sequence[tuple[Any, Any]]) -> tuple[set[str], bool] | None:
    chars: set[str] = set()
    for op, value in items:
        if str(op) == "LITERAL":
            chars.add(chr(value))
        elif str(op) == "RANGE":
            chars |= {chr(code) for code in range(value[0], value[1] + 1)}
        else:
            return None  # \w, negated classes: anything
    return chars, False

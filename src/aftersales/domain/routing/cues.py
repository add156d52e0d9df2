"""The cue book: weighted patterns that point a message at a route.

The patterns are data (``data/cues.toml``, plus a store's own ``[cues.<route>]`` merged in by
``with_cues``), each with an example message it exists for (``check_cue`` holds it to that);
this module compiles them once and scores a normalised message against them, keeping every
match for the trace.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aftersales.domain.errors import ConfigError
from aftersales.domain.routes import Route
from aftersales.domain.routing.prefixes import PatternError, leading_strings
from aftersales.domain.signals import FLAG_NAMES, FlagPatterns
from aftersales.domain.text import NormalisedText, SpellingRepair, normalise

Dispatch = Mapping[str, tuple[tuple[str, Mapping[str, int]], ...]]
_MACRO = re.compile(r"\{(\w+)\}")
# Normalised text starts words with these; a cue whose leading strings cannot be worked
# out is tried after every one of them.
_ANY_FIRST = frozenset("abcdefghijklmnopqrstuvwxyz0123456789'")
# A cue weighs between these (never 0): 3 or more holds a route on its own (the router's
# HOLD_SCORE), 2 is strong, 1 supports, and a negative weight vetoes (takes score away): down
# to -12, since a dispute ruled out in so many words ("I'm not going to raise a PayPal claim")
# still matches two or three of the route's decisive cues.
MIN_WEIGHT = -12.0
MAX_WEIGHT = 4.0


class CueError(ConfigError):
    """The cue data is malformed; the message names the route and the pattern."""


@dataclass(frozen=True, slots=True)
class Cue:
    route: Route
    pattern: str  # as written in the data, before macro expansion
    weight: float
    example: str = ""  # a message the cue exists for; it must match


@dataclass(frozen=True, slots=True)
class CueMatch:
    cue: Cue
    start: int  # span in the original text
    end: int


@dataclass(frozen=True, slots=True)
class CueBook:
    cues: tuple[Cue, ...]
    # a word's first one or two characters -> the pattern sources to try there, each with
    # its map from group name to the index of the cue in ``cues`` (see _dispatch)
    dispatch: Dispatch
    flag_patterns: FlagPatterns
    repair: SpellingRepair
    macros: Mapping[str, str] = field(default_factory=dict)  # {name} -> its pattern text
    # compiled on first use: a one-message CLI run compiles only the letters it meets
    _compiled: dict[str, tuple[tuple[re.Pattern[str], Mapping[str, int]], ...]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def _patterns_at(self, key: str) -> tuple[tuple[re.Pattern[str], Mapping[str, int]], ...]:
        """The compiled patterns for a word starting with ``key`` (its first two characters)."""
        sources = self.dispatch.get(key, ()) + (self.dispatch.get(key[:1], ()) if len(key) > 1 else ())
        patterns = tuple((re.compile(src), groups) for src, groups in sources)
        self._compiled[key] = patterns
        return patterns

    def matches(self, normalised: NormalisedText) -> list[CueMatch]:
        found: list[CueMatch] = []
        seen: set[int] = set()
        text = normalised.text
        compiled = self._compiled
        for position in normalised.word_starts:
            key = text[position : position + 2]
            patterns = compiled.get(key)
            if patterns is None:
                patterns = self._patterns_at(key)
            for pattern, groups in patterns:
                match = pattern.match(text, position)
                if match is None:
                    continue
                index = groups[match.lastgroup or ""]
                if index not in seen:
                    seen.add(index)
                    start, end = normalised.original_span(*match.span())
                    found.append(CueMatch(self.cues[index], start, end))
        return found


def parse_cue_book(data: Mapping[str, Any], dispatch: Dispatch | None = None) -> CueBook:
    """Build a cue book from decoded TOML; raises CueError naming what is wrong.

    ``dispatch`` is a table an earlier run built from the same data (see ``_dispatch``):
    passing it skips the analysis of every pattern, most of a cold start.
    """
    macros = {str(k): str(v) for k, v in data.get("macros", {}).items()}
    cues: list[Cue] = []
    for route_name, spec in data.get("routes", {}).items():
        route = _route(route_name)
        for entry in spec.get("cues", []):
            cues.append(_cue(route, entry))
    if dispatch is None:
        dispatch = _dispatch(cues, macros)
    keywords = data.get("keywords", {})
    repair = SpellingRepair(keywords.get("words", []), keywords.get("known", []))
    flag_data = data.get("flags", {})
    unknown = set(flag_data) - set(FLAG_NAMES)
    if unknown:
        raise CueError(f"flags: unknown flag {sorted(unknown)}; allowed: {', '.join(FLAG_NAMES)}")
    veto_data = data.get("flag_vetoes", {})
    unknown = set(veto_data) - set(FLAG_NAMES)
    if unknown:
        raise CueError(f"flag_vetoes: unknown flag {sorted(unknown)}; allowed: {', '.join(FLAG_NAMES)}")
    flag_patterns = FlagPatterns(
        {
            name: tuple(_compile(p, macros, f"flags.{name}") for p in flag_data.get(name, []))
            for name in FLAG_NAMES
        },
        {
            name: tuple(_compile(p, macros, f"flag_vetoes.{name}") for p in veto_data.get(name, []))
            for name in FLAG_NAMES
        },
    )
    return CueBook(tuple(cues), dispatch, flag_patterns, repair, macros)


def with_cues(book: CueBook, extra: Sequence[Cue]) -> CueBook:
    """The book with a store's own cues added: their patterns are tried alongside the
    built-in ones at the same leading strings (the built-in dispatch is kept as it is)."""
    if not extra:
        return book
    offset = len(book.cues)
    added = _dispatch(extra, book.macros)
    dispatch = {key: tuple(patterns) for key, patterns in book.dispatch.items()}
    for key, patterns in added.items():
        shifted = tuple((src, {g: i + offset for g, i in groups.items()}) for src, groups in patterns)
        dispatch[key] = dispatch.get(key, ()) + shifted
    return CueBook(book.cues + tuple(extra), dispatch, book.flag_patterns, book.repair, book.macros)


def check_cue(cue: Cue, macros: Mapping[str, str], repair: SpellingRepair | None) -> str:
    """What is wrong with one cue ("" when nothing): its pattern, its weight, its example."""
    unknown = sorted(set(_MACRO.findall(cue.pattern)) - set(macros))
    if unknown:
        return f"unknown macro {{{unknown[0]}}}; allowed: {', '.join(f'{{{m}}}' for m in macros)}"
    body = _expand(cue.pattern, macros, "")
    try:
        compiled = re.compile(body)
        leading_strings(body)
    except (re.error, PatternError) as error:
        return f"bad pattern {cue.pattern!r}: {error}; write a Python regular expression"
    if not MIN_WEIGHT <= cue.weight <= MAX_WEIGHT or cue.weight == 0:
        return f"weight must be a number from {MIN_WEIGHT:g} to {MAX_WEIGHT:g}, not 0, got {cue.weight:g}"
    if cue.example and not example_matches(cue.example, compiled, repair):
        return f"the example {cue.example!r} does not match the pattern {cue.pattern!r}"
    return ""


def example_matches(example: str, compiled: re.Pattern[str], repair: SpellingRepair | None) -> bool:
    """Whether a cue's example, normalised as the router reads it, matches at a word start."""
    normalised = normalise(example, repair)
    return any(compiled.match(normalised.text, start) for start in normalised.word_starts)


def _route(name: str) -> Route:
    try:
        return Route(name)
    except ValueError:
        allowed = ", ".join(r.value for r in Route)
        raise CueError(f"routes.{name}: unknown route; allowed: {allowed}") from None


def _cue(route: Route, entry: Any) -> Cue:
    if isinstance(entry, list) and 2 <= len(entry) <= 3:
        pattern, weight, example = [*entry, ""][:3]
        if isinstance(pattern, str) and _is_number(weight) and isinstance(example, str):
            return Cue(route, pattern, float(weight), example)
    raise CueError(f"routes.{route}.cues: each cue is [pattern, weight, example], got {entry!r}")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


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


def top_level_branches(pattern: str) -> list[str]:
    """The pattern's alternatives at its top level ("a|(?:b|c)" -> ["a", "(?:b|c)"]): a match of
    the pattern is a match of one of them at the same place."""
    branches: list[str] = []
    depth, start, position, in_class = 0, 0, 0, False
    while position < len(pattern):
        char = pattern[position]
        if char == "\\":
            position += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if pattern[position + 1 : position + 2] == "^":
                position += 1
            if pattern[position + 1 : position + 2] == "]":  # a leading "]" is a literal
                position += 1
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            branches.append(pattern[start:position])
            start = position + 1
        position += 1
    branches.append(pattern[start:])
    return branches


def _dispatch(cues: Sequence[Cue], macros: Mapping[str, str]) -> Dispatch:
    """Per leading string of a word, the patterns to try there.

    Trying only the cues that can start with a word's first two characters, instead of
    every cue at every word, is what keeps routing at thousands of messages a second and
    lets a one-message run compile only the few patterns it needs. Each route (and, apart,
    each route's vetoes) gets its own pattern, so matches for different routes at the same
    word never hide each other; within one, the strongest cue wins.
    """
    table: dict[tuple[str, Route, bool], list[tuple[int, str]]] = {}
    for index, cue in sorted(enumerate(cues), key=lambda ic: -abs(ic[1].weight)):
        where = f"routes.{cue.route}.cues[{cue.pattern!r}]"
        body = _expand(cue.pattern, macros, where)
        try:
            leading_strings(body)  # checks the pattern's syntax
        except PatternError as error:
            raise CueError(f"{where}: bad pattern: {error}") from None
        # Each top-level alternative is keyed on its own leading strings: a cue written as
        # many alternatives (a macro of twenty phrasings) is then tried, at a word, only in
        # the phrasings that can start there.
        for branch in top_level_branches(body):
            for key in leading_strings(branch) or _ANY_FIRST:
                table.setdefault((key, cue.route, cue.weight < 0), []).append((index, branch))
    dispatch: dict[str, list[tuple[str, dict[str, int]]]] = {}
    for (key, _route, _negative), entries in table.items():
        groups = {f"g{n}": index for n, (index, _body) in enumerate(entries)}
        alternatives = "|".join(f"(?P<g{n}>{body})" for n, (_index, body) in enumerate(entries))
        dispatch.setdefault(key, []).append((f"(?:{alternatives})", groups))
    return {key: tuple(patterns) for key, patterns in dispatch.items()}

"""Where a key is written in TOML text: the line a policy problem points at.

tomllib returns plain dicts and keeps no positions, and the standard library has no
round-trip TOML parser; see ``Locator`` for how a line scanner finds them instead.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass

#
# tomllib returns plain dicts and keeps no positions, and the stdlib has no round-trip TOML
# parser. A full second parser would be overkill: the text has already parsed, so it is
# valid TOML, and a line scanner that knows headers, key/value lines, strings and open
# brackets finds where each key is written. Keys inside inline tables and arrays are not
# indexed; lookups fall back to the key holding them, which is on the same line or near it.

_BARE_KEY = r"[A-Za-z0-9_-]+"
_KEY_PART = rf"(?:{_BARE_KEY}|\"(?:[^\"\\]|\\.)*\"|'[^']*')"
_DOTTED_KEY = rf"{_KEY_PART}(?:[ \t]*\.[ \t]*{_KEY_PART})*"
_ARRAY_HEADER = re.compile(rf"[ \t]*\[\[[ \t]*({_DOTTED_KEY})[ \t]*\]\]")
_TABLE_HEADER = re.compile(rf"[ \t]*\[[ \t]*({_DOTTED_KEY})[ \t]*\]")
_KEY_VALUE = re.compile(rf"[ \t]*({_DOTTED_KEY})[ \t]*=")


class Locator:
    """Maps canonical key paths ("a.b", "a.list[2].c") to the line each is written on."""

    def __init__(self, text: str) -> None:
        self._lines: dict[str, int] = {}
        self._arrays: dict[str, int] = {}  # array-of-tables path -> tables seen so far
        self._table = ""  # canonical path of the table the scan is in
        self._scan(text)

    def line_of(self, key: str) -> int | None:
        return self._lines.get(key)

    def nearest(self, key: str) -> int | None:
        """The line of the key, else of the closest enclosing key or table that is written."""
        while key:
            if key in self._lines:
                return self._lines[key]
            key = _parent(key)
        return None

    def _scan(self, text: str) -> None:
        state = _ValueState()
        for number, line in enumerate(text.split("\n"), start=1):
            if state.is_open():
                state = state.feed(line)  # still inside a multi-line array or string
                continue
            if found := _ARRAY_HEADER.match(line):
                self._array_header(_key_parts(found.group(1)), number)
            elif found := _TABLE_HEADER.match(line):
                self._table_header(_key_parts(found.group(1)), number)
            elif found := _KEY_VALUE.match(line):
                self._key_value(_key_parts(found.group(1)), number)
                state = state.feed(line[found.end() :])

    def _canonical(self, parts: Sequence[str], number: int) -> str:
        # A name that is an array of tables means its latest table, as TOML itself reads it.
        path = ""
        for part in parts:
            path = join_key(path, part)
            if path in self._arrays:
                path = f"{path}[{self._arrays[path] - 1}]"
            self._lines.setdefault(path, number)
        return path

    def _table_header(self, parts: Sequence[str], number: int) -> None:
        path = self._canonical(parts, number)
        self._lines[path] = number  # an explicit header beats an earlier implicit mention
        self._table = path

    def _array_header(self, parts: Sequence[str], number: int) -> None:
        path = join_key(self._canonical(parts[:-1], number), parts[-1])
        index = self._arrays.get(path, 0)
        self._arrays[path] = index + 1
        self._lines.setdefault(path, number)
        self._table = f"{path}[{index}]"
        self._lines[self._table] = number

    def _key_value(self, parts: Sequence[str], number: int) -> None:
        path = self._table
        for part in parts:  # a dotted key also writes each table it passes through
            path = join_key(path, part)
            self._lines.setdefault(path, number)


@dataclass(frozen=True, slots=True)
class _ValueState:
    """Where a value scan stands at a line end: bracket depth and any open multi-line string."""

    depth: int = 0
    quote: str | None = None  # the opening triple quote while inside a multi-line string

    def is_open(self) -> bool:
        return self.depth > 0 or self.quote is not None

    def feed(self, fragment: str) -> _ValueState:
        depth, quote, index = self.depth, self.quote, 0
        while index < len(fragment):
            if quote is not None:
                index, quote = _close_multiline(fragment, index, quote)
            elif fragment[index] == "#":
                break  # the rest of the line is a comment
            else:
                index, depth, quote = _step(fragment, index, depth)
        return _ValueState(depth, quote)


def _step(fragment: str, index: int, depth: int) -> tuple[int, int, str | None]:
    """Consume one token outside strings: a string, a bracket, or any other character."""
    for quote in ('"""', "'''"):
        if fragment.startswith(quote, index):
            return index + 3, depth, quote
    char = fragment[index]
    if char == '"':
        return _end_of_basic(fragment, index + 1), depth, None
    if char == "'":
        end = fragment.find("'", index + 1)
        return (len(fragment) if end < 0 else end + 1), depth, None
    if char in "[{":
        return index + 1, depth + 1, None
    if char in "]}":
        return index + 1, depth - 1, None
    return index + 1, depth, None


def _end_of_basic(fragment: str, index: int) -> int:
    while index < len(fragment):
        if fragment[index] == "\\":
            index += 2
        elif fragment[index] == '"':
            return index + 1
        else:
            index += 1
    return len(fragment)


def _close_multiline(fragment: str, index: int, quote: str) -> tuple[int, str | None]:
    while index < len(fragment):
        if quote == '"""' and fragment[index] == "\\":
            index += 2
        elif fragment.startswith(quote, index):
            index += 3
            # Up to two quotes right before the closing three belong to the string.
            while index < len(fragment) and fragment[index] == quote[0]:
                index += 1
            return index, None
        else:
            index += 1
    return len(fragment), quote


def _key_parts(dotted: str) -> list[str]:
    return [_unquote(part) for part in re.findall(_KEY_PART, dotted)]


def _unquote(part: str) -> str:
    if part.startswith("'"):
        return part[1:-1]
    if part.startswith('"'):
        try:  # let tomllib decode the escapes; the text already parsed, so this does too
            return str(tomllib.loads(f"k = {part}")["k"])
        except tomllib.TOMLDecodeError:
            return part[1:-1]
    return part


def join_key(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _parent(key: str) -> str:
    cut = max(key.rfind("."), key.rfind("["))
    return key[:cut] if cut > 0 else ""

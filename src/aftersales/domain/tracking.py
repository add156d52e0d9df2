"""Find parcel tracking numbers, and the courier behind each, in customer messages.

The formats are the published carrier data of jkeen/tracking_number_data (MIT, vendored
as JSON under ``aftersales/data/tracking``): per tracking-number type a regex written for
Ruby/PCRE, the check-digit algorithm with its constants, and a few extra checks. This
module compiles those decoded objects into :class:`CourierFormat` values and scans free
text with them. It is pure: standard library only, no I/O, no clock.

Scanning is two-staged so a message costs microseconds. One cheap regex finds runs of
upper-case letters and digits, possibly spaced out the way the data's own examples are
(``0307 1790 0005 2348 3741``, or one character at a time); only spans of whole tokens
inside such a run, 8 to 40 characters long and holding a digit, are tried against the
courier regexes. A span counts when its format's check digit passes. Formats without a
check digit accept almost any long token, order and phone numbers included, so those only
count when the words just before the span talk about tracking or name the courier.
Like the data's reference implementation, letters must be upper case: ``1z...`` is not read.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MIN_LENGTH = 8
MAX_LENGTH = 40
SHORT_DIGITS = 12
CONTEXT_WINDOW = 40
GENERIC_KEYWORDS = ("track", "parcel", "package", "shipment", "carrier", "courier")

# Each multi-token span is one more regex call, and a megabyte of spaced-out digits has
# millions of them. Past this many in one call only single tokens are tried, which keeps
# the worst case linear; a real message never comes near it.
_JOINED_SPAN_BUDGET = 20_000

# Ruby and PCRE spell a named group (?<Name>...); Python wants (?P<Name>...).
_RUBY_NAMED_GROUP = re.compile(r"(?<!\\)\(\?<([A-Za-z_][A-Za-z0-9_]*)>")
_PYTHON_NAMED_GROUP = re.compile(r"\(\?P<[A-Za-z_][A-Za-z0-9_]*>")

# A token is upper-case letters and digits; a hyphen binds its neighbours into one token
# (LaserShip's "...8127-1") so that "ORD-3318810025" is not read as a bare number. Tokens
# may be spaced apart, but never across a line break or next to another letter or digit.
# The look-behind sits after the first character so the regex engine can skip ahead to
# candidate characters instead of testing the look-behind at every position.
_TOKEN_SOURCE = r"[A-Z0-9]+(?:-[A-Z0-9]+)*"
_RUN = re.compile(rf"[A-Z0-9](?<![^\W_].)[A-Z0-9]*(?:-[A-Z0-9]+)*(?:[ \t]{{1,3}}{_TOKEN_SOURCE})*(?![^\W_])")
_TOKEN = re.compile(_TOKEN_SOURCE)
_LEADING_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True, slots=True)
class ChecksumSpec:
    """A check-digit algorithm and the constants the data gives it."""

    algorithm: str
    modulo: int | None = None
    modulo1: int | None = None
    modulo2: int | None = None
    evens_multiplier: int | None = None
    odds_multiplier: int | None = None
    reverse: bool = False
    weightings: tuple[int, ...] = ()
    alphabet: str | None = None


@dataclass(frozen=True, slots=True)
class SerialPrefix:
    """``serial_number_format.prepend_if``: some serials only check with a prefix added."""

    when: re.Pattern[str]
    content: str


@dataclass(frozen=True, slots=True)
class Lookup:
    """One ``additional`` table: what the value of a named regex group stands for."""

    name: str
    group: str
    exact: Mapping[str, str] = field(compare=False)
    patterns: tuple[tuple[re.Pattern[str], str], ...] = ()

    def label_for(self, value: str) -> str | None:
        """The label of the first row that matches, or None when no row does."""
        if value in self.exact:
            return self.exact[value]
        for pattern, label in self.patterns:
            if pattern.search(value):
                return label
        return None


@dataclass(frozen=True, slots=True)
class CourierFormat:
    """One tracking-number type of one courier, compiled from the published data."""

    courier_name: str
    courier_code: str
    tracking_name: str
    regex: re.Pattern[str]  # matches the number as normalized, without whitespace
    search_source: str  # the regex with its group names dropped, for the combined prefilter
    checksum: ChecksumSpec | None = None
    serial_prefix: SerialPrefix | None = None
    required: tuple[Lookup, ...] = ()  # ``validation.additional.exists``
    courier_lookup: Lookup | None = None  # names the real carrier, e.g. S10's issuing post
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TrackingMatch:
    """A tracking number found in a text; ``text[start:end]`` is where it was written."""

    number: str  # as normalized: the written form without its whitespace
    carrier: str
    courier_code: str
    tracking_name: str
    start: int
    end: int
    verified: bool  # its check digit passed, rather than the words around it vouching


def parse_formats(raw: Sequence[Mapping[str, Any]]) -> tuple[CourierFormat, ...]:
    """Compile every tracking-number definition of the decoded courier objects, in order.

    Raises ValueError on a malformed definition or an unknown check-digit algorithm:
    skipping it quietly would stop that courier from being found at all.
    """
    return tuple(fmt for courier in raw for fmt in _parse_courier(courier))


def find_tracking_numbers(text: str, formats: Sequence[CourierFormat]) -> list[TrackingMatch]:
    """Every tracking number in ``text``, in order of position, at most one per span.

    On one span, a format whose check digit passed beats one that only has context, then
    a format whose courier the text names just before it, then the first in ``formats``.
    Where spans overlap, the longer wins, then the one with a check digit, then the
    earlier. Never raises.
    """
    if not text or not formats:
        return []
    scan = _Scan(text, tuple(formats), _prefilters(tuple(f.search_source for f in formats)))
    found: list[TrackingMatch] = []
    for run in _RUN.finditer(text):
        if run.end() - run.start() >= MIN_LENGTH:
            found.extend(scan.run(run.start(), run.end()))
    return found


# --- parsing -------------------------------------------------------------------------


def _parse_courier(courier: Mapping[str, Any]) -> list[CourierFormat]:
    try:
        name = str(courier["name"])
        code = str(courier["courier_code"])
        definitions = list(courier["tracking_numbers"])
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a courier definition: {exc}") from exc
    keywords = _keywords(name, code)
    return [_parse_definition(name, code, keywords, d) for d in definitions]


def _parse_definition(
    courier_name: str, code: str, keywords: tuple[str, ...], definition: Mapping[str, Any]
) -> CourierFormat:
    try:
        source = _without_whitespace(_to_python_regex(_joined(definition["regex"])))
        validation = definition.get("validation") or {}
        lookups = {lookup.name: lookup for lookup in map(_parse_lookup, _additional(definition))}
        return CourierFormat(
            courier_name=courier_name,
            courier_code=code,
            tracking_name=str(definition["name"]),
            regex=re.compile(source, re.ASCII),
            search_source=_PYTHON_NAMED_GROUP.sub("(?:", source),
            checksum=_parse_checksum(validation.get("checksum")),
            serial_prefix=_parse_prefix(validation.get("serial_number_format")),
            required=_required(validation.get("additional"), lookups),
            courier_lookup=lookups.get("Courier"),
            keywords=keywords,
        )
    except (KeyError, TypeError, AttributeError, re.error) as exc:
        raise ValueError(f"bad tracking definition of {courier_name}: {exc}") from exc


def _joined(regex: Any) -> str:
    # The data splits long regexes into a list of pieces to keep them readable.
    return regex if isinstance(regex, str) else "".join(str(piece) for piece in regex)


def _to_python_regex(source: str) -> str:
    return _RUBY_NAMED_GROUP.sub(r"(?P<\1>", source)


def _without_whitespace(source: str) -> str:
    """The same regex for a number already stripped of whitespace, which is what we match.

    There ``\\s*`` can only match nothing, so it goes, and unnamed groups become
    non-capturing; the engine then runs ``([0-9]\\s*){14}`` as a plain ``[0-9]{14}``,
    several times faster.
    """
    out: list[str] = []
    index, in_class = 0, False
    while index < len(source):
        char = source[index]
        step = 2 if char == "\\" else 1
        piece = source[index : index + step]
        if char == "\\" and not in_class and source[index + 1 : index + 3] == "s*":
            piece, step = "", 3
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(" and source[index + 1 : index + 2] != "?":
            piece = "(?:"
        out.append(piece)
        index += step
    return "".join(out)


def _additional(definition: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list(definition.get("additional") or [])


def _keywords(name: str, code: str) -> tuple[str, ...]:
    words = {name.lower(), code.lower().replace("_", " ")}
    first = name.split()[0].lower() if name.split() else ""
    if len(first) >= 3:  # "GOFO Express" is written "GOFO"; "DHL" stays whole
        words.add(first)
    return tuple(sorted(word for word in words if word))


def _parse_lookup(raw: Mapping[str, Any]) -> Lookup:
    exact: dict[str, str] = {}
    patterns: list[tuple[re.Pattern[str], str]] = []
    for row in raw.get("lookup") or []:
        label = str(row.get("courier") or row.get("name") or "")
        if "matches" in row:
            exact.setdefault(str(row["matches"]), label)
        elif "matches_regex" in row:
            patterns.append((re.compile(_to_python_regex(str(row["matches_regex"]))), label))
    return Lookup(str(raw["name"]), str(raw["regex_group_name"]), exact, tuple(patterns))


def _required(raw: Any, lookups: Mapping[str, Lookup]) -> tuple[Lookup, ...]:
    names = [str(name) for name in (raw or {}).get("exists") or []]
    missing = [name for name in names if name not in lookups]
    if missing:
        raise KeyError(f"validation needs undefined lookups {missing}")
    return tuple(lookups[name] for name in names)


def _parse_prefix(raw: Any) -> SerialPrefix | None:
    if not raw or "prepend_if" not in raw:
        return None
    rule = raw["prepend_if"]
    return SerialPrefix(re.compile(_to_python_regex(str(rule["matches_regex"]))), str(rule["content"]))


def _parse_checksum(raw: Any) -> ChecksumSpec | None:
    if not raw:
        return None
    algorithm = str(raw["name"])
    if algorithm not in _CHECKSUMS:
        raise KeyError(f"unknown check-digit algorithm {algorithm!r}")
    return ChecksumSpec(
        algorithm=algorithm,
        modulo=_optional_int(raw.get("modulo")),
        modulo1=_optional_int(raw.get("modulo1")),
        modulo2=_optional_int(raw.get("modulo2")),
        evens_multiplier=_optional_int(raw.get("evens_multiplier")),
        odds_multiplier=_optional_int(raw.get("odds_multiplier")),
        reverse=bool(raw.get("reverse", False)),
        weightings=tuple(int(w) for w in raw.get("weightings") or ()),
        alphabet=None if raw.get("alphabet") is None else str(raw["alphabet"]),
    )


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


# --- check digits --------------------------------------------------------------------
# Each follows the reference implementation (the tracking_number gem and the data's own
# site): a character that is not a digit counts as 0, as Ruby's String#to_i reads it.


_DIGIT_VALUES = {str(digit): digit for digit in range(10)}
# UPS serials carry letters; the data's mod10 folds every other character onto 0-9 this way.
_MOD10_VALUES = {chr(code): (code - 3) % 10 for code in range(ord("A"), ord("Z") + 1)}
_MOD10_VALUES.update(_DIGIT_VALUES)


def _digits(text: str) -> list[int]:
    return [_DIGIT_VALUES.get(char, 0) for char in text]


def _leading_int(text: str) -> int:
    found = _LEADING_DIGITS.match(text)
    return int(found.group()) if found else 0


def _weighted_sum(serial: str, weights: Sequence[int]) -> int:
    # Characters past the last weight count for nothing, as in the reference code.
    return sum(value * weight for value, weight in zip(_digits(serial), weights, strict=False))


def _complement(total: int, modulo: int) -> int:
    return (modulo - total % modulo) % modulo


def _mod10(spec: ChecksumSpec, serial: str, check: str) -> bool:
    chars = serial[::-1] if spec.reverse else serial
    values = [_MOD10_VALUES.get(char, (ord(char) - 3) % 10) for char in chars]
    # Positions count from 0, so "evens" are the 1st, 3rd, ... characters.
    evens = sum(values[0::2]) * (1 if spec.evens_multiplier is None else spec.evens_multiplier)
    odds = sum(values[1::2]) * (1 if spec.odds_multiplier is None else spec.odds_multiplier)
    return _complement(evens + odds, spec.modulo or 10) == _leading_int(check)


def _mod7(spec: ChecksumSpec, serial: str, check: str) -> bool:
    return _leading_int(serial) % (spec.modulo or 7) == _leading_int(check)


def _s10(spec: ChecksumSpec, serial: str, check: str) -> bool:
    weights = spec.weightings or (8, 6, 4, 2, 3, 5, 9, 7)
    modulo = spec.modulo or 11
    remainder = _weighted_sum(serial, weights) % modulo
    # The S10 standard fixes the digit for remainders 0 and 1 instead of computing it.
    expected = {0: 5, 1: 0}.get(remainder, modulo - remainder)
    return expected == _leading_int(check)


def _luhn(spec: ChecksumSpec, serial: str, check: str) -> bool:
    values = _digits(serial)[::-1]
    doubled = sum(value * 2 - 9 if value > 4 else value * 2 for value in values[0::2])
    return _complement(doubled + sum(values[1::2]), spec.modulo or 10) == _leading_int(check)


def _mod_37_36(spec: ChecksumSpec, serial: str, check: str) -> bool:
    # ISO 7064 MOD 37,36 as DPD's parcel label specification applies it.
    modulo = spec.modulo or 36
    alphabet = spec.alphabet or "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    running = modulo
    for char in serial:
        running += ord(char) - 55 if "A" <= char <= "Z" else _DIGIT_VALUES.get(char, 0)
        if running > modulo:
            running -= modulo
        running *= 2
        if running > modulo:
            running -= modulo + 1
    position = modulo + 1 - running
    position = 0 if position == modulo else position
    return position < len(alphabet) and alphabet[position] == check


def _sum_product(spec: ChecksumSpec, serial: str, check: str) -> bool:
    if spec.modulo1 is None or spec.modulo2 is None:
        return False
    total = _weighted_sum(serial, spec.weightings)
    return total % spec.modulo1 % spec.modulo2 == _leading_int(check)


_CHECKSUMS: dict[str, Callable[[ChecksumSpec, str, str], bool]] = {
    "mod10": _mod10,
    "mod7": _mod7,
    "s10": _s10,
    "luhn": _luhn,
    "mod_37_36": _mod_37_36,
    "sum_product_with_weightings_and_modulo": _sum_product,
}


# --- scanning ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Candidate:
    match: TrackingMatch
    rank: int  # position of its format in the caller's sequence

    def priority(self) -> tuple[int, bool, int, int]:
        # Longest first: a spaced-out number's inner digits often pass some other
        # format's check digit by chance, and the whole number is the better reading.
        return (-len(self.match.number), not self.match.verified, self.match.start, self.rank)


@functools.lru_cache(maxsize=16)
def _prefilters(sources: tuple[str, ...]) -> _Prefilters:
    return _Prefilters(sources)


class _Prefilters:
    """For each k, one alternation of the formats from k on, asking "which fits next?".

    Most spans fit no format, and one call answers that. Alternatives are tried in order,
    so the group that matched (named after its format's index) is the next format that
    fits, and the formats in between are skipped inside the regex engine. Each is compiled
    the first time it is needed: together they are large, and most messages need none.
    """

    def __init__(self, sources: tuple[str, ...]) -> None:
        self.sources = sources
        self.compiled: dict[int, re.Pattern[str]] = {}

    def __len__(self) -> int:
        return len(self.sources)

    def __getitem__(self, k: int) -> re.Pattern[str]:
        pattern = self.compiled.get(k)
        if pattern is None:
            alternatives = (f"(?P<_{i}>{self.sources[i]})" for i in range(k, len(self.sources)))
            pattern = self.compiled[k] = re.compile("|".join(alternatives), re.ASCII)
        return pattern


class _Scan:
    """The state of one find_tracking_numbers call."""

    def __init__(self, text: str, formats: tuple[CourierFormat, ...], fits: _Prefilters) -> None:
        self.text = text
        self.formats = formats
        self.fits = fits
        self.budget = _JOINED_SPAN_BUDGET

    def run(self, start: int, end: int) -> list[TrackingMatch]:
        tokens = [token.span() for token in _TOKEN.finditer(self.text, start, end)]
        candidates: list[_Candidate] = []
        for first in range(len(tokens)):
            self._collect(tokens, first, candidates)
        return _select(candidates)

    def _collect(self, tokens: list[tuple[int, int]], first: int, out: list[_Candidate]) -> None:
        """Try every span that starts at token ``first``, adding the ones that fit."""
        number = ""
        for last in range(first, len(tokens)):
            if last > first and self.budget <= 0:
                return
            token_start, token_end = tokens[last]
            number += self.text[token_start:token_end]
            if len(number) > MAX_LENGTH:
                return
            if len(number) < MIN_LENGTH or number.replace("-", "").isalpha():
                continue
            if last > first:
                self.budget -= 1
            candidate = self._classify(number, tokens[first][0], token_end)
            if candidate is not None:
                out.append(candidate)

    def _classify(self, number: str, start: int, end: int) -> _Candidate | None:
        window = self.text[max(0, start - CONTEXT_WINDOW) : start].lower()
        best: _Candidate | None = None
        best_score = (False, False)
        for rank in self._fitting(number):
            fmt = self.formats[rank]
            found = fmt.regex.fullmatch(number)
            verdict = None if found is None else _verdict(fmt, found)
            if found is None or verdict is None:
                continue
            named = any(word in window for word in fmt.keywords)
            vouched = named or any(word in window for word in GENERIC_KEYWORDS)
            # A short run of digits passes some courier's check digit by chance (1 in 7 for
            # DHL's mod 7), so phone and order numbers need the words around them as well.
            trusted = verdict and not (number.isdigit() and len(number) <= SHORT_DIGITS)
            if not (trusted or vouched):
                continue
            # A customer who names the courier settles a tie between formats that fit.
            if best is None or (verdict, named) > best_score:
                best = _Candidate(_match(fmt, found, number, start, end, verified=verdict), rank)
                best_score = (verdict, named)
        return best

    def _fitting(self, number: str) -> Iterator[int]:
        """The indexes of the formats whose regex fits ``number``, in order."""
        rank = 0
        while rank < len(self.fits):
            fits = self.fits[rank].fullmatch(number)
            if fits is None or fits.lastgroup is None:
                return
            rank = int(fits.lastgroup[1:])
            yield rank
            rank += 1


def _verdict(fmt: CourierFormat, found: re.Match[str]) -> bool | None:
    """True: the check digit passed. False: the format has none. None: rejected."""
    if any(lookup.label_for(_group(found, lookup.group)) is None for lookup in fmt.required):
        return None
    if fmt.checksum is None:
        return False
    return True if _checksum_holds(fmt, fmt.checksum, found) else None


def _checksum_holds(fmt: CourierFormat, spec: ChecksumSpec, found: re.Match[str]) -> bool:
    serial, check = _group(found, "SerialNumber"), _group(found, "CheckDigit")
    if not serial or not check:
        return False
    if fmt.serial_prefix is not None and fmt.serial_prefix.when.search(serial):
        serial = fmt.serial_prefix.content + serial
    try:
        return _CHECKSUMS[spec.algorithm](spec, serial, check)
    except (ValueError, IndexError, KeyError, ZeroDivisionError):
        return False


def _group(found: re.Match[str], name: str) -> str:
    if name not in found.re.groupindex:
        return ""
    return "".join((found.group(name) or "").split())


def _match(
    fmt: CourierFormat, found: re.Match[str], number: str, start: int, end: int, *, verified: bool
) -> TrackingMatch:
    carrier = fmt.courier_name
    if fmt.courier_lookup is not None:
        carrier = fmt.courier_lookup.label_for(_group(found, fmt.courier_lookup.group)) or carrier
    return TrackingMatch(number, carrier, fmt.courier_code, fmt.tracking_name, start, end, verified)


def _select(candidates: list[_Candidate]) -> list[TrackingMatch]:
    """Keep the best candidates whose spans do not overlap, in order of position."""
    starts: list[int] = []
    ends: list[int] = []
    chosen: list[TrackingMatch] = []
    for candidate in sorted(candidates, key=_Candidate.priority):
        match = candidate.match
        at = bisect.bisect_left(starts, match.start)
        if (at > 0 and ends[at - 1] > match.start) or (at < len(starts) and starts[at] < match.end):
            continue
        starts.insert(at, match.start)
        ends.insert(at, match.end)
        chosen.append(match)
    return sorted(chosen, key=lambda match: match.start)

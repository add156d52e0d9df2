"""The token grammar of the time words (``time_words``) of a set of languages.

A reply's text is cut into tokens (a weekday, a date, a holiday, today/tomorrow, a clock
time, noon, end of day, "within N hours") by one regex built from the chosen languages'
tables, and neighbouring tokens joined only by commas and small words ("at", "à", "um",
"a las") are grouped into phrases, one day, one weekday and one time each. What a phrase
means is ``promises.py``'s business; this module only says where the words are.

The regex matches case-insensitively over Unicode (so "Décembre" and "MÄRZ" are found);
digits are ``[0-9]`` only, and each matched word is looked up after ``fold``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from aftersales.domain.sla.time_words import LANGUAGES, WORDS, alternation, fold

__all__ = [
    "DAY_KINDS",
    "TIME_KINDS",
    "Grammar",
    "Token",
    "grammar_for",
    "known_languages",
    "roles",
    "token_groups",
]

DAY_KINDS = frozenset({"iso", "dm", "md", "relday", "holiday", "moveable"})
TIME_KINDS = frozenset({"clock12", "clock24", "clockh", "clockuhr", "clocklas", "named", "eod"})
_FILLERS = r"(?:the|next|den|nächsten|naechsten|les|prochaines?|prochains|los|las|próximos|próximas|proximos|proximas)"


@dataclass(frozen=True, slots=True)
class Grammar:
    token: re.Pattern[str]
    joiner: re.Pattern[str]
    preposition: re.Pattern[str]  # any word a time may follow ("by", "at", "à", "um")
    deadline_before: re.Pattern[str]
    until_before: re.Pattern[str]
    deadline_after: re.Pattern[str]
    lookup: dict[str, dict[str, int]]  # kind -> folded word -> number
    holidays: dict[str, tuple[int, int]]
    units: dict[str, str]


def known_languages(languages: Iterable[str]) -> tuple[str, ...]:
    """The supported ones among ``languages``, in table order; all of them when none is."""
    wanted = set(languages)
    chosen = tuple(code for code in LANGUAGES if code in wanted)
    return chosen or LANGUAGES


def _words(languages: Sequence[str], name: str) -> list[str]:
    """Every spelling under ``name`` in the languages' tables, as written and folded."""
    found: list[str] = []
    for code in languages:
        value = getattr(WORDS[code], name)
        for item in value:  # a tuple of words, of spellings per day or month, or a mapping's keys
            found.extend(item if isinstance(item, tuple) else (item,))
    return found + [fold(word) for word in found]


def _indexed(languages: Sequence[str], name: str) -> dict[str, int]:
    """Folded spelling -> index (0 = Monday or January) over the languages' tables."""
    table: dict[str, int] = {}
    for code in languages:
        for index, spellings in enumerate(getattr(WORDS[code], name)):
            table.update(dict.fromkeys((fold(s) for s in spellings), index))
    return table


def _token_bodies(languages: Sequence[str]) -> dict[str, str]:
    """One regex per token kind; group names are prefixed by the kind so they stay unique."""

    def any_of(*names: str) -> str:
        return alternation(w for name in names for w in _words(languages, name))

    months = any_of("months")
    english_months = alternation(_words(("en",), "months"))
    number = "[0-9]{1,4}|" + any_of("numbers")
    business = any_of("business") or "(?!)"
    return {
        "iso": r"(?P<iso_date>[0-9]{4}-[0-9]{2}-[0-9]{2})(?:[tT ](?P<iso_h>[0-9]{2}):(?P<iso_m>[0-9]{2}))?",
        "relative": (
            rf"(?:{any_of('within')})\s+(?:{_FILLERS}\s+){{0,2}}(?P<rel_n>{number})\s*"
            rf"(?:(?P<rel_b1>{business})\s+)?(?P<rel_unit>{any_of('units')})(?:\s+(?P<rel_b2>{business}))?"
        ),
        "eod": rf"(?:the\s+|la\s+|el\s+)?(?:{any_of('end_of_day')})",
        "moveable": rf"(?P<mov>{any_of('moveable_holidays')})",
        "holiday": rf"(?P<hol>{any_of('fixed_holidays')})",
        "dm": (
            rf"(?P<dm_d>[0-9]{{1,2}})(?:st|nd|rd|th|er|º)?(?:\.\s*|\s+)(?:of\s+|de\s+)?(?P<dm_m>{months})"
            r"(?:,?\s+(?:de\s+|del\s+)?(?P<dm_y>[0-9]{4}))?"
        ),
        "md": (
            rf"(?P<md_m>{english_months})\.?\s+(?P<md_d>[0-9]{{1,2}})(?:st|nd|rd|th)?(?![:.]?[0-9])"
            r"(?:,?\s+(?P<md_y>[0-9]{4}))?"
        ),
        "weekday": rf"(?:(?:this|next|coming)\s+)?(?P<wd>{any_of('weekdays')})",
        # "guten Morgen", "heute Morgen", "por la mañana", "esta mañana" are mornings, not tomorrow
        "relday": rf"(?<!guten\s)(?<!heute\s)(?<!la\s)(?<!esta\s)(?P<rd>{any_of('today', 'tomorrow', 'day_after_tomorrow')})",
        "clock12": r"(?P<c12_h>[0-9]{1,2})(?:[:.](?P<c12_m>[0-9]{2}))?\s*(?P<c12_ampm>[ap])(?:m|\.\s?m\.?)",
        "clock24": r"(?P<c24_h>[0-9]{1,2}):(?P<c24_m>[0-9]{2})(?:\s*(?:uhr|h)(?!\w))?",
        "clockh": r"(?P<ch_h>[0-9]{1,2})\s?(?:heures?|h)(?:\s?(?P<ch_m>[0-9]{2}))?",
        "clockuhr": r"(?P<cu_h>[0-9]{1,2})(?:\.(?P<cu_m>[0-9]{2}))?\s*uhr",
        "clocklas": r"(?:a|hacia|sobre|antes\s+de|para)\s+las?\s+(?P<cl_h>[0-9]{1,2})(?:[:.](?P<cl_m>[0-9]{2}))?",
        "named": rf"(?<!après-)(?<!apres-)(?P<nm>{any_of('noon', 'midnight')})",
    }


@lru_cache(maxsize=32)
def grammar_for(languages: tuple[str, ...]) -> Grammar:
    lookup = {"weekday": _indexed(languages, "weekdays"), "month": _indexed(languages, "months")}
    lookup["relday"] = {fold(w): 0 for w in _words(languages, "today")}
    lookup["relday"] |= {fold(w): 1 for w in _words(languages, "tomorrow")}
    lookup["relday"] |= {fold(w): 2 for w in _words(languages, "day_after_tomorrow")}
    lookup["number"] = {fold(w): n for code in languages for w, n in WORDS[code].numbers.items()}
    lookup["named"] = {fold(w): 12 for w in _words(languages, "noon")}
    lookup["named"] |= {fold(w): 24 for w in _words(languages, "midnight")}
    units = {fold(w): unit for code in languages for w, unit in WORDS[code].units.items()}
    holidays = {fold(w): day for code in languages for w, day in WORDS[code].fixed_holidays.items()}
    bodies = _token_bodies(languages)
    # one lookbehind before the alternation: a position inside a word fails at once
    token = (
        r"(?<!\w)(?=\w)(?:" + "|".join(rf"(?P<{kind}>{body})(?!\w)" for kind, body in bodies.items()) + ")"
    )
    at_words = alternation(_words(languages, "at") + _words(languages, "by") + _words(languages, "until"))
    flags = re.IGNORECASE
    return Grammar(
        token=re.compile(token, flags),
        joiner=re.compile(rf"[\s,]*(?:(?:{at_words})[\s,]+)*", flags),
        preposition=re.compile(rf"(?<!\w)(?:{at_words})\s+\Z", flags),
        deadline_before=re.compile(rf"(?<!\w)(?:{alternation(_words(languages, 'by'))})[\s,]+\Z", flags),
        until_before=re.compile(
            rf"(?<!\w)(?:{alternation(_words(languages, 'until')) or '(?!)'})[\s,]+\Z", flags
        ),
        deadline_after=re.compile(
            rf"[\s,]*(?:{alternation(_words(languages, 'at_the_latest')) or '(?!)'})(?!\w)", flags
        ),
        lookup=lookup,
        holidays=holidays,
        units=units,
    )


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    match: re.Match[str]

    @property
    def start(self) -> int:
        return self.match.start(self.kind)

    @property
    def end(self) -> int:
        return self.match.end(self.kind)

    def group(self, name: str) -> str | None:
        return self.match.group(name)

    def text(self, name: str) -> str:
        return str(self.match.group(name))


def roles(token: Token) -> frozenset[str]:
    if token.kind == "iso" and token.group("iso_h") is not None:
        return frozenset({"day", "time"})
    if token.kind in DAY_KINDS:
        return frozenset({"day"})
    if token.kind in TIME_KINDS:
        return frozenset({"time"})
    if token.kind == "weekday":
        return frozenset({"weekday"})
    return frozenset({"alone"})  # relative: "within 2 days" joins nothing


def token_groups(text: str, grammar: Grammar) -> Iterator[list[Token]]:
    """Neighbouring tokens that name one moment together, one role each."""
    group: list[Token] = []
    taken: frozenset[str] = frozenset()
    for match in grammar.token.finditer(text):
        token = Token(str(match.lastgroup), match)
        its_roles = roles(token)
        joins = (
            group
            and "alone" not in its_roles | taken
            and not its_roles & taken
            and grammar.joiner.fullmatch(text, group[-1].end, token.start) is not None
        )
        if group and not joins:
            yield group
            group, taken = [], frozenset()
        group.append(token)
        taken |= its_roles
    if group:
        yield group

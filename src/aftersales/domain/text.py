"""Normalising customer text for routing: tokens with their spans, and spelling repair.

Customers write "cancelation", "refnd", "wya package" and "speakto". The router matches
its cues against a normalised copy of the text, and every normalised token keeps the span
of the original text it came from, so a trace can always quote the customer's own words.

Spelling repair is hand-written (a SymSpell-style delete index over the router's own
keywords): general spell checkers correct towards the whole dictionary and are far too
slow for thousands of messages a second; we only need to recover the few hundred words
that decide a route, and must leave every other word alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

_TOKEN = re.compile(r"(?P<rating>\b\d{1,2} ?/ ?(?:5|10)\b|[★☆⭐✩✪✫✭✮]+)|[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
# "★★☆☆☆", "2/5" and "7/10" are ratings; cues see each as this one word.
STAR_RATING = "starrating"


# Contractions written without the apostrophe ("dont", "havent") are common in chat.
_APOSTROPHELESS: Mapping[str, str] = {
    "dont": "don't",
    "doesnt": "doesn't",
    "didnt": "didn't",
    "cant": "can't",
    "wont": "won't",
    "isnt": "isn't",
    "wasnt": "wasn't",
    "havent": "haven't",
    "hasnt": "hasn't",
    "hadnt": "hadn't",
    "arent": "aren't",
    "werent": "weren't",
    "couldnt": "couldn't",
    "shouldnt": "shouldn't",
    "wouldnt": "wouldn't",
    "im": "i'm",
    "ive": "i've",
    "youre": "you're",
    "whats": "what's",
    "wheres": "where's",
}


@dataclass(frozen=True, slots=True)
class Token:
    text: str  # normalised: lower case, straight apostrophes, spelling repaired
    start: int  # span in the original text
    end: int


@dataclass(frozen=True, slots=True)
class NormalisedText:
    """A normalised, single-spaced copy of a message with a map back to the original."""

    original: str
    words: tuple[str, ...]  # normalised: lower case, straight apostrophes, spelling repaired
    spans: tuple[tuple[int, int], ...]  # each word's span in the original text
    text: str  # the words joined by single spaces
    word_starts: tuple[int, ...]  # where each word starts in ``text``

    @property
    def tokens(self) -> tuple[Token, ...]:
        return tuple(Token(w, s, e) for w, (s, e) in zip(self.words, self.spans, strict=True))

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text behind a span of the normalised text."""
        first = _token_at(self.word_starts, start)
        last = _token_at(self.word_starts, max(start, end - 1))
        return self.spans[first][0], self.spans[last][1]


def _token_at(starts: tuple[int, ...], offset: int) -> int:
    low, high = 0, len(starts) - 1
    while low < high:
        middle = (low + high + 1) // 2
        if starts[middle] <= offset:
            low = middle
        else:
            high = middle - 1
    return low


class SpellingRepair:
    """Repairs misspelt keywords (edit distance 1, or 2 for long words) and glued pairs."""

    def __init__(self, keywords: Iterable[str], known: Iterable[str] = ()) -> None:
        self._keywords = frozenset(k.lower() for k in keywords if len(k) >= 4)
        self._known = frozenset(w.lower() for w in known) | self._keywords
        self._deletes: dict[str, set[str]] = {}
        for keyword in self._keywords:
            for variant in _deletes(keyword, _max_distance(len(keyword))):
                self._deletes.setdefault(variant, set()).add(keyword)
        self.repair = lru_cache(maxsize=65536)(self._repair)
        self.words = lru_cache(maxsize=131072)(self._words)

    def _words(self, raw: str) -> tuple[str, ...]:
        """A raw token as normalised words: "Cancelation" -> ("cancellation",)."""
        return tuple(self.repair(_plain(raw)[0]).split(" "))

    def _repair(self, word: str) -> str:
        if word in self._known or len(word) < 4 or not word.isalpha():
            return word
        return self._closest(word) or self._split(word) or word

    def _closest(self, word: str) -> str | None:
        limit = _max_distance(len(word))
        candidates: set[str] = set()
        for variant in _deletes(word, limit):
            candidates |= self._deletes.get(variant, set())
        scored = sorted(
            (distance, keyword)
            for keyword in candidates
            if (distance := _edit_distance(word, keyword)) <= limit
        )
        return scored[0][1] if scored else None

    def _split(self, word: str) -> str | None:
        """'speakto' -> 'speak to', when one side is a keyword and the other a known word."""
        for cut in range(2, len(word) - 1):
            left, right = word[:cut], word[cut:]
            if (left in self._keywords and right in self._known) or (
                right in self._keywords and left in self._known
            ):
                return f"{left} {right}"
        return None


def _max_distance(length: int) -> int:
    if length < 5:
        return 0
    return 1 if length < 8 else 2


def _deletes(word: str, distance: int) -> set[str]:
    found = {word}
    frontier = {word}
    for _ in range(distance):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


def _edit_distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance: insertions, deletions, substitutions, swaps."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, char_b in enumerate(b, 1):
            cost = 0 if char_a == char_b else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def normalise(text: str, repair: SpellingRepair | None = None) -> NormalisedText:
    word_of = _word_reader(repair)
    words: list[str] = []
    spans: list[tuple[int, int]] = []
    starts: list[int] = []
    position = 0
    for match in _TOKEN.finditer(text):
        span = match.span()
        raw = STAR_RATING if match.group("rating") else match.group()
        for part in word_of(raw):
            words.append(part)
            spans.append(span)
            starts.append(position)
            position += len(part) + 1
    return NormalisedText(text, tuple(words), tuple(spans), " ".join(words), tuple(starts))


def _plain(raw: str) -> tuple[str, ...]:
    word = raw.lower().replace("’", "'")
    return (_APOSTROPHELESS.get(word, word),)


_plain_words = lru_cache(maxsize=131072)(_plain)


def _word_reader(repair: SpellingRepair | None) -> Callable[[str], tuple[str, ...]]:
    """raw token -> its normalised word(s); memoised, since words repeat a lot."""
    return _plain_words if repair is None else repair.words

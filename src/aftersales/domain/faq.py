"""The store's FAQ entries, and which of them answer a customer's question.

Matching is keyword overlap, so an agent can always see why an answer was picked. An entry's
terms are its ``keywords`` (or, without them, the content words of its question), lower-cased
and lightly stemmed ("ships", "shipping" -> "ship"; "countries" -> "country"). An entry
matches a message when the message contains

- at least half of the entry's terms, and
- at least two of them (or the entry's only term, when it has one).

Several entries may match one message ("Is it dishwasher safe? Do you ship to Canada?"
answers both); an entry whose shared terms another, better match already covers adds nothing
and is left out. Hand-written rather than fuzzy matching (rapidfuzz and the like are not
among our dependencies): a few dozen entries, a few words each, and the reason for every
match fits in one line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MIN_SHARE = 0.5  # of an entry's terms the message must contain
MIN_SHARED = 2  # terms in common, unless the entry has fewer
MAX_ANSWERS = 3  # a draft answers at most this many entries

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
# Words that carry no topic, in the languages the desk drafts in most.
_STOP_TEXT = """
    a about an and any are as at be been before buy buying can could did do does doing for
    from get got have how i i'm if in is it it's its just me my no not of on or our please
    should so than that the their them then there these they this those to too us was we
    what when where which who why will with would yes you your you're hi hello hey thanks
    thank much many also still want wanted need like know tell thinking order ordering
    le la les un une des du de et est ce que qui pour pas sur avec vous nous je mon ma mes
    votre vos il elle
    der die das ein eine und ist es sie ich mein meine ihr ihre nicht mit für auf wie was
    kann können haben zu
    el los las una y es que por para con usted mi
"""
_STOP_WORDS = frozenset(_STOP_TEXT.split())


@dataclass(frozen=True, slots=True, kw_only=True)
class FaqEntry:
    """One question the store answers the same way every time, in one language."""

    question: str
    answer: str
    language: str = "en"
    keywords: tuple[str, ...] = ()  # optional: the words that show the question is asked

    @property
    def terms(self) -> frozenset[str]:
        source = " ".join(self.keywords) if self.keywords else self.question
        return terms_of(source)


@dataclass(frozen=True, slots=True)
class FaqMatch:
    entry: FaqEntry
    shared: frozenset[str]  # the entry's terms found in the message

    @property
    def share(self) -> float:
        return len(self.shared) / len(self.entry.terms)

    @property
    def reason(self) -> str:
        """Why it matched, for the agent: "dishwasher, safe (2 of 3 terms)"."""
        return f"{', '.join(sorted(self.shared))} ({len(self.shared)} of {len(self.entry.terms)} terms)"


def terms_of(text: str) -> frozenset[str]:
    """The content words of ``text``, lower-cased and stemmed."""
    return frozenset(_terms_in_order(text))


def _terms_in_order(text: str) -> list[str]:
    words = (w.casefold().replace("’", "'") for w in _WORD.findall(text))
    return [_stem(w) for w in words if w not in _STOP_WORDS and len(w) > 1]


def _stem(word: str) -> str:
    """A light English stemmer: enough to meet "ship", "ships", "shipping" and "shipped"."""
    word = word.removesuffix("'s")
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    for suffix in ("ing", "ed"):
        if len(word) - len(suffix) >= 3 and word.endswith(suffix):
            word = word[: -len(suffix)]
            # "shipp" -> "ship"; "fill" stays "fill"
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]
            return word
    if word.endswith(("sses", "xes", "zes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def matches(message: str, entries: Iterable[FaqEntry], language: str) -> tuple[FaqMatch, ...]:
    """The entries in ``language`` that answer ``message`` (at most MAX_ANSWERS, the best
    ones), in the order the message asks them."""
    said = _terms_in_order(message)
    found = [
        FaqMatch(entry, entry.terms & frozenset(said))
        for entry in entries
        if entry.language == language and entry.terms
    ]
    good = sorted((m for m in found if _is_match(m)), key=lambda m: (-m.share, -len(m.shared)))
    best = _covering(good)[:MAX_ANSWERS]
    return tuple(sorted(best, key=lambda m: min(said.index(term) for term in m.shared)))


def _is_match(match: FaqMatch) -> bool:
    needed = min(MIN_SHARED, len(match.entry.terms))
    return len(match.shared) >= needed and match.share >= MIN_SHARE


def _covering(ranked: Sequence[FaqMatch]) -> list[FaqMatch]:
    kept: list[FaqMatch] = []
    for match in ranked:
        if not any(match.shared <= earlier.shared for earlier in kept):
            kept.append(match)
    return kept


def answers_text(found: Sequence[FaqMatch]) -> str:
    """The matched entries' answers, one paragraph each ("" when none matched)."""
    return "\n\n".join(m.entry.answer.strip() for m in found)


def answer_status(found: Sequence[FaqMatch], by: str) -> str:
    """The sentence after the answers: when the rest of the question is answered (English,
    like the drafts' other sentences)."""
    if found:
        return f"If we have missed any part of your question, we will answer it by {by}."
    return (
        f"We are checking the exact answer against our product and shipping details and will reply by {by}."
    )

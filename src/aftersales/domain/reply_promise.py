"""The next-update time a reply promises, read from the sentence that promises it.

One reading serves the composer's live check, the API's reply check and the reply that is
sent, so the time the agent is shown is the time the desk stores.

* The promise is in a sentence that commits to the future ("we will write to you by
  Tuesday 8 December, 10:00", "you will get the tracking number by Monday 12:00",
  "nous reviendrons vers vous d'ici mardi 15 décembre à 10h"); dates in other sentences
  are facts ("the last scan was on Monday 30 November") and are not read as the promise.
  Without such a sentence, a deadline said with "by" ("Next step: by Tuesday 12:00") in a
  sentence that asks nothing of the customer is the promise.
* Within the promising sentences, a firm phrase (a deadline, a time of day, "within 2
  days") wins over a bare day mentioned in passing; among those, the earliest.
* The time must be ahead of ``now`` and inside the store's opening hours (its close
  included: "by Monday 12:00" is kept when the morning shift ends at 12:00). A past day, a
  closed hour, a date that does not exist, a weekday that is not the date's or a holiday
  whose date moves is refused with the reason (and the next open time); no time is
  stored then, and none is ever rolled forward to a day the reply did not say.
* A firm phrase with a problem refuses the reply even when another phrase is fine: the
  customer would read both. A bare day mentioned in passing only refuses it when no
  phrase gives a time.
* A closing reply ("I have refunded you in full, nothing else is needed") needs no time.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aftersales.domain.reply_words import closing_pattern, promise_pattern, request_pattern
from aftersales.domain.sla.calendar import BusinessCalendar, is_open, next_open
from aftersales.domain.sla.promises import Phrase, known_languages, read_phrases
from aftersales.domain.sla.time_words import WORDS

__all__ = ["PromiseProblem", "ReplyPromise", "read_promise", "reply_languages", "shown"]

_BOUNDARY = re.compile(r"(?<=[.!?])\s+|\n+")
_JUST_BEFORE = timedelta(microseconds=1)
_ADVICE = {
    "moveable_holiday": "write its date instead, e.g. 'by Monday 5 April, 10:00'",
    "impossible_time": "write a time from 00:00 to 23:59",
}


@dataclass(frozen=True, slots=True)
class PromiseProblem:
    check: str  # past_time, closed_time, impossible_date, impossible_time, weekday_mismatch, moveable_holiday
    sentence: str  # the sentence that says it
    fix: str  # the reason, and what to write instead


@dataclass(frozen=True, slots=True)
class ReplyPromise:
    at: datetime | None = None  # in the store's zone; None when refused or when nothing is promised
    sentence: str = ""  # the sentence the time was read from
    problems: tuple[PromiseProblem, ...] = ()
    closing: bool = False  # the reply resolves the case: no next update is owed
    promising: bool = False  # a promising sentence names a day or a time (valid or not)


def reply_languages(case_language: str, store_language: str) -> tuple[str, ...]:
    """The languages to read a reply in: the case's and the store's when the case's is one
    the reading knows; every known language when the case's is unknown or unsupported."""
    if case_language not in WORDS:
        return known_languages(())
    return known_languages((case_language, store_language))


def shown(moment: datetime) -> str:
    """'Monday 7 December 09:00': a moment as the agent reads it in a reason."""
    return f"{moment:%A} {moment.day} {moment:%B} {moment:%H:%M}"


def read_promise(
    text: str, now: datetime, calendar: BusinessCalendar, languages: Iterable[str] = ()
) -> ReplyPromise:
    """The time ``text`` promises for the next update, or the problems that refuse it.

    Never raises for any text; ``now`` must be timezone-aware (``ValueError`` otherwise).
    """
    chosen = known_languages(languages)
    phrases = read_phrases(text, now, calendar, chosen)
    closing = closing_pattern(chosen).search(text) is not None
    sentences = _sentences(text, phrases)
    promising = _promising(text, phrases, sentences, chosen)
    if not promising:
        return ReplyPromise(closing=closing)
    local_now = now.astimezone(calendar.tz)
    verdicts = _deciding([_verdict(phrase, sentence, local_now, calendar) for phrase, sentence in promising])
    problems = tuple(v.problem for v in verdicts if v.problem is not None)
    if problems:
        return ReplyPromise(problems=problems, closing=closing, promising=True)
    fine = [(v.moment, v) for v in verdicts if v.moment is not None]
    if not fine:
        return ReplyPromise(closing=closing)
    moment, best = min(fine, key=lambda pair: (_instant(pair[0]), pair[1].phrase.span))
    return ReplyPromise(at=moment, sentence=best.sentence, closing=closing, promising=True)


# --- which phrases promise ---------------------------------------------------------------


def _sentences(text: str, phrases: Sequence[Phrase]) -> list[tuple[int, int]]:
    """Sentence spans, never cut inside a phrase ("15. Dezember", "10 a.m. tomorrow")."""
    inside = _merged(sorted(p.span for p in phrases))
    starts = [start for start, _ in inside]
    spans, start = [], 0
    for boundary in _BOUNDARY.finditer(text):
        cut = boundary.start()
        index = bisect_right(starts, cut) - 1
        if index >= 0 and inside[index][0] < cut < inside[index][1]:
            continue
        spans.append((start, cut))
        start = boundary.end()
    spans.append((start, len(text)))
    return spans


def _merged(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _promising(
    text: str, phrases: Sequence[Phrase], sentences: Sequence[tuple[int, int]], languages: tuple[str, ...]
) -> list[tuple[Phrase, str]]:
    """The phrases of the promising sentences, each with its sentence (see the module doc).

    Each sentence is searched once, however many phrases it holds.
    """
    starts = [start for start, _ in sentences]
    placed = [(p, max(0, bisect_right(starts, p.span[0]) - 1)) for p in phrases]
    words = {index: text[slice(*sentences[index])].strip() for _, index in placed}
    promise = promise_pattern(languages)
    promising = {index for index, sentence in words.items() if promise.search(sentence)}
    if promising:
        return [(p, words[index]) for p, index in placed if index in promising]
    request = request_pattern(languages)
    asking = {index for index, sentence in words.items() if request.search(sentence)}
    return [(p, words[index]) for p, index in placed if p.deadline and index not in asking]


# --- whether the time can be promised ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Verdict:
    phrase: Phrase
    sentence: str
    moment: datetime | None = None
    problem: PromiseProblem | None = None


def _verdict(phrase: Phrase, sentence: str, now: datetime, calendar: BusinessCalendar) -> _Verdict:
    if phrase.trouble:
        advice = _ADVICE.get(phrase.trouble, "check the day and the date you promise")
        fix = f"{_capital(phrase.reason)}: {advice}."
        return _Verdict(phrase, sentence, problem=PromiseProblem(phrase.trouble, sentence, fix))
    moment = phrase.moment
    if moment is None:
        return _Verdict(phrase, sentence)
    if _instant(moment) <= _instant(now):
        fix = (
            f"“{phrase.words}” ({shown(moment)}) has already passed: it is now {shown(now)}. "
            "Promise a time still ahead."
        )
        return _Verdict(phrase, sentence, problem=PromiseProblem("past_time", sentence, fix))
    closed = _closed_reason(moment, calendar)
    if closed:
        fix = f"{_capital(closed)}. Promise a time when the store is open."
        return _Verdict(phrase, sentence, problem=PromiseProblem("closed_time", sentence, fix))
    return _Verdict(phrase, sentence, moment=moment)


def _deciding(verdicts: Sequence[_Verdict]) -> list[_Verdict]:
    """The verdicts that decide: every firm phrase when there is one, else the bare days."""
    firm = [v for v in verdicts if v.phrase.firm and (v.moment is not None or v.problem is not None)]
    if firm:
        return firm
    bare = [v for v in verdicts if v.moment is not None]
    return bare or [v for v in verdicts if v.problem is not None]


def _closed_reason(moment: datetime, calendar: BusinessCalendar) -> str:
    """Why the store is closed at ``moment`` with its next open time; "" when it is open
    then (or closes exactly then: "by 12:00" when the morning shift ends at 12:00)."""
    if is_open(moment, calendar) or is_open(moment - _JUST_BEFORE, calendar):
        return ""
    day = moment.date()
    intervals = calendar.weekly.get(day.weekday(), ())
    if not intervals:
        where = f"the store is closed on {moment:%A}"
    elif calendar.is_closed_day(day):
        where = (
            f"the store is closed on {moment:%A} {day.day} {moment:%B} (a public holiday or store closure)"
        )
    else:
        hours = ", ".join(f"{i.start:%H:%M}-{i.end:%H:%M}" for i in intervals)
        where = f"the store is closed at {moment:%H:%M} on {moment:%A} {day.day} {moment:%B} (open {hours})"
    try:
        return f"{where}; the next open time is {shown(next_open(moment, calendar))}"
    except ValueError:
        return f"{where}, and its policy has no opening hours at all"


def _instant(moment: datetime) -> datetime:
    """As a UTC instant: two times of one zone compare by wall time, even across a DST fold."""
    return moment.astimezone(UTC)


def _capital(words: str) -> str:
    return words[:1].upper() + words[1:]

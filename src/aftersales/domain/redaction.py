"""Masking a customer's personal details before a message leaves the machine.

E-mail addresses, phone numbers, street addresses and card-like numbers (13 to 19 digits that
pass the Luhn check) become placeholders such as ``[email]``. Spans the caller keeps (order
and tracking numbers, which a reader needs and which identify no one) are never masked. The
masked text remembers where each placeholder came from, so a span the language model quotes
from it can be placed back in the original message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_CARD = re.compile(r"(?<![\w#])(?:\d[ -]?){12,18}\d(?!\w)")
_PHONE = re.compile(r"(?<![\w#/.-])\+?\(?\d{1,4}\)?(?:[ .-]?\(?\d{2,5}\)?){1,5}(?![\w/])")
_DATE_LIKE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{1,2}:\d{2}")
_STREET_TYPES = (
    "street|st|avenue|ave|road|rd|lane|ln|drive|dr|boulevard|blvd|court|ct|way|place|pl|terrace|"
    "close|crescent|highway|hwy|parkway|pkwy|square|sq|circle|cir"
)
_ADDRESS = re.compile(
    r"\b\d{1,5}[a-z]?,?\s+(?:[a-z][\w'.-]*\s+){0,4}(?:" + _STREET_TYPES + r")\b\.?"
    r"(?:,?\s*(?:apt|apartment|suite|unit|flat|#)\.?\s*[\w-]+)?"
    r"|\b\d{1,4},?\s+(?:rue|avenue|boulevard|calle|avenida|via|viale|rua)\s+(?:[\w'-]+\s+){0,4}[\w'-]+"
    r"|\b[\w-]*(?:stra(?:ss|ß)e|str\.|weg|gasse|allee|platz|laan|straat)\s+\d{1,4}[a-z]?\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Mask:
    start: int  # in the masked text
    end: int
    original_start: int
    original_end: int


@dataclass(frozen=True, slots=True)
class RedactedText:
    text: str
    masks: tuple[Mask, ...] = ()

    def to_original(self, start: int, end: int) -> tuple[int, int] | None:
        """The span of the original text behind [start, end) of the masked text; None when
        the span cuts into a placeholder."""
        shift = 0
        for mask in self.masks:
            if mask.end <= start:
                shift = mask.original_end - mask.end
                continue
            if mask.start < end:
                return None
            break
        return start + shift, end + shift


def redact(text: str, keep: Sequence[tuple[int, int]] = ()) -> RedactedText:
    """``text`` with personal details masked, except inside the ``keep`` spans."""
    found = [
        *((m.start(), m.end(), "[email]") for m in _EMAIL.finditer(text)),
        *((m.start(), m.end(), "[card number]") for m in _CARD.finditer(text) if _card_like(m.group())),
        *((m.start(), m.end(), "[address]") for m in _ADDRESS.finditer(text)),
        *((m.start(), m.end(), "[phone]") for m in _PHONE.finditer(text) if _phone_like(m.group())),
    ]
    spans = _without_overlaps(
        [
            (s, e, label)
            for s, e, label in found
            if not any(s < k_end and k_start < e for k_start, k_end in keep)
        ]
    )
    parts: list[str] = []
    masks: list[Mask] = []
    position = length = 0
    for start, end, label in spans:
        parts.append(text[position:start])
        length += start - position
        masks.append(Mask(length, length + len(label), start, end))
        parts.append(label)
        length += len(label)
        position = end
    parts.append(text[position:])
    return RedactedText("".join(parts), tuple(masks))


def _without_overlaps(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """The earliest (then longest) of overlapping spans wins; the order of the patterns
    above breaks ties (an e-mail address before the digits inside it)."""
    kept: list[tuple[int, int, str]] = []
    for span in sorted(spans, key=lambda s: (s[0], -(s[1] - s[0]))):
        if not kept or span[0] >= kept[-1][1]:
            kept.append(span)
    return kept


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _card_like(text: str) -> bool:
    digits = _digits(text)
    return 13 <= len(digits) <= 19 and _luhn(digits)


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _phone_like(text: str) -> bool:
    """7 to 15 digits written as a phone number is (a "+", separators or 10 digits in a row);
    a date, a time or an amount is not one."""
    digits = _digits(text)
    if not 7 <= len(digits) <= 15 or _DATE_LIKE.fullmatch(text.strip()):
        return False
    return text.startswith("+") or len(digits) >= 10 or any(c in text for c in " .-()")

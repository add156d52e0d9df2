"""Which language a customer wrote in: py3langid, loaded on first need.

py3langid (the maintained fork of langid.py) was picked by measurement on short messages:
on the real development set it read 2,713 of 2,750 mostly English tweets as English at about
20,000 messages a second, where lingua (restricted to seven languages) read 2,682 at 2,400 a
second and costs 1.1 s to load. py3langid still costs about 0.5 s to load (numpy and its
model), so a message that plainly reads as English (English function or shop words and none
of the other languages' function words) is answered without loading it: a one-message `aftersales route` stays fast.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Protocol

# The languages a store's customers write in most; restricting the detector to them keeps it
# from reading a short English tweet as Tagalog or Latin.
LANGUAGES = ("en", "fr", "de", "es", "it", "nl", "pt")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_ENGLISH = frozenset(
    [
        "the",
        "and",
        "my",
        "is",
        "it",
        "to",
        "for",
        "you",
        "not",
        "of",
        "was",
        "have",
        "has",
        "this",
        "that",
        "with",
        "your",
        "i",
        "i'm",
        "it's",
        "don't",
        "can't",
        "what",
        "where",
        "when",
        "why",
        "how",
        "order",
        "still",
        "no",
        "any",
        "please",
        "would",
        "could",
        "get",
        "got",
        "arrived",
        "received",
        "item",
        "items",
        "package",
        "parcel",
        "delivery",
        "refund",
        "return",
        "broken",
        "damaged",
        "wrong",
        "photo",
        "attached",
        "tracking",
        "shipped",
        "ordered",
        "bought",
        "week",
        "weeks",
        "days",
        "help",
        "thanks",
    ]
)
# Function words of the other languages, including the few shared with English by spelling.
_FOREIGN = frozenset(
    [
        "le",
        "la",
        "les",
        "est",
        "pas",
        "je",
        "un",
        "une",
        "des",
        "du",
        "et",
        "mais",
        "pour",
        "avec",
        "mon",
        "ma",
        "mes",
        "vous",
        "être",
        "très",
        "der",
        "die",
        "das",
        "und",
        "ist",
        "nicht",
        "ich",
        "mein",
        "meine",
        "sie",
        "wir",
        "haben",
        "ein",
        "eine",
        "mit",
        "für",
        "auf",
        "noch",
        "el",
        "los",
        "las",
        "que",
        "por",
        "mi",
        "pero",
        "con",
        "una",
        "está",
        "muy",
        "es",
        "del",
        "sus",
        "qué",
        "cómo",
        "dónde",
        "il",
        "di",
        "che",
        "della",
        "sono",
        "ho",
        "het",
        "een",
        "niet",
        "ik",
        "wij",
        "mijn",
        "não",
        "uma",
        "com",
        "meu",
        "minha",
    ]
)


class _Identifier(Protocol):
    def classify(self, text: str) -> tuple[str, float]: ...


def detect_language(text: str) -> str:
    """The ISO 639-1 code of the language ``text`` is written in, or "" with too few words."""
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < 2:
        return ""
    english = sum(w in _ENGLISH for w in words)
    foreign = sum(w in _FOREIGN for w in words)
    if foreign == 0 and (english >= 2 or (english and text.isascii())):
        return "en"
    language, _ = _identifier().classify(text)
    return str(language)


@cache
def _identifier() -> _Identifier:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier  # noqa: PLC0415  (0.5 s to load)

    full = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    full.set_languages(list(LANGUAGES))
    # A new identifier over the seven languages' columns only: the full model keeps all 97
    # languages' tables alive (about 80 MB more in every process that routes).
    identifier: _Identifier = LanguageIdentifier(
        full.nb_ptc,
        full.nb_pc,
        full.nb_classes,
        full.tk_nextmove,
        full.tk_output,
        norm_probs=True,
        tk_row=full.tk_row,
    )
    return identifier

"""How a reply greets the customer: by first name when we know it, plainly when we do not.

The name comes only from what a person wrote as their name (the customer record, a mail's
display name, a form's name field), never from an e-mail address: "sam.k99@example.com"
gives no name, and "Hello Sam.k99," is worse than "Hello,". A display name that is the
address's local part again (mail programs fill it in so) counts as no name too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# Words that sit in a display name but are not a first name.
_TITLES = frozenset(
    {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam", "m", "mme", "herr", "frau"}
)
# Display names of shared mailboxes and shops, not of a person.
_NOT_A_PERSON = frozenset(
    {
        "admin",
        "billing",
        "contact",
        "customer",
        "customers",
        "hello",
        "help",
        "info",
        "mail",
        "noreply",
        "office",
        "orders",
        "sales",
        "service",
        "shop",
        "store",
        "support",
        "team",
        "the",
        "unknown",
        "user",
    }
)
# A first name: letters, with inner hyphens or apostrophes ("Anne-Marie", "D'Arcy").
_NAME_WORD = re.compile(r"^[^\W\d_]+(?:[-'’][^\W\d_]+)*$")
_QUOTES = "\"'“”‘’«»<>()[]"
_MIN_LETTERS = 2


def first_name(display_name: str, address: str = "") -> str:
    """The customer's first name from the name they gave ("Anna Berg", "Berg, Anna",
    "Dr. Anna Berg"), or "" when there is none we can trust."""
    name = display_name.strip().strip(_QUOTES).strip()
    if not name or "@" in name or _is_local_part(name, address):
        return ""
    if "," in name:  # "Berg, Anna": the family name first
        name = name.split(",", 1)[1]
    words = [w.strip(".").strip(_QUOTES) for w in name.split()]
    words = [w for w in words if w and w.casefold() not in _TITLES]
    if not words:
        return ""
    word = words[0]
    if len(word) < _MIN_LETTERS or not _NAME_WORD.match(word) or word.casefold() in _NOT_A_PERSON:
        return ""
    return _capitalised(word)


def _is_local_part(name: str, address: str) -> bool:
    local = address.partition("@")[0].strip().casefold()
    return bool(local) and name.casefold() == local


def _capitalised(word: str) -> str:
    # "anna" and "ANNA" were typed without care; "McKenzie" and "DeShawn" were typed with it
    if word.islower() or word.isupper():
        return "-".join(part[:1].upper() + part[1:].lower() for part in word.split("-"))
    return word


# "Hello" in the languages the desk drafts in; a draft in another language greets in English.
GREETINGS: Mapping[str, str] = {
    "en": "Hello",
    "fr": "Bonjour",
    "de": "Hallo",
    "es": "Hola",
    "it": "Buongiorno",
    "nl": "Hallo",
    "pt": "Olá",
}


def greeting(name: str, language: str = "en") -> str:
    """ "Hello Anna," or, without a name, "Hello," (in the draft's language)."""
    hello = GREETINGS.get(language, GREETINGS["en"])
    return f"{hello} {name}," if name else f"{hello},"

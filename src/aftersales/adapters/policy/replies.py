"""The policy file's ``[[saved_replies]]`` and ``[[faq]]`` entries: read and check them.

Kept apart from ``policy_file.py`` (the rest of the file's sections) for size; the checker
is the same, so every problem is collected with its key and line, and a saved reply's
problem names the entry too ("saved_replies[2].text: the saved reply 'Tracking update'
uses the unknown variable {frist_name}; ...").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from aftersales.adapters.policy import rules
from aftersales.domain.faq import FaqEntry
from aftersales.domain.routes import Route
from aftersales.domain.saved_replies import ANY_ROUTE, SavedReply, template_problems

if TYPE_CHECKING:
    from aftersales.adapters.policy.file import _Checker

_Table = Mapping[str, object]
SAVED_REPLY_KEYS = ("name", "route", "language", "text")
FAQ_KEYS = ("question", "answer", "keywords", "language")
_ROUTES = (*(route.value for route in Route), ANY_ROUTE)
ROUTE_OR_ANY = rules.Rule(
    f"a route or {ANY_ROUTE!r}: {', '.join(_ROUTES)}",
    lambda value: value if isinstance(value, str) and value in _ROUTES else None,
    ANY_ROUTE,
)
_SAVED_CONTENTS = 'name, text and optional route (default "any") and language (default [store] language)'
_FAQ_CONTENTS = "question, answer and optional keywords and language (default [store] language)"


def saved_replies(check: _Checker, root: _Table, store_language: str) -> tuple[SavedReply, ...]:
    """The optional ``[[saved_replies]]`` array; names are unique (case-insensitive)."""
    found: list[SavedReply] = []
    first_seen: dict[str, str] = {}
    for path, item in check.tables(root, "", "saved_replies", _SAVED_CONTENTS) or []:
        check.unknown_keys(item, path, SAVED_REPLY_KEYS)
        name = check.required(item, path, "name", rules.TEXT).strip()
        if name.casefold() in first_seen:
            check.report(
                f"{path}.name",
                f"repeats the name {name!r} of {first_seen[name.casefold()]}; each saved reply needs "
                "its own name (the composer lists them by name)",
            )
        elif name:
            first_seen[name.casefold()] = path
        text = check.required(item, path, "text", rules.TEXT)
        for problem in template_problems(text):
            check.report(f"{path}.text", f"the saved reply {name or '(no name)'!r} {problem}")
        route = check.optional(item, path, "route", ROUTE_OR_ANY) or ANY_ROUTE
        language = check.optional(item, path, "language", rules.LANGUAGE) or store_language
        found.append(
            SavedReply(
                name=name,
                text=text,
                language=language,
                route=None if route == ANY_ROUTE else Route(route),
            )
        )
    return tuple(found)


def faq(check: _Checker, root: _Table, store_language: str) -> tuple[FaqEntry, ...]:
    """The optional ``[[faq]]`` array: the store's FAQ entries, matched by keyword overlap."""
    found: list[FaqEntry] = []
    for path, item in check.tables(root, "", "faq", _FAQ_CONTENTS) or []:
        check.unknown_keys(item, path, FAQ_KEYS)
        entry = FaqEntry(
            question=check.required(item, path, "question", rules.TEXT),
            answer=check.required(item, path, "answer", rules.TEXT),
            keywords=check.values(item, path, "keywords", rules.TEXT) or (),
            language=check.optional(item, path, "language", rules.LANGUAGE) or store_language,
        )
        if entry.question and not entry.terms:
            check.report(
                f"{path}.keywords" if entry.keywords else f"{path}.question",
                "has no word to match a customer's message on (only words like 'is', 'do', 'the'); "
                'add keywords, e.g. keywords = ["dishwasher", "safe"]',
            )
        found.append(entry)
    return tuple(found)

"""The store's published policy texts (refund, return, shipping) and their versions: the
"policy page version" an order was placed under is evidence in a dispute or a return.

A version's identity is the SHA-256 of its texts, canonically joined: the same texts give the
same hash whatever the file's line endings or surrounding blank lines.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from aftersales.domain.errors import InputError


class PolicyKind(StrEnum):
    """The kinds of policy text a store publishes; stable in the database (``texts`` keys)."""

    REFUND = "refund"
    RETURN = "return"
    SHIPPING = "shipping"


@dataclass(frozen=True, slots=True)
class PolicyTexts:
    """Policy texts by kind; a kind the store has not published is absent."""

    texts: Mapping[PolicyKind, str] = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        """The hex SHA-256 of the texts as canonical JSON (kinds sorted, UTF-8, no spaces)."""
        canonical = json.dumps(
            {kind.value: text for kind, text in self.texts.items()},
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def with_changes(self, changes: Mapping[PolicyKind, str]) -> PolicyTexts:
        """These texts with ``changes`` replacing their kinds; the other kinds carry over."""
        merged = {**self.texts, **{kind: checked_text(kind, text) for kind, text in changes.items()}}
        return PolicyTexts({kind: merged[kind] for kind in PolicyKind if kind in merged})


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyVersion:
    """One stored version of the texts, in force from ``effective_at`` until a later one is."""

    version: int  # 1, 2, 3 … in the order added
    sha256: str
    texts: PolicyTexts
    effective_at: datetime
    added_at: datetime
    added_by: str = ""

    @property
    def label(self) -> str:
        """How orders name it (``orders.policy_version``): "v3"."""
        return f"v{self.version}"


def checked_text(kind: PolicyKind, text: str, where: str = "") -> str:
    """The text with its line endings and surrounding blank space normalised; an empty text
    raises InputError (a store that has no such policy leaves the kind out)."""
    normalised = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not normalised:
        raise InputError(f"the {kind.value} policy text is empty", where)
    return normalised


# What a return policy should tell a buyer (the seed's return-policy evidence): how long they
# have, who pays to send it back, and what they must show. Checked on the visible text.
_NUMBER_WORDS = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|fourteen|fifteen|twenty|thirty|sixty|ninety)"
)
_WINDOW = re.compile(
    rf"\b(?:\d+|{_NUMBER_WORDS})(?:[\s-]+(?:calendar|business|working))?[\s-]+(?:days?|weeks?|months?)\b"
)
_WHO_PAYS = re.compile(
    r"\b(?:return\s+(?:shipping|postage|label|delivery)|free\s+returns?|prepaid(?:\s+return)?\s+label"
    r"|(?:shipping|postage|delivery)\s+(?:costs?|fees?)|return\s+(?:costs?|fees?)|restocking\s+fee)"
)
_PROOF = re.compile(
    r"\b(?:proof|receipts?|order\s+(?:number|confirmation)|photos?|pictures?|images?|unused|unworn"
    r"|original\s+(?:packaging|condition|tags|box)|tags\s+attached)\b"
)
_TAG = re.compile(r"<[^>]*>")
RETURN_POLICY_CHECKS = (
    (_WINDOW, 'the return window (e.g. "within 30 days of delivery")'),
    (_WHO_PAYS, 'who pays return shipping (e.g. "the buyer pays return shipping")'),
    (_PROOF, 'the proof required (e.g. "order number and photos; unused, in original packaging")'),
)


def visible_text(text: str) -> str:
    """The words a reader sees: HTML tags dropped and entities decoded, lower-cased."""
    return html.unescape(_TAG.sub(" ", text)).casefold()


def return_policy_warnings(text: str) -> tuple[str, ...]:
    """What the return policy does not state, one warning each; () when it states all."""
    seen = visible_text(text)
    return tuple(
        f"the return policy does not state {missing}"
        for pattern, missing in RETURN_POLICY_CHECKS
        if not pattern.search(seen)
    )

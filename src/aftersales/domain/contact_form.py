"""The public contact form's limits: how many posts an address and a client may make.

The form needs no account, so anyone can post it as anyone: its posts are counted per e-mail
address and per client address over a sliding window, and a post over either limit is
refused before anything is stored. The counts live in the database, so every server process
counts the same posts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

# A field a person never sees (hidden by the style sheet, skipped by the keyboard and screen
# readers) and a form-filling bot fills: a post that fills it is thanked and dropped.
HONEYPOT_FIELD = "website"

# what the contact form offers, in a buyer's words, and the words routing reads from it
CONTACT_ISSUES = {
    "where_is_my_order": "Where is my order?",
    "damaged": "My order arrived damaged",
    "wrong_item": "I received the wrong item",
    "return": "I want to return or exchange",
    "refund": "A question about a refund",
    "change_order": "Change or cancel my order",
    "question": "A question before buying",
    "other": "Something else",
}


@dataclass(frozen=True, slots=True)
class ContactLimits:
    per_address: int = 5  # posts per e-mail address in ``window``
    per_client: int = 20  # posts per client (IP) address in ``window``
    window: timedelta = timedelta(hours=1)


def post_keys(email: str, client: str) -> dict[str, str]:
    """The counters a post from ``email`` by ``client`` adds to, by what they count."""
    return {"address": f"email:{email.strip().casefold()}", "client": f"ip:{client.strip() or 'unknown'}"}


def refusal(counts: Mapping[str, int], limits: ContactLimits) -> str | None:
    """Why one more post is refused, given the posts each counter already holds in the
    window (by the names ``post_keys`` gives), or None when it is accepted."""
    minutes = int(limits.window.total_seconds() // 60)
    if counts.get("address", 0) >= limits.per_address:
        return f"this e-mail address has sent {limits.per_address} messages in the last {minutes} minutes"
    if counts.get("client", 0) >= limits.per_client:
        return f"{limits.per_client} messages were sent from your network in the last {minutes} minutes"
    return None

"""The collision guard: a reply or a status move made on a page that did not see the case's
latest changes is refused, so two agents never answer one customer with two different mails.

A page carries the highest timeline event id it showed (``seen_event_id``). Before a reply or
a status move is stored, the events after it are read inside the same transaction, with the
case row locked: a change that alters what the agent would say blocks (the customer wrote,
someone replied, moved the status, the route, the lead or the decision, a dispute came). A
note or an evidence mark is shown with the blocking changes but does not block on its own,
and the desk's own bookkeeping (clock warnings, acknowledgements) is neither.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# What changes the answer: the agent must read it before writing.
BLOCKING_KINDS = frozenset(
    {
        "message_received",
        "reply_sent",
        "status_changed",
        "rerouted",
        "routed",
        "decision_recorded",
        "lead_assigned",
        "assigned",
        "escalated",
        "dispute_opened",
        "dispute_updated",
    }
)
# Worth reading, never a reason to refuse on its own.
SHOWN_KINDS = frozenset(
    {"note_added", "evidence_marked", "route_confirmed", "sender_marked", "escalation_needed"}
)
# What a person reads for each kind, in the list of what changed.
CHANGE_WORDS: Mapping[str, str] = {
    "message_received": "the customer wrote again",
    "reply_sent": "replied to the customer",
    "status_changed": "moved the status",
    "rerouted": "changed the route",
    "routed": "changed the route",
    "decision_recorded": "recorded a decision",
    "lead_assigned": "changed the lead",
    "assigned": "assigned the case",
    "escalated": "escalated the case",
    "dispute_opened": "a payment dispute was opened",
    "dispute_updated": "the payment dispute changed",
    "note_added": "added a note",
    "evidence_marked": "marked evidence",
    "route_confirmed": "confirmed the route",
    "sender_marked": "the sender was marked",
    "escalation_needed": "the case needs escalating",
}


def changes_after(timeline: Sequence[Mapping[str, Any]], seen_event_id: int) -> list[Mapping[str, Any]]:
    """The entries of a timeline after the one the page showed last that a person should read."""
    return [
        e
        for e in timeline
        if int(e["id"]) > seen_event_id and (e["kind"] in BLOCKING_KINDS or e["kind"] in SHOWN_KINDS)
    ]


def blocks(changes: Sequence[Mapping[str, Any]]) -> bool:
    """True when one of the changes alters what a reply or a status move should be."""
    return any(e["kind"] in BLOCKING_KINDS for e in changes)


def change_summary(entry: Mapping[str, Any]) -> str:
    """One line a person reads: 'Sam replied to the customer', 'The customer wrote again'."""
    kind = str(entry["kind"])
    data = entry.get("data") or {}
    words = CHANGE_WORDS.get(kind, kind.replace("_", " "))
    moved_to = str(data.get("to") or data.get("route") or "").replace("_", " ")
    if kind in {"status_changed", "rerouted", "routed"} and moved_to:
        words = f"{words} to {moved_to}"
    actor = str(entry.get("actor") or "")
    if actor in _NOBODY or words.startswith(("the ", "a ")):
        passive = _PASSIVE.get(kind, words)
        if kind in {"status_changed", "rerouted", "routed"} and moved_to:
            passive = f"{passive} to {moved_to}"
        return passive[0].upper() + passive[1:]
    return f"{actor} {words}"


# actors that are not a person of the desk: their changes read without a subject
_NOBODY = frozenset({"", "customer", "router", "system", "shopify"})
_PASSIVE: Mapping[str, str] = {
    "status_changed": "the status moved",
    "rerouted": "the route changed",
    "routed": "the route changed",
    "escalated": "the case was escalated",
}

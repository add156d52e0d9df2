"""The rules of the history import: what a conversation from another tool becomes on the
desk (its status, times, route from a tag, the hours it took), the keys that make the import
idempotent, and the tag-to-route suggestions. Pure: the service routes, the adapter stores.

The timeline of an imported case holds ``history_opened`` (when the old tool opened it),
``history_closed`` (when it closed it, for a closed one) and ``imported`` (the moment it was
imported). The clocks count nothing before the newest ``imported`` event
(services/clocks.py): the old tool's waits are history, never a breach now; a customer who
writes again after the import starts the clocks as on any case.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aftersales.domain.cases import CaseStatus, Event
from aftersales.domain.history import HistoryConversation, HistoryDirection, HistoryMessage
from aftersales.domain.messages import Direction
from aftersales.domain.routes import Route, risk_rank
from aftersales.domain.sla.calendar import BusinessCalendar, business_minutes

IMPORTED = "imported"  # the clocks count nothing before the newest event of this kind
HISTORY_OPENED = "history_opened"
HISTORY_CLOSED = "history_closed"
HISTORY_ACTOR = "history import"

# the statuses of the ``aftersales`` format (vendor adapters map theirs to open or closed)
STATUSES: Mapping[str, CaseStatus] = {
    "open": CaseStatus.OPEN,
    "pending": CaseStatus.WAITING_ON_CUSTOMER,
    "resolved": CaseStatus.RESOLVED,
    "closed": CaseStatus.CLOSED,
}
DIRECTIONS: Mapping[HistoryDirection, Direction] = {
    HistoryDirection.IN: Direction.INBOUND,
    HistoryDirection.OUT: Direction.OUTBOUND,
    HistoryDirection.NOTE: Direction.NOTE,
}
_EMAIL_WIDTH = 320  # an address is at most 320 characters (RFC 3696); a longer one is no address
_KEY_LIMIT = 1000  # the messages' dedupe_key column holds 1,100 characters


def case_status(conversation: HistoryConversation) -> CaseStatus:
    """The desk status of the conversation's status ("open" for one this desk does not name)."""
    return STATUSES.get(conversation.status.strip().lower(), CaseStatus.OPEN)


def message_key(conversation: HistoryConversation, message: HistoryMessage) -> str:
    """The imported message's ``dedupe_key``: one per source, conversation and message, so a
    second import finds it (a long key is hashed to fit its column)."""
    key = f"history:{conversation.source.value}:{conversation.id}:{message.id}"
    if len(key) <= _KEY_LIMIT:
        return key
    return f"history:{conversation.source.value}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def message_header_id(conversation: HistoryConversation, message: HistoryMessage) -> str:
    """The stored Message-ID: the message's own when it is one (an mbox's), so a customer's
    reply to old mail threads onto its case; else one made from the source's ids."""
    own = message.id.strip()
    if own.startswith("<") and own.endswith(">") and "@" in own and len(own) <= 998:
        return own
    digest = hashlib.sha256(message_key(conversation, message).encode()).hexdigest()[:32]
    return f"<history.{digest}@{conversation.source.value}.invalid>"


def first_inbound(conversation: HistoryConversation) -> HistoryMessage | None:
    return next((m for m in _by_time(conversation) if m.direction is HistoryDirection.IN), None)


def opening_text(conversation: HistoryConversation) -> str:
    """What the router reads and a label keeps: the subject and the first customer message
    (the first message of any kind when the customer never wrote)."""
    said = [m for m in _by_time(conversation) if m.direction is not HistoryDirection.NOTE]
    opening = first_inbound(conversation) or (said[0] if said else None)
    parts = [conversation.subject.strip(), opening.body.strip() if opening else ""]
    return "\n\n".join(p for p in parts if p)


def is_since(conversation: HistoryConversation, since: datetime | None) -> bool:
    """Whether ``--since`` keeps the conversation: opened at or after ``since``."""
    return since is None or conversation.created_at >= since


def tag_route(tags: Iterable[str], tag_routes: Mapping[str, Route]) -> tuple[str, Route] | None:
    """The (tag, route) a conversation's tags map to (keys compared without case); of two
    mapped tags the riskier route wins, as a case takes the riskier of two readings."""
    mapped = [
        (tag, tag_routes[tag.strip().casefold()]) for tag in tags if tag.strip().casefold() in tag_routes
    ]
    if not mapped:
        return None
    return min(mapped, key=lambda pair: risk_rank(pair[1]))


@dataclass(frozen=True, slots=True)
class HistoryHours:
    """The conversation's clocks as history, in business hours: from the first customer
    message to the first reply after it, and to its close (None when it never happened)."""

    first_response: float | None
    resolution: float | None


def history_hours(conversation: HistoryConversation, calendar: BusinessCalendar) -> HistoryHours:
    opening = first_inbound(conversation)
    if opening is None:
        return HistoryHours(None, None)
    reply = next(
        (m for m in _by_time(conversation) if m.direction is HistoryDirection.OUT and m.at >= opening.at),
        None,
    )
    first = round(business_minutes(opening.at, reply.at, calendar) / 60, 2) if reply else None
    closed = resolved_at(conversation)
    resolution = round(business_minutes(opening.at, closed, calendar) / 60, 2) if closed else None
    return HistoryHours(first, resolution)


def opened_at(conversation: HistoryConversation) -> datetime:
    times = [conversation.created_at, *(m.at for m in conversation.messages)]
    return min(times)


def resolved_at(conversation: HistoryConversation) -> datetime | None:
    """When a resolved or closed conversation ended: its close time, else its last message."""
    if case_status(conversation) not in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        return None
    return conversation.closed_at or last_at(conversation)


def last_at(conversation: HistoryConversation) -> datetime:
    return max([conversation.created_at, *(m.at for m in conversation.messages)])


def history_events(
    conversation: HistoryConversation, hours: HistoryHours, routed_by: str, now: datetime
) -> list[Event]:
    """The imported case's timeline: opened and closed in the old tool, and the import."""
    source = conversation.source.value
    who = conversation.customer_email or "customer"
    events = [
        Event(
            HISTORY_OPENED,
            opened_at(conversation),
            who,
            {"source": source, "conversation_id": conversation.id, "tags": list(conversation.tags)},
        )
    ]
    closed = resolved_at(conversation)
    if closed is not None:
        events.append(
            Event(
                HISTORY_CLOSED,
                closed,
                conversation.assignee or source,
                {"status": case_status(conversation).value},
            )
        )
    events.append(
        Event(
            IMPORTED,
            now,
            HISTORY_ACTOR,
            {
                "source": source,
                "conversation_id": conversation.id,
                "status": conversation.status,
                "assignee": conversation.assignee,
                "routed_by": routed_by,
                "first_response_hours": hours.first_response,
                "resolution_hours": hours.resolution,
            },
        )
    )
    return events


def clocks_count_from(events: Sequence[Mapping[str, Any]]) -> datetime | None:
    """The moment the desk's clocks count from: the newest import of the case (None: a case
    of this desk, whose whole timeline counts)."""
    return max((e["at"] for e in events if e["kind"] == IMPORTED), default=None)


def _by_time(conversation: HistoryConversation) -> list[HistoryMessage]:
    return sorted(conversation.messages, key=lambda m: m.at)  # stable: the file's order on ties


# --------------------------------------------------------------------------- tag routes


@dataclass(frozen=True, slots=True)
class TagSuggestion:
    """A tag of the old tool: how many conversations carry it, and the route the router gives
    most of them (with the share that route has)."""

    tag: str
    conversations: int
    route: Route
    share: float


def suggest_tag_routes(tagged: Iterable[tuple[Sequence[str], Route]]) -> list[TagSuggestion]:
    """Each tag by frequency (most first, then by name), with the majority route of the
    conversations carrying it (ties: the riskier route)."""
    routes: dict[str, Counter[Route]] = defaultdict(Counter)
    spelling: dict[str, str] = {}
    for tags, route in tagged:
        for tag in {t.strip().casefold(): t.strip() for t in tags if t.strip()}.items():
            spelling.setdefault(tag[0], tag[1])
            routes[tag[0]][route] += 1
    found = []
    for key, counter in routes.items():
        total = sum(counter.values())
        route, hits = min(counter.items(), key=lambda pair: (-pair[1], risk_rank(pair[0])))
        found.append(TagSuggestion(spelling[key], total, route, hits / total))
    return sorted(found, key=lambda s: (-s.conversations, s.tag.casefold()))


def tag_routes_toml(suggestions: Sequence[TagSuggestion]) -> str:
    """The ``[history.tag_routes]`` table to paste into the policy file."""
    lines = ["[history.tag_routes]"]
    for s in suggestions:
        lines.append(
            f'{_toml_key(s.tag)} = "{s.route.value}"  # {s.conversations} conversation{"" if s.conversations == 1 else "s"}, {s.share:.0%}'
        )
    return "\n".join(lines) + "\n"


def _toml_escape(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _toml_key(tag: str) -> str:
    if tag and all(c.isascii() and (c.isalnum() or c in "-_") for c in tag):
        return tag
    escaped = tag.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(c if c.isprintable() else _toml_escape(c) for c in escaped)
    return f'"{escaped}"'


# --------------------------------------------------------------------------- what is stored


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryCase:
    """A conversation as the case it becomes: what the history import stores."""

    conversation: HistoryConversation
    route: Route
    confidence: float
    route_check: str  # says it was imported, and where its route came from
    lead_role: str
    lead_name: str
    status: CaseStatus
    clocks: list[dict[str, Any]]  # as the desk's clocks read them now: none running
    risk: int
    next_due_at: datetime | None
    hours: HistoryHours
    events: tuple[Event, ...]
    label: tuple[str, str] | None  # (the opening text, who labelled it) when a tag named the route
    next_check_at: datetime | None = None  # when the SLA tick must look (None: at its next run)


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryAddition:
    """Messages of a conversation imported before that its new export brings."""

    case_id: int
    conversation: HistoryConversation
    messages: tuple[HistoryMessage, ...]


def customer_email(conversation: HistoryConversation) -> str:
    """The customer's address: the conversation's, else its first customer message's sender
    when that is an address; "" when neither is."""
    email = conversation.customer_email.strip().lower()
    if not email:
        opening = first_inbound(conversation)
        sender = opening.sender.strip().lower() if opening else ""
        email = sender if "@" in sender and " " not in sender else ""
    return email if len(email) <= _EMAIL_WIDTH else ""

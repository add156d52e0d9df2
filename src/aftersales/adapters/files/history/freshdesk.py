"""Freshdesk tickets with their conversations, read into history conversations.

Read as the Freshdesk API v2 writes them (docs/history-formats.md names the calls): tickets as
View a Ticket gives them with ``include=conversations,requester,stats``, one a line, as a list
(List All Tickets is a bare list), or as ``{"tickets": [...]}``; with the conversations in
each ticket or beside them as ``"conversations": {"<ticket id>": [...]}`` (one List All
Conversations of a Ticket response each). ``"agents"`` (List All Agents) and ``"contacts"``
(List All Contacts) beside the tickets give the assignee's and the requester's addresses.

The ticket's description is its first message, from the requester (from the agent when the
ticket was an outbound e-mail, ``source`` 10). A ``private`` conversation is a note; an
``incoming`` one is from the customer; any other is a reply. Statuses 2 (open) and 3
(pending) are open, 4 (resolved) and 5 (closed) closed, and a custom status (6 and up) open.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path

from aftersales.adapters.files.history.vendor_json import (
    SUBJECT_WIDTH,
    Record,
    address,
    body,
    has_any_key,
    has_keys,
    head,
    identifier,
    in_time_order,
    items,
    looks_like_json,
    moment,
    name,
    optional_moment,
    optional_record,
    order_field,
    read_export,
    record,
    size,
    tag_names,
    text,
    where_with_id,
)
from aftersales.domain.history import (
    BadRecord,
    HistoryAttachment,
    HistoryConversation,
    HistoryDirection,
    HistoryFormat,
    HistoryMessage,
)
from aftersales.domain.values import BadValue

_LISTS = (("tickets",), ("ticket",))
_OPEN_STATUSES = frozenset({2, 3})
_CLOSED_STATUSES = frozenset({4, 5})
_OUTBOUND_EMAIL = 10  # the ticket's source when an agent wrote first


@dataclass(frozen=True, slots=True)
class _Person:
    email: str
    name: str


@dataclass(frozen=True, slots=True)
class _Tables:
    people: Mapping[str, _Person]  # agents and contacts by id
    conversations: Mapping[str, object]  # ticket id -> its conversations


def sniff(path: Path) -> bool:
    """Whether the file looks like a Freshdesk export: ``requester_id`` with a key only
    Freshdesk uses (``responder_id``, ``fr_due_by``, ``description_text``)."""
    start = head(path)
    return (
        looks_like_json(start)
        and has_keys(start, "requester_id")
        and has_any_key(start, "responder_id", "fr_due_by", "description_text", "fr_escalated")
    )


def read(path: Path) -> Iterator[HistoryConversation | BadRecord]:
    """Every ticket of the export at ``path`` as a conversation, or the problem with it."""
    export = read_export(path, lists=_LISTS, label="ticket")
    tables = _tables(export.document)
    for located in export.records:
        if isinstance(located, BadRecord):
            yield located
            continue
        where, raw = located
        try:
            yield _conversation(raw, tables)
        except BadValue as problem:
            yield BadRecord(where=where_with_id(where, raw), problem=problem.reason)


def _tables(document: Record) -> _Tables:
    people: dict[str, _Person] = {}
    for key in ("contacts", "agents"):
        found = document.get(key)
        for raw in found if isinstance(found, list) else []:
            entry = optional_record(raw)
            person = optional_record(entry.get("contact")) or entry  # an agent keeps its contact inside
            if person_id := text(entry.get("id")):
                people[person_id] = _Person(address(person.get("email")), name(person.get("name")))
    side = document.get("conversations")
    return _Tables(people, side if isinstance(side, dict) else {})


def _conversation(raw: object, tables: _Tables) -> HistoryConversation:
    ticket = record(raw, "the ticket")
    ticket_id = identifier(ticket.get("id"), "the ticket")
    status = _status(ticket.get("status"))
    created_at = moment(ticket.get("created_at"), "created_at")
    requester = _requester(ticket, tables.people)
    requester_id = text(ticket.get("requester_id"))
    found = ticket.get("conversations")
    conversations = items(
        found if found is not None else tables.conversations.get(ticket_id), "conversations"
    )
    messages = [
        _message(conversation, number, requester_id, requester, tables.people)
        for number, conversation in enumerate(conversations, 1)
    ]
    opening = _description(ticket, created_at, requester, tables.people)
    in_order = in_time_order(([opening] if opening else []) + messages)
    if not in_order:
        raise BadValue("the ticket has no description and no conversations")
    assignee = tables.people.get(text(ticket.get("responder_id")))
    return HistoryConversation(
        source=HistoryFormat.FRESHDESK,
        id=ticket_id,
        subject=text(ticket.get("subject")).strip()[:SUBJECT_WIDTH],
        status=status,
        created_at=created_at,
        closed_at=_closed_at(ticket, in_order) if status == "closed" else None,
        tags=tag_names(items(ticket.get("tags"), "tags")),
        customer_email=requester.email,
        customer_name=requester.name,
        order=order_field(ticket.get("custom_fields")),
        assignee=assignee.email if assignee else "",
        messages=in_order,
    )


def _status(value: object) -> str:
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadValue(f"status {value!r:.40} is not a Freshdesk status number (2 to 5, or a custom one)")
    if value in _CLOSED_STATUSES:
        return "closed"
    if value in _OPEN_STATUSES or value > max(_CLOSED_STATUSES):
        return "open"
    raise BadValue(f"status {value} is not a Freshdesk status number (2 to 5, or a custom one)")


def _closed_at(ticket: Record, messages: tuple[HistoryMessage, ...]) -> datetime:
    """When it was closed or resolved (``stats``, with ``include=stats``), else its last update."""
    stats = optional_record(ticket.get("stats"))
    return (
        optional_moment(stats.get("closed_at"), "stats.closed_at")
        or optional_moment(stats.get("resolved_at"), "stats.resolved_at")
        or optional_moment(ticket.get("updated_at"), "updated_at")
        or messages[-1].at
    )


def _requester(ticket: Record, people: Mapping[str, _Person]) -> _Person:
    given = optional_record(ticket.get("requester"))
    if given:
        return _Person(address(given.get("email")), name(given.get("name")))
    known = people.get(text(ticket.get("requester_id")))
    return known or _Person(address(ticket.get("email")), name(ticket.get("name")))


def _description(
    ticket: Record, created_at: datetime, requester: _Person, people: Mapping[str, _Person]
) -> HistoryMessage | None:
    text_of_it = body(ticket.get("description_text"), ticket.get("description"))
    if not text_of_it:
        return None
    if ticket.get("source") == _OUTBOUND_EMAIL:
        agent = people.get(text(ticket.get("responder_id")))
        direction, sender = HistoryDirection.OUT, (agent.email if agent else "") or "freshdesk agent"
    else:
        direction, sender = HistoryDirection.IN, requester.email or requester.name or "freshdesk requester"
    return HistoryMessage(
        id="description", sender=sender, at=created_at, direction=direction, body=text_of_it
    )


def _message(
    raw: object, number: int, requester_id: str, requester: _Person, people: Mapping[str, _Person]
) -> HistoryMessage:
    what = f"conversation {number}"
    conversation = record(raw, what)
    if conversation.get("private") is True:
        direction = HistoryDirection.NOTE
    elif conversation.get("incoming") is True:
        direction = HistoryDirection.IN
    else:
        direction = HistoryDirection.OUT
    user_id = text(conversation.get("user_id"))
    person = requester if user_id and user_id == requester_id else people.get(user_id)
    sender = address(parseaddr(text(conversation.get("from_email")))[1]) or (person.email if person else "")
    return HistoryMessage(
        id=text(conversation.get("id")).strip() or str(number),
        sender=sender or (f"freshdesk user {user_id}" if user_id else "freshdesk"),
        at=moment(conversation.get("created_at"), f"{what} created_at"),
        direction=direction,
        body=body(conversation.get("body_text"), conversation.get("body")),
        attachments=tuple(
            HistoryAttachment(
                name=text(found.get("name")) or "attachment",
                content_type=text(found.get("content_type")),
                size=size(found.get("size")),
            )
            for found in map(optional_record, items(conversation.get("attachments"), f"{what} attachments"))
        ),
    )

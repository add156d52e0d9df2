"""Gorgias tickets with their messages, read into history conversations.

Read as the Gorgias REST API writes them (docs/history-formats.md names the calls): tickets
with their ``messages`` as Retrieve Ticket gives them, one a line or as a list; or in a list
response ``{"data": [...]}`` (or ``{"tickets": [...]}``), with the messages inside each ticket
or beside them as ``"messages": [...]`` (List Messages, each with its ``ticket_id``).

A message on the ``internal-note`` channel, or one that is not ``public``, is a note; one
``from_agent`` is a reply; any other is from the customer. Gorgias writes its times in UTC,
some without an offset, so a time without one is read as UTC.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
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

_LISTS = (("data",), ("tickets",), ("ticket",))
_STATUSES = {"open": "open", "closed": "closed"}
_NOTE_CHANNEL = "internal-note"


def sniff(path: Path) -> bool:
    """Whether the file looks like a Gorgias export: its ``*_datetime`` times with a key only
    Gorgias uses (``from_agent``, ``assignee_user``, ``messages_count``) or its ticket URIs."""
    start = head(path)
    return looks_like_json(start) and (
        (
            has_keys(start, "created_datetime")
            and has_any_key(start, "from_agent", "assignee_user", "messages_count")
        )
        or '"/api/tickets/' in start
    )


def read(path: Path) -> Iterator[HistoryConversation | BadRecord]:
    """Every ticket of the export at ``path`` as a conversation, or the problem with it."""
    export = read_export(path, lists=_LISTS, label="ticket")
    side = _side_messages(export.document)
    for located in export.records:
        if isinstance(located, BadRecord):
            yield located
            continue
        where, raw = located
        try:
            yield _conversation(raw, side)
        except BadValue as problem:
            yield BadRecord(where=where_with_id(where, raw), problem=problem.reason)


def _side_messages(document: Record) -> Mapping[str, list[object]]:
    found: dict[str, list[object]] = {}
    side = document.get("messages")
    for raw in side if isinstance(side, list) else []:
        found.setdefault(text(optional_record(raw).get("ticket_id")), []).append(raw)
    return found


def _time(value: object, what: str) -> datetime:
    return moment(value, what, naive_is_utc=True)


def _conversation(raw: object, side: Mapping[str, list[object]]) -> HistoryConversation:
    ticket = record(raw, "the ticket")
    ticket_id = identifier(ticket.get("id"), "the ticket")
    found = items(ticket.get("messages"), "messages") or side.get(ticket_id, [])
    messages = in_time_order([_message(message, number) for number, message in enumerate(found, 1)])
    if not messages:
        raise BadValue("the ticket has no messages")
    status_text = text(ticket.get("status")).strip().lower()
    status = _STATUSES.get(status_text)
    if status is None:
        raise BadValue(f"status {status_text or 'missing'!r} is neither open nor closed")
    closed_at = optional_moment(ticket.get("closed_datetime"), "closed_datetime", naive_is_utc=True)
    customer = optional_record(ticket.get("customer"))
    return HistoryConversation(
        source=HistoryFormat.GORGIAS,
        id=ticket_id,
        subject=text(ticket.get("subject")).strip()[:SUBJECT_WIDTH],
        status=status,
        created_at=optional_moment(ticket.get("created_datetime"), "created_datetime", naive_is_utc=True)
        or messages[0].at,
        closed_at=(closed_at or messages[-1].at) if status == "closed" else None,
        tags=tag_names(items(ticket.get("tags"), "tags")),
        customer_email=address(customer.get("email")),
        customer_name=_person_name(customer),
        order=order_field(ticket.get("custom_fields")),
        assignee=address(optional_record(ticket.get("assignee_user")).get("email")),
        messages=messages,
    )


def _person_name(person: Record) -> str:
    return name(person.get("name")) or name(person.get("firstname"), person.get("lastname"))


def _message(raw: object, number: int) -> HistoryMessage:
    what = f"message {number}"
    message = record(raw, what)
    if text(message.get("channel")) == _NOTE_CHANNEL or message.get("public") is False:
        direction = HistoryDirection.NOTE
    elif message.get("from_agent") is True:
        direction = HistoryDirection.OUT
    else:
        direction = HistoryDirection.IN
    sender = optional_record(message.get("sender"))
    source_from = optional_record(optional_record(message.get("source")).get("from"))
    at = message.get("created_datetime") or message.get("sent_datetime")
    return HistoryMessage(
        id=text(message.get("id")).strip() or str(number),
        sender=address(sender.get("email"))
        or address(source_from.get("address"))
        or _person_name(sender)
        or ("gorgias agent" if direction != HistoryDirection.IN else "gorgias customer"),
        at=_time(at, f"{what} created_datetime"),
        direction=direction,
        body=body(
            message.get("stripped_text") or message.get("body_text"),
            message.get("stripped_html") or message.get("body_html"),
        ),
        attachments=tuple(
            HistoryAttachment(
                name=text(found.get("name")) or "attachment",
                content_type=text(found.get("content_type")),
                size=size(found.get("size")),
            )
            for found in map(optional_record, items(message.get("attachments"), f"{what} attachments"))
        ),
    )

"""Zendesk tickets with their comments and users, read into history conversations.

Read as the Zendesk Support API writes them (docs/history-formats.md names the calls):
``{"tickets": [...], "users": [...]}`` from List Tickets or the incremental ticket export with
``include=users``, or ``{"ticket": {...}, "users": [...]}`` from Show Ticket; comments either
inside each ticket (``"comments": [...]``, as the full JSON export writes a ticket a line),
beside the tickets as ``"comments": {"<ticket id>": [...]}`` (one List Comments response per
ticket), or as ``"ticket_events"`` of the incremental ticket event export with
``include=comment_events``, or as one ``"comments"`` list whose comments name their
``ticket_id``. ``ticket_fields`` (List Ticket Fields) names the custom fields, so
an "Order number" field gives the order.

A private comment (``public: false``) is a note; a public one is from the customer when its
author is an end user (``role: "end-user"``) and a reply otherwise. Without the users, the
ticket's requester is the customer and every other author an agent.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
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

_LISTS = (("tickets",), ("results",), ("ticket",))
_OPEN = frozenset({"new", "open", "pending", "hold"})
_CLOSED = frozenset({"solved", "closed"})


@dataclass(frozen=True, slots=True)
class _User:
    email: str
    name: str
    agent: bool  # an agent or admin; an end user is a customer


@dataclass(frozen=True, slots=True)
class _Tables:
    """What a dump holds beside its tickets."""

    users: Mapping[str, _User]
    field_names: Mapping[str, str]  # ticket field id -> title
    comments: Mapping[str, list[object]]  # ticket id -> its comments


def sniff(path: Path) -> bool:
    """Whether the file looks like a Zendesk tickets export: API URLs of Zendesk, or ticket and
    comment keys only Zendesk uses (``requester_id`` with ``submitter_id``, ``via`` or ``author_id``)."""
    start = head(path)
    return looks_like_json(start) and (
        ".zendesk.com/api/v2/" in start
        or (has_keys(start, "requester_id") and has_any_key(start, "submitter_id", "via", "author_id"))
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
    users: dict[str, _User] = {}
    for raw in _list(document.get("users")):
        user = optional_record(raw)
        if user_id := text(user.get("id")):
            agent = text(user.get("role")) in {"agent", "admin"}
            users[user_id] = _User(address(user.get("email")), name(user.get("name")), agent)
    field_names = {
        text(entry.get("id")): text(entry.get("title"))
        for entry in map(optional_record, _list(document.get("ticket_fields")))
    }
    return _Tables(users, field_names, _side_comments(document))


def _side_comments(document: Record) -> dict[str, list[object]]:
    """Comments kept beside the tickets: by ticket id, or as comment events of ticket events."""
    found: dict[str, list[object]] = {}
    side = document.get("comments")
    if isinstance(side, dict):
        found = {str(key): _list(value) for key, value in side.items()}
    for raw in _list(side):  # one list of every comment, each naming its ticket (as ETL tools dump them)
        found.setdefault(text(optional_record(raw).get("ticket_id")), []).append(raw)
    for raw in _list(document.get("ticket_events")):
        event = optional_record(raw)
        for child in map(optional_record, _list(event.get("child_events"))):
            if text(child.get("event_type")) == "Comment":
                # a comment event's time is its parent event's
                comment = {"created_at": event.get("created_at"), **child}
                found.setdefault(text(event.get("ticket_id")), []).append(comment)
    return found


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _conversation(raw: object, tables: _Tables) -> HistoryConversation:
    ticket = record(raw, "the ticket")
    ticket_id = identifier(ticket.get("id"), "the ticket")
    requester_id = text(ticket.get("requester_id"))
    comments = items(ticket.get("comments"), "comments") or tables.comments.get(ticket_id, [])
    messages = in_time_order(
        [_message(comment, number, tables.users, requester_id) for number, comment in enumerate(comments, 1)]
    )
    if not messages:
        raise BadValue("the ticket has no comments")
    status = _status(ticket.get("status"))
    created_at = optional_moment(ticket.get("created_at"), "created_at") or messages[0].at
    customer_email, customer_name = _customer(ticket, tables.users.get(requester_id))
    assignee = tables.users.get(text(ticket.get("assignee_id")))
    return HistoryConversation(
        source=HistoryFormat.ZENDESK,
        id=ticket_id,
        subject=(text(ticket.get("subject")) or text(ticket.get("raw_subject"))).strip()[:SUBJECT_WIDTH],
        status=status,
        created_at=created_at,
        closed_at=_closed_at(ticket, messages) if status == "closed" else None,
        tags=tag_names(items(ticket.get("tags"), "tags")),
        customer_email=customer_email,
        customer_name=customer_name,
        order=order_field(ticket.get("custom_fields"), tables.field_names),
        assignee=(assignee.email if assignee else "") or address(ticket.get("assignee_email")),
        messages=messages,
    )


def _status(value: object) -> str:
    status = text(value).strip().lower()
    if status == "deleted":  # the incremental export lists deleted tickets too
        raise BadValue("the ticket was deleted in Zendesk, so it is not imported")
    if status in _CLOSED:
        return "closed"
    if status in _OPEN:
        return "open"
    raise BadValue(f"status {status or 'missing'!r} is none of new, open, pending, hold, solved, closed")


def _closed_at(ticket: Record, messages: tuple[HistoryMessage, ...]) -> datetime:
    """When it was solved (the ticket's metric set, sideloaded with ``include=metric_sets``),
    else its last update, else its last comment: Zendesk keeps no closing time on a ticket."""
    metrics = optional_record(ticket.get("metric_set"))
    return (
        optional_moment(metrics.get("solved_at"), "metric_set.solved_at")
        or optional_moment(ticket.get("updated_at"), "updated_at")
        or messages[-1].at
    )


def _customer(ticket: Record, requester: _User | None) -> tuple[str, str]:
    if requester is not None and (requester.email or requester.name):
        return requester.email, requester.name
    given = optional_record(ticket.get("requester"))
    if given:
        return address(given.get("email")), name(given.get("name"))
    source = optional_record(optional_record(ticket.get("via")).get("source"))
    sender = optional_record(source.get("from"))
    return address(sender.get("address")), name(sender.get("name"))


def _message(raw: object, number: int, users: Mapping[str, _User], requester_id: str) -> HistoryMessage:
    what = f"comment {number}"
    comment = record(raw, what)
    author_id = text(comment.get("author_id"))
    author = users.get(author_id)
    if comment.get("public") is False:
        direction = HistoryDirection.NOTE
    elif author is not None:
        direction = HistoryDirection.OUT if author.agent else HistoryDirection.IN
    else:
        direction = HistoryDirection.IN if author_id and author_id == requester_id else HistoryDirection.OUT
    sender = (author.email or author.name) if author is not None else ""
    return HistoryMessage(
        id=text(comment.get("id")).strip() or str(number),
        sender=sender or (f"zendesk user {author_id}" if author_id else "zendesk"),
        at=moment(comment.get("created_at"), f"{what} created_at"),
        direction=direction,
        body=body(comment.get("plain_body") or comment.get("body"), comment.get("html_body")),
        attachments=tuple(
            HistoryAttachment(
                name=text(found.get("file_name")) or "attachment",
                content_type=text(found.get("content_type")),
                size=size(found.get("size")),
            )
            for found in map(optional_record, items(comment.get("attachments"), f"{what} attachments"))
        ),
    )

"""Help Scout conversations with their threads, read into history conversations.

Read as the Mailbox API 2.0 writes them (docs/history-formats.md names the calls): List
Conversations or Get Conversation with ``embed=threads`` (the threads in each conversation's
``_embedded.threads``), one a line, as a list, or as the list response
``{"_embedded": {"conversations": [...]}}``; or with the threads beside the conversations as
``"threads": {"<conversation id>": [...]}`` (one List Threads response each).

A ``customer`` thread is from the customer; a ``reply`` (or ``message``) is ours; a ``note``
or a forward is a note; a chat or phone thread goes by who created it. Line items (status
changes, assignments) and drafts are not messages and are left out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
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

_LISTS = (("_embedded", "conversations"), ("conversations",), ("conversation",))
_STATUSES = {"active": "open", "open": "open", "pending": "open", "closed": "closed", "spam": "closed"}
_DIRECTIONS = {
    "customer": HistoryDirection.IN,
    "reply": HistoryDirection.OUT,
    "message": HistoryDirection.OUT,  # a conversation started by an agent
    "note": HistoryDirection.NOTE,
    "forwardparent": HistoryDirection.NOTE,  # forwarded to someone else, not the customer
    "forwardchild": HistoryDirection.NOTE,
}
_SKIPPED_TYPES = frozenset({"lineitem"})
_SKIPPED_STATES = frozenset({"draft", "underreview"})


def sniff(path: Path) -> bool:
    """Whether the file looks like a Help Scout export: camel-case ``createdAt`` with a key
    only Help Scout uses (``primaryCustomer``, ``mailboxId``, ``customerWaitingSince``)."""
    start = head(path)
    return (
        looks_like_json(start)
        and has_keys(start, "createdAt")
        and has_any_key(start, "primaryCustomer", "mailboxId", "customerWaitingSince")
    )


def read(path: Path) -> Iterator[HistoryConversation | BadRecord]:
    """Every conversation of the export at ``path``, or the problem with it."""
    export = read_export(path, lists=_LISTS, label="conversation")
    side = export.document.get("threads")
    threads: Mapping[str, object] = side if isinstance(side, dict) else {}
    for located in export.records:
        if isinstance(located, BadRecord):
            yield located
            continue
        where, raw = located
        try:
            yield _conversation(raw, threads)
        except BadValue as problem:
            yield BadRecord(where=where_with_id(where, raw), problem=problem.reason)


def _conversation(raw: object, side: Mapping[str, object]) -> HistoryConversation:
    conversation = record(raw, "the conversation")
    conversation_id = identifier(conversation.get("id"), "the conversation")
    embedded = optional_record(conversation.get("_embedded")).get("threads")
    threads = items(embedded if embedded is not None else side.get(conversation_id), "threads")
    messages = in_time_order(
        [_message(thread, number) for number, thread in enumerate(threads, 1) if not _skipped(thread)]
    )
    if not messages:
        raise BadValue("the conversation has no threads")
    status_text = text(conversation.get("status")).strip().lower()
    status = _STATUSES.get(status_text)
    if status is None:
        raise BadValue(f"status {status_text or 'missing'!r} is none of active, pending, closed, spam")
    customer = _customer(conversation)
    closed_at = optional_moment(conversation.get("closedAt"), "closedAt")
    return HistoryConversation(
        source=HistoryFormat.HELPSCOUT,
        id=conversation_id,
        subject=text(conversation.get("subject")).strip()[:SUBJECT_WIDTH],
        status=status,
        created_at=optional_moment(conversation.get("createdAt"), "createdAt") or messages[0].at,
        closed_at=(closed_at or messages[-1].at) if status == "closed" else None,
        tags=tag_names(items(conversation.get("tags"), "tags"), key="tag"),
        customer_email=address(customer.get("email")),
        customer_name=name(customer.get("first"), customer.get("last")),
        order=order_field(conversation.get("customFields")),
        assignee=address(optional_record(conversation.get("assignee")).get("email")),
        messages=messages,
    )


def _skipped(raw: object) -> bool:
    thread = optional_record(raw)
    return text(thread.get("type")) in _SKIPPED_TYPES or text(thread.get("state")) in _SKIPPED_STATES


def _customer(conversation: Record) -> Record:
    for key in ("primaryCustomer", "customer"):
        if found := optional_record(conversation.get(key)):
            return found
    created_by = optional_record(conversation.get("createdBy"))
    return created_by if text(created_by.get("type")) == "customer" else {}


def _message(raw: object, number: int) -> HistoryMessage:
    what = f"thread {number}"
    thread = record(raw, what)
    author = optional_record(thread.get("createdBy"))
    direction = _DIRECTIONS.get(text(thread.get("type")))
    if direction is None:  # chat, phone, beaconchat: whoever wrote it
        direction = HistoryDirection.IN if text(author.get("type")) == "customer" else HistoryDirection.OUT
    attachments = optional_record(thread.get("_embedded")).get("attachments")
    customer = optional_record(thread.get("customer")) if direction == HistoryDirection.IN else {}
    return HistoryMessage(
        id=text(thread.get("id")).strip() or str(number),
        sender=address(author.get("email"))
        or address(customer.get("email"))
        or name(author.get("first"), author.get("last"))
        or ("help scout customer" if direction == HistoryDirection.IN else "help scout user"),
        at=moment(thread.get("createdAt"), f"{what} createdAt"),
        direction=direction,
        # thread bodies are HTML
        body=body("", thread.get("body")),
        attachments=tuple(
            HistoryAttachment(
                name=text(found.get("filename")) or "attachment",
                content_type=text(found.get("mimeType")),
                size=size(found.get("size")),
            )
            for found in map(optional_record, items(attachments, f"{what} attachments"))
        ),
    )

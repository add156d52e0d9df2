"""Conversations from another tool's history (Zendesk, Gorgias, Help Scout, Freshdesk, an
mbox, or our own JSON-lines format), in one shape: every format's adapter reads its file into
these, and the history import stores them as closed or open cases marked as imported. See
docs/history-import.md for the ``aftersales`` JSON-lines format these mirror."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class HistoryFormat(StrEnum):
    AFTERSALES = "aftersales"
    ZENDESK = "zendesk"
    GORGIAS = "gorgias"
    HELPSCOUT = "helpscout"
    FRESHDESK = "freshdesk"
    MBOX = "mbox"


class HistoryDirection(StrEnum):
    IN = "in"  # from the customer
    OUT = "out"  # a reply to the customer
    NOTE = "note"  # an internal note


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryAttachment:
    name: str
    content_type: str = ""
    size: int = 0  # bytes; the file itself is not imported


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryMessage:
    id: str  # the source's id of the message (unique within its conversation)
    sender: str  # an e-mail address or an agent's name ("from" in the JSON-lines format)
    at: datetime  # timezone-aware
    direction: HistoryDirection
    body: str
    attachments: tuple[HistoryAttachment, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryConversation:
    """One conversation as the old tool kept it; ``id`` is the source's id (the import is
    idempotent by ``(source, id)``)."""

    source: HistoryFormat
    id: str
    subject: str
    status: str  # "open" or "closed" (each adapter maps its tool's statuses to these)
    created_at: datetime
    closed_at: datetime | None
    tags: tuple[str, ...] = ()
    customer_email: str = ""
    customer_name: str = ""
    order: str = ""  # the order number, "" when none was named
    assignee: str = ""  # the agent's e-mail address, "" when unassigned
    messages: tuple[HistoryMessage, ...] = field(default=())


@dataclass(frozen=True, slots=True, kw_only=True)
class BadRecord:
    """A record an adapter could not read: where it is (a line, or a file and an index) and
    what is wrong. The import reports it and skips it."""

    where: str  # "line 17", "tickets.json #4", "message 12 of the mbox"
    problem: str

"""Our own history format: JSON lines, one conversation a line (docs/history-import.md).

Read a line at a time, so a file of any size streams. A line that is not a conversation (not
JSON, no id, a time without an offset, no messages, an unknown direction, ...) becomes a
``BadRecord("line N", what is wrong)`` and the next line is read; nothing here raises for what
a line holds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from aftersales.domain.history import (
    BadRecord,
    HistoryAttachment,
    HistoryConversation,
    HistoryDirection,
    HistoryFormat,
    HistoryMessage,
)
from aftersales.domain.history_import import STATUSES
from aftersales.domain.values import BadValue, read_iso_datetime, shown

# one conversation's line at most; a longer one is reported, not parsed (a runaway line)
MAX_LINE_BYTES = 20 * 1024 * 1024
_DIRECTIONS = ", ".join(d.value for d in HistoryDirection)
_STATUSES = ", ".join(STATUSES)


class _Bad(ValueError):
    """What is wrong with the line being read."""


def read(path: Path) -> Iterator[HistoryConversation | BadRecord]:
    """Every conversation of the file, and a BadRecord for each line that is not one.
    Raises OSError when the file cannot be opened or read."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            yield read_line(raw, number)


def read_line(raw: bytes, number: int) -> HistoryConversation | BadRecord:
    """One line of the file: its conversation, or what is wrong with it."""
    where = f"line {number}"
    if len(raw) > MAX_LINE_BYTES:
        return BadRecord(
            where=where,
            problem=f"the line is {len(raw):,} bytes; a conversation is at most {MAX_LINE_BYTES:,}",
        )
    try:
        text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
    except UnicodeDecodeError:
        return BadRecord(where=where, problem="the line is not UTF-8 text")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as error:  # RecursionError: a line nested thousands deep
        return BadRecord(
            where=where,
            problem=f"not valid JSON ({error})" if isinstance(error, ValueError) else "not valid JSON",
        )
    try:
        return _conversation(data)
    except (_Bad, BadValue) as problem:
        return BadRecord(where=where, problem=str(problem))


def sniff(path: Path) -> bool:
    """Whether the file looks like ours: its first non-blank line a JSON object with an id
    and a list of messages."""
    try:
        with path.open("rb") as handle:
            for raw in handle:
                if raw.strip():
                    data = json.loads(raw[:MAX_LINE_BYTES].decode("utf-8-sig"))
                    return isinstance(data, dict) and "id" in data and isinstance(data.get("messages"), list)
    except (OSError, ValueError, RecursionError):
        return False
    return False


def _conversation(data: object) -> HistoryConversation:
    if not isinstance(data, dict):
        raise _Bad(f"a conversation is a JSON object, got {_kind(data)}")
    conversation_id = _id(data.get("id"), "id")
    status = _text(data, "status", default="closed").strip().lower()
    if status not in STATUSES:
        raise _Bad(f"status {shown(status)} is not one of {_STATUSES}")
    created = _time(data.get("created_at"), "created_at")
    closed_raw = data.get("closed_at")
    closed = None if closed_raw in (None, "") else _time(closed_raw, "closed_at")
    raw_messages = data.get("messages")
    if not isinstance(raw_messages, list) or not raw_messages:
        raise _Bad('the conversation has no messages ("messages" must be a non-empty list)')
    messages = tuple(_message(m, index) for index, m in enumerate(raw_messages, start=1))
    ids = [m.id for m in messages]
    if len(set(ids)) != len(ids):
        repeated = next(i for i in ids if ids.count(i) > 1)
        raise _Bad(f"message id {shown(repeated)} appears twice in the conversation")
    customer = data.get("customer") or {}
    if not isinstance(customer, dict):
        raise _Bad(f"customer must be an object with email and name, got {_kind(customer)}")
    tags = data.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise _Bad("tags must be a list of strings")
    order = data.get("order")
    return HistoryConversation(
        source=HistoryFormat.AFTERSALES,
        id=conversation_id,
        subject=_text(data, "subject"),
        status=status,
        created_at=created,
        closed_at=closed,
        tags=tuple(t.strip() for t in tags if t.strip()),
        customer_email=_text(customer, "email", "customer.email").strip().lower(),
        customer_name=_text(customer, "name", "customer.name").strip(),
        order=(str(order) if isinstance(order, int) and not isinstance(order, bool) else _text(data, "order"))
        .strip()
        .lstrip("#"),
        assignee=_text(data, "assignee").strip().lower(),
        messages=messages,
    )


def _message(data: object, index: int) -> HistoryMessage:
    where = f"message {index}"
    if not isinstance(data, dict):
        raise _Bad(f"{where} is not a JSON object, got {_kind(data)}")
    direction = data.get("direction")
    try:
        known = HistoryDirection(direction) if isinstance(direction, str) else None
    except ValueError:
        known = None
    if known is None:
        raise _Bad(f"{where}: direction {shown(direction)} is not one of {_DIRECTIONS}")
    files = data.get("attachments") or []
    if not isinstance(files, list):
        raise _Bad(f"{where}: attachments must be a list")
    return HistoryMessage(
        id=_id(data.get("id"), f"{where}: id"),
        sender=_text(data, "from", f"{where}: from").strip(),
        at=_time(data.get("at"), f"{where}: at"),
        direction=known,
        body=_text(data, "body", f"{where}: body"),
        attachments=tuple(_attachment(f, f"{where}: attachment {n}") for n, f in enumerate(files, start=1)),
    )


def _attachment(data: object, where: str) -> HistoryAttachment:
    if not isinstance(data, dict):
        raise _Bad(f"{where} is not a JSON object, got {_kind(data)}")
    name = _text(data, "name", f"{where}: name").strip()
    if not name:
        raise _Bad(f"{where} has no name")
    size = data.get("size", 0)
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size < 2**62:
        raise _Bad(f"{where}: size must be a whole number of bytes, got {shown(size)}")
    return HistoryAttachment(
        name=name, content_type=_text(data, "content_type", f"{where}: content_type").strip(), size=size
    )


def _id(value: object, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _Bad(f"{what} is missing" if value is None else f"{what} must be a string or a number")
    text = str(value).strip()
    if not text:
        raise _Bad(f"{what} is missing")
    if len(text) > 200:
        raise _Bad(f"{what} is {len(text)} characters; an id is at most 200")
    return text


def _time(value: object, what: str) -> datetime:
    if value is None:
        raise _Bad(f"{what} is missing")
    return read_iso_datetime(value, what)


def _text(data: Mapping[str, Any], key: str, what: str = "", default: str = "") -> str:
    value = data.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise _Bad(f"{what or key} must be a string, got {_kind(value)}")
    return value


def _kind(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true or false"}.get(
        type(value), "null" if value is None else "a number"
    )

"""The history import's storage (services/history_import.py): a chunk of conversations
written as cases in a few statements per table, like the intake batch (intake_batch.py).

``imported_conversations`` (migration 0019) holds each conversation's (source, id) once, with
its case and its history's first-response and resolution business hours, which reports read.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from aftersales.adapters.db import intake_statements as q
from aftersales.adapters.db import schema as t
from aftersales.adapters.db.engine import transactions
from aftersales.adapters.db.queue import queue_fields
from aftersales.adapters.db.widths import column_widths, fitted
from aftersales.domain.cases import Event
from aftersales.domain.corrections import LabelSource
from aftersales.domain.history import HistoryConversation, HistoryDirection, HistoryMessage
from aftersales.domain.history_import import (
    DIRECTIONS,
    HISTORY_ACTOR,
    IMPORTED,
    HistoryAddition,
    HistoryCase,
    customer_email,
    first_inbound,
    last_at,
    message_header_id,
    message_key,
    opened_at,
    resolved_at,
)
from aftersales.domain.messages import Channel
from aftersales.domain.queue import message_preview

_I, _C, _M = t.imported_conversations, t.cases, t.messages
_IMPORTED = select(_I.c.conversation_id, _I.c.case_id).where(
    _I.c.source == bindparam("source"), _I.c.conversation_id.in_(bindparam("ids", expanding=True))
)
_STORED_KEYS = select(_M.c.dedupe_key).where(_M.c.dedupe_key.in_(bindparam("keys", expanding=True)))
_USERS = select(func.lower(t.users.c.email).label("email"), t.users.c.id).where(
    func.lower(t.users.c.email).in_(bindparam("emails", expanding=True))
)
_CUSTOMERS = select(t.customers.c.email, t.customers.c.id).where(
    t.customers.c.email.in_(bindparam("emails", expanding=True))
)
_LAST = select(_C.c.id, _C.c.last_message_at, _C.c.updated_at).where(
    _C.c.id.in_(bindparam("ids", expanding=True))
)
_SET_LAST = (
    update(_C)
    .where(_C.c.id == bindparam("case_id_"))
    .values(
        last_message_preview=bindparam("preview"),
        last_message_direction=bindparam("direction"),
        last_message_at=bindparam("at"),
        updated_at=bindparam("updated"),
    )
)
_ADD_CUSTOMERS = {
    name: dialect_insert(t.customers).on_conflict_do_nothing(index_elements=[t.customers.c.email])
    for name, dialect_insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}
_MESSAGE_WIDTHS = column_widths(_M)
_CUSTOMER_WIDTHS = column_widths(t.customers)
_PARAMETERS = 900  # values of one IN list: well inside SQLite's and PostgreSQL's limits


class SqlHistoryStore:
    def __init__(self, connection: Connection) -> None:
        self.db = connection

    # ---------------------------------------------------------------- reads
    def imported_cases(self, source: str, conversation_ids: Collection[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for ids in _slices(sorted(set(conversation_ids))):
            rows = self.db.execute(_IMPORTED, {"source": source, "ids": ids})
            found |= {row.conversation_id: int(row.case_id) for row in rows}
        return found

    def stored_message_keys(self, keys: Collection[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _slices(sorted(set(keys))):
            found |= set(self.db.execute(_STORED_KEYS, {"keys": chunk}).scalars())
        return found

    # ---------------------------------------------------------------- writes
    def store_cases(self, cases: Sequence[HistoryCase], at: datetime) -> None:
        if not cases:
            return
        customers = self._customers(cases, at)
        users = self._users({c.conversation.assignee for c in cases if c.conversation.assignee})
        rows = [_case_row(c, customers, users) for c in cases]
        ids = q.insert_cases(self.db, rows)
        messages: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        imported: list[dict[str, Any]] = []
        labels: list[dict[str, Any]] = []
        for case_id, case in zip(ids, cases, strict=True):
            conversation = case.conversation
            messages.extend(_message_row(case_id, conversation, m) for m in conversation.messages)
            events.extend(_event_row(case_id, e) for e in case.events)
            imported.append(
                {
                    "source": conversation.source.value,
                    "conversation_id": conversation.id,
                    "case_id": case_id,
                    "imported_at": at,
                    "first_response_hours": case.hours.first_response,
                    "resolution_hours": case.hours.resolution,
                }
            )
            if case.label is not None:
                text, by = case.label
                labels.append(
                    {
                        "case_id": case_id,
                        "text": text,
                        "route": case.route.value,
                        "source": LabelSource.HISTORY.value,
                        "labelled_by": by[:200],
                        "labelled_at": at,
                    }
                )
        for table, values in ((_M, messages), (t.events, events), (_I, imported), (t.route_labels, labels)):
            if values:
                self.db.execute(insert(table), values)

    def add_history_messages(self, additions: Sequence[HistoryAddition], at: datetime) -> None:
        if not additions:
            return
        rows = [_message_row(a.case_id, a.conversation, m) for a in additions for m in a.messages]
        self.db.execute(insert(_M), rows)
        # the new messages are history too: the clocks count from this import on
        events = [
            _event_row(
                a.case_id,
                Event(
                    IMPORTED,
                    at,
                    HISTORY_ACTOR,
                    {
                        "source": a.conversation.source.value,
                        "conversation_id": a.conversation.id,
                        "messages_added": len(a.messages),
                    },
                ),
            )
            for a in additions
        ]
        self.db.execute(insert(t.events), events)
        stored = {
            row.id: row for row in self.db.execute(_LAST, {"ids": sorted({a.case_id for a in additions})})
        }
        changes = []
        for addition in additions:
            row = stored.get(addition.case_id)
            last = _last_said(addition.messages)
            if (
                row is None
                or last is None
                or (row.last_message_at is not None and row.last_message_at >= last.at)
            ):
                continue
            changes.append(
                {
                    "case_id_": addition.case_id,
                    "preview": message_preview(last.body)[:200],
                    "direction": DIRECTIONS[last.direction].value,
                    "at": last.at,
                    "updated": max(row.updated_at, last.at),
                }
            )
        if changes:
            self.db.execute(_SET_LAST, changes)

    def _customers(self, cases: Sequence[HistoryCase], at: datetime) -> dict[str, int]:
        people: dict[str, tuple[str, datetime]] = {}
        for case in cases:
            email = customer_email(case.conversation)
            if email:
                first = opened_at(case.conversation)
                name, since = people.get(email, (case.conversation.customer_name, first))
                people[email] = (name or case.conversation.customer_name, min(since, first))
        if not people:
            return {}
        emails = sorted(people)
        found = self._known_customers(emails)
        missing = [
            fitted({"email": e, "name": people[e][0]}, _CUSTOMER_WIDTHS) | {"created_at": people[e][1]}
            for e in emails
            if e not in found
        ]
        if missing:
            self.db.execute(_ADD_CUSTOMERS[self.db.dialect.name], missing)
            found = self._known_customers(emails)
        return found

    def _known_customers(self, emails: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for chunk in _slices(emails):
            found |= {row.email: int(row.id) for row in self.db.execute(_CUSTOMERS, {"emails": chunk})}
        return found

    def _users(self, emails: Collection[str]) -> dict[str, int]:
        if not emails:
            return {}
        return {row.email: int(row.id) for row in self.db.execute(_USERS, {"emails": sorted(emails)})}


def history_unit_of_work(
    engine: Engine, *, writes: bool = True
) -> Callable[[], AbstractContextManager[SqlHistoryStore]]:
    """A factory: ``with history() as store:`` is one transaction, committed when it ends."""
    return transactions(engine, SqlHistoryStore, writes=writes)


def _slices(values: Sequence[str]) -> list[list[str]]:
    return [list(values[i : i + _PARAMETERS]) for i in range(0, len(values), _PARAMETERS)]


def _case_row(case: HistoryCase, customers: dict[str, int], users: dict[str, int]) -> dict[str, Any]:
    conversation = case.conversation
    last = _last_said(conversation.messages)
    opened = opened_at(conversation)
    row = fitted(
        {
            "customer_id": customers.get(customer_email(conversation)),
            "order_number": conversation.order,
            "subject": conversation.subject or _untitled(conversation),
            "route": case.route.value,
            "secondary_routes": [],
            "confidence": case.confidence,
            "status": case.status.value,
            "lead_role": case.lead_role,
            "lead_name": case.lead_name,
            "decision": {},
            "write_back": [],
            "clocks": case.clocks,
            "next_due_at": case.next_due_at,
            "next_check_at": case.next_check_at,
            "risk": case.risk,
            "opened_at": opened,
            "updated_at": last_at(conversation),
            "resolved_at": resolved_at(conversation),
            "sku": "",
            "variant": "",
            "carrier": "",
            "reason": "",
            "sender_mark": "",
            "related_case_id": None,
            "route_check": case.route_check,
            "language": "",
            "assignee_user_id": users.get(conversation.assignee),
            "last_message_preview": message_preview(last.body) if last else "",
            "last_message_direction": DIRECTIONS[last.direction].value if last else "",
            "last_message_at": last.at if last else None,
            "imported_from": conversation.source.value,
        }
    )
    return row | queue_fields(row, row)


def _untitled(conversation: HistoryConversation) -> str:
    """A subject for a conversation without one: the start of its first message, as intake
    names a case from a message without a subject."""
    opening = first_inbound(conversation) or min(conversation.messages, key=lambda m: m.at, default=None)
    return " ".join(opening.body.split())[:80] if opening else ""


def _last_said(messages: Sequence[HistoryMessage]) -> HistoryMessage | None:
    """The last message the queue previews: the last said to or by the customer (a note only
    when there is nothing else)."""
    said = [m for m in messages if m.direction is not HistoryDirection.NOTE] or list(messages)
    return max(said, key=lambda m: m.at) if said else None


def _message_row(case_id: int, conversation: HistoryConversation, message: HistoryMessage) -> dict[str, Any]:
    email = message.sender if "@" in message.sender else ""
    return fitted(
        {
            "case_id": case_id,
            "direction": DIRECTIONS[message.direction].value,
            "channel": Channel.EMAIL.value,
            "message_id": message_header_id(conversation, message),
            "dedupe_key": message_key(conversation, message),
            "in_reply_to": "",
            "references": [],
            "from_address": email,
            "author": message.sender if not email else "",
            "subject": conversation.subject,
            "sent_at": message.at,
            "body": message.body,
            "full_body": message.body,
            "html": "",
            # the files' names, types and sizes only: the files themselves are not imported
            "attachments": [
                {"filename": a.name, "content_type": a.content_type, "size": a.size, "sha256": ""}
                for a in message.attachments
            ],
            "promised_update_at": None,
        },
        _MESSAGE_WIDTHS,
    )


def _event_row(case_id: int, event: Event) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "kind": event.kind,
        "at": event.at,
        "actor": event.actor[:200],
        "data": dict(event.data),
    }

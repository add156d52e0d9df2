"""A case's stored row as the domain's typed record, and a message as the row it is stored as."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping

from aftersales.domain.cases import CaseRecord, CaseStatus
from aftersales.domain.evidence import EvidenceItem
from aftersales.domain.messages import Direction, InboundMessage
from aftersales.domain.routes import Route
from aftersales.domain.trust import SenderMark

_RECORD_FIELDS = tuple(f.name for f in dataclasses.fields(CaseRecord))


def case_record(row: Mapping[str, Any] | RowMapping) -> CaseRecord:
    """The case's row as a record: its queue sort keys (``queue_order``, ``due_order``,
    ``is_open``) stay in the adapter; JSON columns stored empty read as empty."""
    values = {name: row[name] for name in _RECORD_FIELDS if name in row}
    return CaseRecord(
        **values
        | {
            "route": Route(row["route"]),
            "status": CaseStatus(row["status"]),
            "sender_mark": SenderMark(row["sender_mark"] or ""),
            "secondary_routes": list(row["secondary_routes"] or []),
            "decision": dict(row["decision"] or {}),
            "write_back": list(row["write_back"] or []),
            "clocks": list(row["clocks"] or []),
        }
    )


def message_row(
    case_id: int, message: InboundMessage, direction: Direction, promised_update_at: datetime | None
) -> dict[str, Any]:
    """The ``messages`` row of one message of a case (stored one at a time or in a batch)."""
    return {
        "case_id": case_id,
        "direction": direction.value,
        "channel": message.channel.value,
        "message_id": message.message_id,
        "dedupe_key": message.dedupe_key,
        "in_reply_to": message.in_reply_to,
        "references": list(message.references),
        "from_address": message.from_address,
        "author": message.from_name,
        "subject": message.subject,
        "sent_at": message.sent_at,
        "body": message.body,
        "full_body": message.full_body,
        "html": message.html,
        "attachments": [dataclasses.asdict(a) for a in message.attachments],
        "promised_update_at": promised_update_at,
    }


def evidence_row(case_id: int, item: EvidenceItem, by: str, at: datetime) -> dict[str, Any]:
    """An ``evidence_items`` row's values for one checklist item, its key apart (the key is a
    column to insert, or a condition to update by): what it says is the fact that shows the
    item, else the words that suggest it."""
    return {
        "case_id": case_id,
        "label": item.label,
        "present": item.present,
        "source": (item.source or item.suggestion)[:500],
        "marked_by": by,
        "marked_at": at if item.present else None,
    }

"""A case's stored row as the domain's typed record."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sqlalchemy import RowMapping

from aftersales.domain.cases import CaseRecord, CaseStatus
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

"""Helpers shared by the service tests: fixed moments, message factories, and readers that
look at what a use case stored (through the real repository, never a mock).

The demo store is Northwind Tumblers in America/New_York: Mon–Thu 09:00–12:00 + 13:00–17:00,
Fri 09:00–12:00 + 13:00–16:00, Sat 10:00–13:00, US/NY holidays. Tuesday 24 November 2026 is
the usual start; Thursday 26 November is Thanksgiving (closed).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from aftersales.adapters.db import schema
from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.adapters.mail.parse import dedupe_key
from aftersales.domain.cases import CaseRecord
from aftersales.domain.messages import Channel, InboundMessage
from aftersales.services.intake import IntakeResult

NY = ZoneInfo("America/New_York")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of November 2026 in the store's zone."""
    return datetime(2026, 11, day, hour, minute, tzinfo=NY)


def iso(day: int, hour: int, minute: int = 0, month: int = 11) -> str:
    """The ISO text the stored clocks use for a moment in the store's zone."""
    return datetime(2026, month, day, hour, minute, tzinfo=NY).isoformat()


def message(
    text: str, *, sender: str = "ana@example.com", sent: datetime | None = None, **fields: Any
) -> InboundMessage:
    """An e-mail as the parser would hand it over; ``fields`` override any InboundMessage field."""
    sent = sent or at(24, 10)
    digest = hashlib.sha256(f"{sender}|{sent.isoformat()}|{text}".encode()).hexdigest()[:12]
    message_id = fields.pop("message_id", f"{digest}@cust.example")
    built = InboundMessage(
        message_id=message_id,
        dedupe_key=dedupe_key(message_id, sender, sent.isoformat(), text),
        channel=Channel.EMAIL,
        from_address=sender,
        from_name=sender.split("@")[0].title(),
        to_addresses=("support@northwind.example",),
        subject=fields.pop("subject", ""),
        sent_at=sent,
        body=text,
        full_body=text,
        html="",
    )
    return replace(built, **fields)


def case_of(result: IntakeResult) -> int:
    """The case a message went to (it must have gone to one)."""
    assert result.case_id is not None, result
    return result.case_id


# ----------------------------------------------------------------------------- reading the store


def dump(uow: SqlUnitOfWork) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, by id: two dumps are equal exactly when nothing changed."""
    with uow() as cases:
        return {
            table.name: [
                dict(row)
                for row in cases.db.execute(select(table).order_by(*table.primary_key.columns)).mappings()
            ]
            for table in schema.metadata.sorted_tables
        }


def counts(uow: SqlUnitOfWork) -> dict[str, int]:
    return {name: len(rows) for name, rows in dump(uow).items()}


def case_row(uow: SqlUnitOfWork, case_id: int) -> CaseRecord:
    with uow() as cases:
        return cases.case_row(case_id)


def events(uow: SqlUnitOfWork, case_id: int) -> list[tuple[str, str, dict[str, Any]]]:
    """The timeline as (kind, actor, data), in order."""
    with uow() as cases:
        return [(e["kind"], e["actor"], dict(e["data"])) for e in cases.timeline(case_id)]


def kinds(uow: SqlUnitOfWork, case_id: int) -> list[str]:
    return [kind for kind, _, _ in events(uow, case_id)]


def clocks(uow: SqlUnitOfWork, case_id: int) -> dict[str, tuple[str, str | None]]:
    """Each stored clock as name -> (state, due_at)."""
    return {c["name"]: (c["state"], c["due_at"]) for c in case_row(uow, case_id).clocks}


def holds(uow: SqlUnitOfWork) -> list[tuple[str, int | None, str, datetime, datetime | None]]:
    """Automation holds as (customer e-mail, case id, reason, since, until)."""
    holds, customers = schema.automation_holds, schema.customers
    query = (
        select(customers.c.email, holds.c.case_id, holds.c.reason, holds.c.since, holds.c.until)
        .join(customers, customers.c.id == holds.c.customer_id)
        .order_by(holds.c.id)
    )
    with uow() as cases:
        return [tuple(row) for row in cases.db.execute(query)]

"""Two SLA ticks at once (cron's `aftersales sla tick` beside a worker's) record each breach
once, on SQLite and PostgreSQL: each case is refreshed with its row locked."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from aftersales.adapters.db import schema
from aftersales.services.intake import Incoming, take_in
from aftersales.services.routing import RoutingKit
from aftersales.services.sla import tick
from support.messages import case_of, message


def test_two_ticks_at_once_record_each_breach_once(uow: Any, kit: RoutingKit) -> None:
    opened = datetime.now(UTC) - timedelta(days=14)
    case_ids = []
    for n in range(12):
        sent = opened + timedelta(minutes=n)
        incoming = Incoming(
            message(f"where is my parcel? ({n})", sender=f"c{n}@example.com", sent=sent), "test"
        )
        case_ids.append(case_of(take_in(uow, kit, incoming, now=sent)))
    now = datetime.now(UTC)
    start = threading.Barrier(3)

    def run() -> None:
        start.wait()
        tick(uow, kit, now)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    with uow() as cases:
        rows = cases.db.execute(
            select(schema.events.c.case_id, schema.events.c.data).where(
                schema.events.c.kind == "clock_breached"
            )
        ).all()
    first_response = sorted(case_id for case_id, data in rows if data["name"] == "first_response")
    assert first_response == sorted(case_ids)

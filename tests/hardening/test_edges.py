"""Hardening regressions for the input edges: findings 1, 2, 5 and finding 15's doubled breach.

Every value read from outside goes through ``domain/values.py``; a message whose value cannot
be read is quarantined (or the API answers 422) and its neighbours are taken in; intake writes
one message per transaction, and SQLite writers wait their turn instead of failing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select

from aftersales.adapters.db import schema as t
from aftersales.cli import cli
from aftersales.services.intake import Incoming, Outcome, take_in
from aftersales.services.routing import RoutingKit
from aftersales.settings import Settings
from services.support import at, message

WHERE_IS_1043 = "Where is my order #1043? Tracking hasn't moved in 5 days."
NINE_NINE_NINE_NINE = "Fri, 31 Dec 9999 23:00:00 -1200"


def _count(uow: Any, table: Any, *where: Any) -> int:
    with uow() as cases:
        return int(cases.db.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


# ----------------------------------------------------------------------------- finding 15


def test_finding_15_breach_recorded_once_out_of_order(uow: Any, kit: RoutingKit) -> None:
    """Two mails of one case taken in newest first: the first-response breach is one breach,
    not one per mail (the clock's start moved back to the older mail, and the breach was
    keyed by its start)."""
    later = message(WHERE_IS_1043, sent=at(27, 10), subject="Order #1043")
    earlier = message("Order #1043 again: any news on my parcel?", sent=at(25, 10), subject="Order #1043")
    now = at(30, 12)
    first = take_in(uow, kit, Incoming(later, "later"), now=now)
    second = take_in(uow, kit, Incoming(earlier, "earlier"), now=now)
    assert (first.outcome, second.outcome) == (Outcome.NEW_CASE, Outcome.UPDATED_CASE)
    assert first.case_id == second.case_id
    with uow() as cases:
        breaches = [e for e in cases.timeline(first.case_id) if e["kind"] == "clock_breached"]
    names = [e["data"]["name"] for e in breaches]
    assert sorted(names) == sorted(set(names)), names
    assert "first_response" in names

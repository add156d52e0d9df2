"""Twelve weeks of cases for the trend tests, made from a seed and inserted as rows (the
way intake and the history import leave them): desk and imported cases, replies at any
hour (nights, weekends, the holidays of the demo store's New York calendar), a store that
writes first, notes that are no reply, unresolved cases, reopenings, ratings.

``PlantedCase`` keeps what was inserted in plain form, so a test can compute the figures
again its own way.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, insert

from aftersales.adapters.db import schema

ZONE = ZoneInfo("America/New_York")
FIRST_MONDAY = datetime(2026, 9, 7, tzinfo=ZONE)  # Labor Day: the first week opens on a holiday
WEEKS = 12
LAST_DAY = "2026-11-25"  # a day of the last week (Thanksgiving is its Thursday)
NOW = "2026-12-02T15:00:00+00:00"
ROUTES = ("shipping_delay", "wrong_item", "refund_return", "pre_purchase", "chargeback_risk")
AGENTS = {"ana@northwind.example": "Ana", "ben@northwind.example": ""}  # Ben has no name: his e-mail shows


@dataclass
class PlantedCase:
    route: str
    opened_at: datetime  # also its first inbound message, unless ``inbound`` says otherwise
    inbound: list[datetime]
    outbound: list[tuple[datetime, str]]  # (sent, author)
    notes: list[datetime] = field(default_factory=list)
    resolved_at: datetime | None = None
    assignee: str = ""  # an e-mail of AGENTS
    imported_from: str = ""
    reopened: bool = False
    ratings: list[tuple[datetime, str]] = field(default_factory=list)
    id: int = 0


def plant(seed: int = 16) -> list[PlantedCase]:
    """About six cases a week, and two outside the twelve weeks."""
    rng = random.Random(seed)
    cases = []
    for week in range(-1, WEEKS + 1):
        for _ in range(rng.randint(3, 9) if 0 <= week < WEEKS else 1):
            opened = FIRST_MONDAY + timedelta(weeks=week, minutes=rng.randrange(7 * 24 * 60))
            cases.append(_case(rng, opened))
    return cases


def _case(rng: random.Random, opened: datetime) -> PlantedCase:
    case = PlantedCase(route=rng.choice(ROUTES), opened_at=opened, inbound=[opened], outbound=[])
    case.imported_from = rng.choice(["", "", "zendesk"])
    if rng.random() < 0.2:  # the store wrote first: that message answers nothing
        case.outbound.append((opened - timedelta(hours=rng.uniform(1, 30)), "Ana"))
    if rng.random() < 0.85:
        first = opened + timedelta(minutes=rng.randrange(5, 80 * 60))
        author = rng.choice(["Ana", "ben@northwind.example", "Old Tool Agent"])
        case.outbound.append((first, author))
        case.outbound.append((first + timedelta(hours=rng.uniform(1, 50)), "Ana"))
        case.inbound.append(first + timedelta(hours=rng.uniform(0.5, 20)))
    case.notes.append(opened + timedelta(minutes=rng.randrange(1, 300)))  # a note is no reply
    if rng.random() < 0.7:
        case.resolved_at = opened + timedelta(minutes=rng.randrange(30, 300 * 60))
        # reopened after a first resolution three hours before the last one
        case.reopened = case.resolved_at - opened > timedelta(hours=4) and rng.random() < 0.2
    if rng.random() < 0.5:
        case.assignee = rng.choice(list(AGENTS))
    if rng.random() < 0.4:
        case.ratings.append((opened + timedelta(days=3), rng.choice(["good", "good", "bad"])))
        if rng.random() < 0.3:  # rated again: the latest counts
            case.ratings.append((opened + timedelta(days=4), rng.choice(["good", "bad"])))
    return case


def insert_cases(engine: Engine, cases: list[PlantedCase]) -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with engine.begin() as db:
        users = {}
        for email, name in AGENTS.items():
            values = {
                "email": email,
                "name": name,
                "role": "support",
                "password_hash": "x",
                "created_at": now,
            }
            users[email] = db.execute(
                insert(schema.users).values(values).returning(schema.users.c.id)
            ).scalar_one()
        for case in cases:
            values = {
                "route": case.route,
                "status": "resolved" if case.resolved_at else "open",
                "is_open": case.resolved_at is None,
                "lead_role": "operations",
                "opened_at": case.opened_at,
                "updated_at": case.opened_at,
                "resolved_at": case.resolved_at,
                "imported_from": case.imported_from,
                "assignee_user_id": users.get(case.assignee),
            }
            case.id = db.execute(
                insert(schema.cases).values(values).returning(schema.cases.c.id)
            ).scalar_one()
            _messages(db, case)
            _events(db, case)


def _messages(db: Connection, case: PlantedCase) -> None:
    rows = [("inbound", at, "customer") for at in case.inbound]
    rows += [("outbound", at, author) for at, author in case.outbound]
    rows += [("note", at, "Ana") for at in case.notes]
    values = [
        {
            "case_id": case.id,
            "direction": direction,
            "channel": "email",
            "message_id": f"<{case.id}.{n}@test>",
            "dedupe_key": f"{case.id}.{n}",
            "sent_at": at,
            "author": author,
        }
        for n, (direction, at, author) in enumerate(rows)
    ]
    db.execute(insert(schema.messages), values)


def _events(db: Connection, case: PlantedCase) -> None:
    def event(kind: str, at: datetime, data: dict[str, str]) -> dict[str, object]:
        return {"case_id": case.id, "kind": kind, "at": at, "actor": "system", "data": data}

    rows = [event("case_opened", case.opened_at, {}), event("routed", case.opened_at, {"route": case.route})]
    if case.resolved_at is not None:
        if case.reopened:
            first = case.resolved_at - timedelta(hours=3)
            rows.append(event("status_changed", first, {"from": "open", "to": "closed"}))
            rows.append(event("status_changed", first + timedelta(hours=1), {"from": "closed", "to": "open"}))
        rows.append(event("status_changed", case.resolved_at, {"from": "open", "to": "resolved"}))
    rows.append(event("status_changed", case.opened_at, {"from": "new", "to": "waiting_on_customer"}))
    rows.extend(event("rated", at, {"rating": rating, "comment": "thanks"}) for at, rating in case.ratings)
    db.execute(insert(schema.events), rows)

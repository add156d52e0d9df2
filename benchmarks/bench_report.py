"""The trend report over many stored cases: `aftersales report --weeks 12 --json`.

    .venv/bin/python benchmarks/bench_report.py [--cases 100000] [--database sqlite|postgresql|both]

Each database gets --cases cases spread evenly over the 12 weeks reported, bulk-inserted
with SQLAlchemy Core with what the report reads: per case two or three inbound messages,
one or two replies (a fifth of cases also a message the store wrote first), a note, its
opening events (case_opened, routed), its resolution (70 %), a reopening (5 %), a rating
(30 %), an assignee (half of them, among eight agents) and the imported marker (a third).

Timed: `run_trend` for the 12 weeks and its JSON, as `aftersales report --weeks 12 --json`
does it: the four scans of the window and the measuring of every case in business hours.
Then the weekly review of the last week, which draws the same trend. Target: under 5 s each.
SQLite is a file in a temporary folder; PostgreSQL a fresh database on the server named by
AFTERSALES_TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres),
dropped at the end.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select, text

from aftersales.adapters.db import schema
from aftersales.adapters.db.trend_queries import trends_unit_of_work
from aftersales.adapters.db.weekly_review_queries import review_unit_of_work
from aftersales.adapters.reports.trends import trend_json
from aftersales.services.trends import run_trend
from aftersales.services.weekly_review import run_review
from bench_intake import scratch_database
from common import scratch_kit

TARGET_SECONDS = 5.0
CHUNK = 2_000
WEEKS = 12
START = datetime(2026, 9, 7, 4, tzinfo=UTC)  # Monday 00:00 in New York
NOW = START + timedelta(weeks=WEEKS, hours=-1)
ROUTES = ("shipping_delay", "pre_purchase", "refund_return", "cancel_or_change", "damaged_item", "wrong_item")


def _agents(engine: Engine) -> list[int]:
    at = datetime(2026, 9, 1, tzinfo=UTC)
    rows = [
        {
            "email": f"agent{n}@bench.example",
            "name": f"Agent {n}",
            "role": "support",
            "password_hash": "x",
            "created_at": at,
        }
        for n in range(8)
    ]
    with engine.begin() as db:
        db.execute(insert(schema.users), rows)
        return list(db.execute(select(schema.users.c.id)).scalars())


def preload(engine: Engine, count: int) -> float:
    started = time.perf_counter()
    rng = random.Random(16)
    agents = _agents(engine)
    step = WEEKS * 7 * 24 * 3600 / count
    for first in range(0, count, CHUNK):
        cases, plans = [], []
        for index in range(first, min(first + CHUNK, count)):
            opened = START + timedelta(seconds=(index + rng.random()) * step)
            resolved = opened + timedelta(hours=rng.uniform(1, 200)) if rng.random() < 0.7 else None
            cases.append(
                {
                    "route": rng.choice(ROUTES),
                    "status": "resolved" if resolved else "open",
                    "lead_role": "operations",
                    "opened_at": opened,
                    "updated_at": opened,
                    "resolved_at": resolved if resolved and resolved < NOW else None,
                    "is_open": resolved is None,
                    "assignee_user_id": rng.choice(agents) if rng.random() < 0.5 else None,
                    "imported_from": "zendesk" if rng.random() < 0.33 else "",
                }
            )
            plans.append((opened, resolved))
        with engine.begin() as db:
            ids = list(
                db.execute(
                    insert(schema.cases).returning(schema.cases.c.id, sort_by_parameter_order=True), cases
                ).scalars()
            )
            messages, events = [], []
            for case_id, (opened, resolved) in zip(ids, plans, strict=True):
                messages.extend(_messages(rng, case_id, opened))
                events.extend(_events(rng, case_id, opened, resolved))
            db.execute(insert(schema.messages), messages)
            db.execute(insert(schema.events), events)
        if sys.stderr.isatty():
            print(f"\r  {min(first + CHUNK, count):,} cases", end="", file=sys.stderr)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
        db.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    return time.perf_counter() - started


def _messages(rng: random.Random, case_id: int, opened: datetime) -> list[dict[str, Any]]:
    rows = [("inbound", opened, "customer")]
    rows += [
        ("inbound", opened + timedelta(hours=rng.uniform(1, 48)), "customer")
        for _ in range(rng.randint(1, 2))
    ]
    rows += [
        ("outbound", opened + timedelta(hours=rng.uniform(0.1, 30) * n), "Agent 1")
        for n in range(1, rng.randint(2, 3))
    ]
    if rng.random() < 0.2:
        rows.append(("outbound", opened - timedelta(hours=5), "Agent 2"))
    rows.append(("note", opened + timedelta(minutes=20), "Agent 3"))
    return [
        {
            "case_id": case_id,
            "direction": direction,
            "channel": "email",
            "message_id": f"<{case_id}.{n}@bench>",
            "dedupe_key": f"{case_id}.{n}",
            "sent_at": at,
            "author": author,
            "body": "Where is my order? It has been a week and the tracking has not moved.",
        }
        for n, (direction, at, author) in enumerate(rows)
    ]


def _events(
    rng: random.Random, case_id: int, opened: datetime, resolved: datetime | None
) -> list[dict[str, Any]]:
    def event(kind: str, at: datetime, data: dict[str, Any]) -> dict[str, Any]:
        return {"case_id": case_id, "kind": kind, "at": at, "actor": "system", "data": data}

    rows = [
        event("case_opened", opened, {"channel": "email"}),
        event("routed", opened, {"route": "shipping_delay", "confidence": 0.9, "reason": "x"}),
        event("reply_sent", opened + timedelta(hours=1), {"message_id": 1}),
    ]
    if resolved is not None:
        rows.append(event("status_changed", resolved, {"from": "open", "to": "resolved"}))
        if rng.random() < 0.05:
            rows.append(
                event("status_changed", resolved + timedelta(hours=1), {"from": "resolved", "to": "open"})
            )
        if rng.random() < 0.3:
            rows.append(
                event(
                    "rated",
                    resolved + timedelta(hours=2),
                    {"rating": rng.choice(["good", "bad"]), "comment": ""},
                )
            )
    return rows


def run_database(kind: str, cases: int) -> None:
    print(f"{kind}:")
    kit = scratch_kit()
    with scratch_database(kind) as db:
        if db is None:
            return
        seconds = preload(db.engine, cases)
        print(
            f"  preloaded {cases:,} cases (with their messages and events) over {WEEKS} weeks in {seconds:.0f} s"
        )
        last_day = (NOW - timedelta(days=1)).date()
        started = time.perf_counter()
        trend = run_trend(trends_unit_of_work(db.engine), kit, last_day=last_day, weeks=WEEKS, now=NOW)
        trend_json(trend)
        took = time.perf_counter() - started
        counted = sum(w.cases for w in trend.weeks)
        verdict = "meets" if took < TARGET_SECONDS else "MISSES"
        print(
            f"  report --weeks {WEEKS} --json: {took:.2f} s ({verdict} < {TARGET_SECONDS:.0f} s), {counted:,} cases"
        )
        started = time.perf_counter()
        run_review(review_unit_of_work(db.engine), kit, day=last_day, now=NOW)
        took = time.perf_counter() - started
        verdict = "meets" if took < TARGET_SECONDS else "MISSES"
        print(f"  review of the last week, with the trend: {took:.2f} s ({verdict} < {TARGET_SECONDS:.0f} s)")


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=100_000, help="cases stored (default 100000)")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args(argv)
    for kind in ("sqlite", "postgresql") if args.database == "both" else (args.database,):
        run_database(kind, args.cases)


if __name__ == "__main__":
    main(sys.argv[1:])

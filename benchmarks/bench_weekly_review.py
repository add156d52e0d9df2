"""The weekly review over many stored cases: `aftersales review` for one week.

    .venv/bin/python benchmarks/bench_weekly_review.py [--cases 1000000] [--weeks 52]
                                                       [--database sqlite|postgresql|both]

Each database gets --cases cases spread evenly over --weeks weeks, bulk-inserted with
SQLAlchemy Core (the cases table only: the review reads nothing else), with the spreads of a
store: routes weighted as a store's mail runs (a third "where is my order"), 400 SKUs with a
long tail (Zipf-like weights), six carriers, each route's own decision reasons, and the four
stored clocks of each case in the shape intake stores them (met, breached, running or not
started).

Timed: `run_review` for the week before the last (a complete week), as `aftersales review`
runs it: the counts grouped in the database, the repeats with their first case ids, the SLA
tallies from the stored clocks, and filing every finding's write-back task. The first run
files the tasks; the second finds them again (the weekly rerun). Target: under 5 s each.
SQLite is a file in a temporary folder; PostgreSQL a fresh database on the server named by
AFTERSALES_TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres),
dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, text

from aftersales.adapters.db import schema
from aftersales.adapters.db.weekly_review_queries import review_unit_of_work
from aftersales.services.weekly_review import run_review
from bench_intake import kinds, scratch_database
from common import REPO, scratch_kit

TARGET_SECONDS = 5.0
CHUNK = 5_000
# a Wednesday; the stored weeks end the Monday after
NOW = datetime(2026, 11, 25, 15, tzinfo=UTC)

ROUTES: dict[str, tuple[float, tuple[str, ...]]] = {
    # route: (share of the mail, the reasons its decisions give)
    "shipping_delay": (
        0.32,
        ("inside_promise_window", "past_promise_window", "collect_order_facts", "delivered_not_received"),
    ),
    "pre_purchase": (0.14, ("answer",)),
    "refund_return": (0.13, ("preference_return", "collect_proof", "outside_return_window")),
    "cancel_or_change": (0.10, ("act_before_fulfilment", "already_fulfilled", "check_fulfilment")),
    "damaged_item": (0.08, ("damaged_collect_proof", "damaged_store_fault")),
    "wrong_item": (0.06, ("wrong_item_collect_proof", "wrong_item_store_fault")),
    "review": (0.05, ("pause_and_follow_up",)),
    "repeat_purchase": (0.05, ("answer",)),
    "chargeback_risk": (0.02, ("same_day_lead_review",)),
    "other": (0.05, ("answer",)),
}
LEADS = {
    "shipping_delay": "operations",
    "refund_return": "operations",
    "cancel_or_change": "operations",
    "wrong_item": "operations",
    "damaged_item": "supply_chain",
    "review": "marketing",
    "repeat_purchase": "marketing",
    "chargeback_risk": "founder",
}
CARRIERS = (("UPS", 0.35), ("USPS", 0.3), ("FedEx", 0.15), ("DHL", 0.1), ("Canada Post", 0.05), ("", 0.05))
CLOCK_STATES = (("met", 0.55), ("breached", 0.12), ("on_track", 0.2), ("at_risk", 0.05), ("paused", 0.08))


def _clocks(rng: random.Random) -> list[dict[str, Any]]:
    """The four clocks as intake stores them (the escalation clock mostly never starts)."""

    def clock(name: str, state: str) -> dict[str, Any]:
        moment = "2026-11-24T10:15:00-05:00"
        return {
            "name": name,
            "state": state,
            "started_at": moment if state != "stopped" else None,
            "due_at": moment if state in ("on_track", "at_risk") else None,
            "met_at": moment if state == "met" else None,
            "breached_at": moment if state == "breached" else None,
        }

    states, weights = zip(*CLOCK_STATES, strict=True)
    first, update, resolution = rng.choices(states, weights, k=3)
    escalation = "breached" if rng.random() < 0.02 else "stopped"
    return [
        clock("first_response", first),
        clock("next_update", update),
        clock("resolution", resolution),
        clock("escalation", escalation),
    ]


class CaseRows:
    """Case rows with a store's spreads, made from one seeded generator."""

    def __init__(self, weeks: int, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.end = _monday_after(NOW)
        self.seconds = weeks * 7 * 24 * 3600
        self.start = self.end - timedelta(seconds=self.seconds)
        self.routes = list(ROUTES)
        self.route_weights = [ROUTES[r][0] for r in self.routes]
        self.skus = [f"SKU-{n:04d}" for n in range(400)]
        self.sku_weights = [1 / (n + 1) for n in range(400)]
        self.clock_pool = [_clocks(self.rng) for _ in range(256)]

    def chunk(self, first: int, size: int, total: int) -> list[dict[str, Any]]:
        """Cases ``first`` to ``first + size`` of ``total``, opened in time order (as a desk
        stores them: the newest case has the highest id), a few minutes apart at random."""
        rng = self.rng
        step = self.seconds / total
        routes = rng.choices(self.routes, self.route_weights, k=size)
        skus = rng.choices(self.skus, self.sku_weights, k=size)
        carriers = rng.choices([c for c, _ in CARRIERS], [w for _, w in CARRIERS], k=size)
        rows = []
        for index, (route, sku, carrier) in enumerate(zip(routes, skus, carriers, strict=True), first):
            opened = self.start + timedelta(seconds=(index + rng.random()) * step)
            rows.append(
                {
                    "route": route,
                    "status": "open" if rng.random() < 0.3 else "resolved",
                    "lead_role": LEADS.get(route, "frontline"),
                    "opened_at": opened,
                    "updated_at": opened,
                    "clocks": rng.choice(self.clock_pool),
                    "sku": sku if rng.random() < 0.8 else "",
                    "variant": sku[-2:],
                    "carrier": carrier if route != "pre_purchase" else "",
                    "reason": rng.choice(ROUTES[route][1]),
                    "is_open": False,
                }
            )
        return rows


def _monday_after(moment: datetime) -> datetime:
    day = moment.date() + timedelta(days=7 - moment.weekday())
    return datetime(day.year, day.month, day.day, 5, tzinfo=UTC)  # 00:00 in New York


def preload(engine: Engine, count: int, weeks: int) -> float:
    started = time.perf_counter()
    rows = CaseRows(weeks)
    with engine.begin() as connection:
        for start in range(0, count, CHUNK):
            connection.execute(insert(schema.cases), rows.chunk(start, min(CHUNK, count - start), count))
            if sys.stderr.isatty():
                print(f"\r  {start + CHUNK:,} cases", end="", file=sys.stderr)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    return time.perf_counter() - started


def run_database(kind: str, args: argparse.Namespace) -> None:
    print(f"{kind}:")
    kit = scratch_kit()
    with scratch_database(kind) as db:
        if db is None:
            return
        seconds = preload(db.engine, args.cases, args.weeks)
        print(f"  preloaded {args.cases:,} cases over {args.weeks} weeks in {seconds:.0f} s")
        uow = review_unit_of_work(db.engine)
        day = (NOW - timedelta(days=7)).date()
        for label in ("first run (files the tasks)", "second run (finds them again)"):
            started = time.perf_counter()
            review = run_review(uow, kit, day=day, now=NOW)
            took = time.perf_counter() - started
            verdict = "meets" if took < TARGET_SECONDS else "MISSES"
            new = sum(1 for f in review.findings if f.is_new)
            print(
                f"  {label}: {took:.2f} s ({verdict} < {TARGET_SECONDS:.0f} s); week {review.week.label}: "
                f"{review.cases:,} cases, {len(review.findings)} findings, {new} new tasks, "
                f"{len(review.attainment)} SLA rows"
            )


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases stored (default 1000000)")
    parser.add_argument(
        "--weeks", type=int, default=52, help="weeks they are spread over (default 52: a year)"
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args(argv)
    print(
        f"command: .venv/bin/python benchmarks/bench_weekly_review.py --cases {args.cases} "
        f"--weeks {args.weeks} --database {args.database}"
    )
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    for kind in kinds(args.database):
        run_database(kind, args)


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "src"))
    main(sys.argv[1:])

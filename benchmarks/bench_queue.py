"""Queue latency: `aftersales cases` with many open cases stored.

    .venv/bin/python benchmarks/bench_queue.py [--cases 100000] [--database sqlite|postgresql|both]
                                               [--runs 200]

Each database gets --cases open cases (new, open or waiting on the customer), bulk-inserted with
SQLAlchemy Core as bench_intake.py preloads them: distinct customers, one or two messages each,
and the route, lead, decision and write-back columns intake stores for 30 template mails. The
queue's sort keys are spread so sorting matters: risk 2 (breached) for 10%, 1 (at risk) for 20%,
next_due_at from two days overdue to five days ahead, none while waiting on the customer.

Timed, --runs times each, as `aftersales cases` does it (one unit of work around
SqlCaseRepository.list_cases with the open statuses, limit 200): the whole queue, --route
(cycling over the ten routes) and --breaching. Then the wall time of the CLI
`aftersales cases --json` as a subprocess against that database (AFTERSALES_DATA_DIR for
SQLite, AFTERSALES_DATABASE_URL for PostgreSQL), and the query plan of the whole-queue listing.
SQLite is a file in a temporary folder; PostgreSQL a fresh database on the server named by
AFTERSALES_TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres), dropped
at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from itertools import cycle
from pathlib import Path
from typing import Any

from aftersales.adapters.db.repository import unit_of_work
from aftersales.domain.cases import OPEN_STATUSES
from aftersales.domain.routes import Route
from bench_intake import Scratch, StatementLog, kinds, preload, prototypes, scratch_database
from common import REPO

CLI = str(Path(sys.executable).parent / "aftersales")
TARGET_P99_MS = 150
LIMIT = 200
STATUSES = sorted(OPEN_STATUSES)


def latencies_ms(listing: Callable[[], int], runs: int) -> tuple[float, float, int]:
    """p50 and p99 of ``runs`` listings, and how many rows the last one returned."""
    samples = []
    rows = 0
    for _ in range(runs):
        started = time.perf_counter()
        rows = listing()
        samples.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49], cuts[98], rows


def listings(db: Scratch) -> dict[str, Callable[[], int]]:
    """The three listings, each one unit of work as the CLI runs it."""
    uow = unit_of_work(db.engine, db.data_dir / "attachments")
    routes = cycle(Route)

    def listing(**filters: Any) -> Callable[[], int]:
        def run() -> int:
            with uow() as repo:
                return len(repo.list_cases(STATUSES, limit=LIMIT, **filters))

        return run

    def by_route() -> int:
        return listing(route=next(routes))()

    return {
        "aftersales cases": listing(),
        "--route ROUTE (each of the ten in turn)": by_route,
        "--breaching": listing(breaching=True),
    }


def cli_walls(db: Scratch, runs: int = 5) -> tuple[float, float, int]:
    """Wall seconds of `aftersales cases --json`: the first run, the median of the rest, rows."""
    env = {**os.environ, "AFTERSALES_DATA_DIR": str(db.data_dir)}
    env.pop("AFTERSALES_DATABASE_URL", None)
    if db.kind == "postgresql":
        env["AFTERSALES_DATABASE_URL"] = db.url
    walls = []
    rows = 0
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run([CLI, "cases", "--json"], env=env, check=True, capture_output=True)
        walls.append(time.perf_counter() - started)
        rows = len(json.loads(done.stdout))
    return walls[0], statistics.median(walls[1:]), rows


def queue_plan(db: Scratch) -> list[str]:
    """The database's plan for the whole-queue listing (PostgreSQL: with actual times)."""
    log = StatementLog()
    with log.attached(db.engine):
        listings(db)["aftersales cases"]()
    statement, parameters = next(iter(log.selects.items()))
    prefix = "EXPLAIN QUERY PLAN " if db.kind == "sqlite" else "EXPLAIN (ANALYZE, COSTS OFF) "
    with db.engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        cursor.execute(prefix + statement, parameters)
        rows = cursor.fetchall()
        cursor.close()
    if db.kind == "sqlite":
        return [str(row[-1]) for row in rows]
    return [str(row[0]) for row in rows]


def run_database(kind: str, args: argparse.Namespace) -> None:
    print(f"{kind}:")
    with scratch_database(kind) as db:
        if db is None:
            return
        seconds = preload(db.engine, prototypes(), args.cases, open_share=1.0)
        print(f"  preloaded {args.cases:,} open cases in {seconds:.0f} s")
        for label, listing in listings(db).items():
            listing()  # warm-up: the first query of a kind is compiled, once per process
            p50, p99, rows = latencies_ms(listing, args.runs)
            verdict = "meets" if p99 < TARGET_P99_MS else "MISSES"
            print(
                f"  {label}: p50 {p50:.1f} ms, p99 {p99:.1f} ms ({rows} rows; {verdict} p99 < {TARGET_P99_MS} ms)"
            )
        first, median, rows = cli_walls(db)
        print(f"  CLI `aftersales cases --json` wall: first run {first:.2f} s, then median {median:.2f} s")
        if rows != min(LIMIT, args.cases):
            print(f"    WARNING: the CLI listed {rows} cases, not {min(LIMIT, args.cases)}: wrong database?")
        print("  plan of the whole-queue listing:")
        for line in queue_plan(db):
            print(f"    {line}")


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=100_000, help="open cases stored (default 100000)")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--runs", type=int, default=200, help="listings timed per kind (default 200)")
    args = parser.parse_args(argv)
    print(
        f"command: .venv/bin/python benchmarks/bench_queue.py --cases {args.cases} "
        f"--database {args.database} --runs {args.runs}"
    )
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    for kind in kinds(args.database):
        run_database(kind, args)


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "src"))
    main(sys.argv[1:])

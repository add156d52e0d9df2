"""Queue latency at 100,000 open cases: the act-now order, the filters and full-text search.

    .venv/bin/python benchmarks/bench_queue.py [--cases 100000] [--database sqlite|postgresql|both]
                                               [--runs 200] [--http-runs 200]

Each database gets --cases open cases (new, open or waiting on the customer), bulk-inserted with
SQLAlchemy Core as bench_intake.py preloads them: distinct customers (30 first names, 25 last
names), one or two messages each from 30 templates, the last message's preview, and the route,
lead, decision and write-back columns intake stores. The full-text indexes are kept by the
database while the rows go in (SQLite FTS5 triggers, PostgreSQL GIN indexes). The queue's keys
are spread so ordering matters: risk 2 (breached) for 10%, 1 (at risk) for 20%, next_due_at
from two days overdue to five days ahead, none while waiting on the customer. Five desk users
hold one case in five between them (4% each).

Timed, --runs times each, in this process: one unit of work around SqlCaseRepository.queue and
the JSON `GET /api/cases` answers with (summary_to_dict + json.dumps), 200 rows, for the
default order, "most overdue first", each filter, and searches of increasing reach. Then, with
--http-runs, the same endpoint over HTTP from one client (keep-alive, Bearer token) against
`aftersales serve --tick-seconds 0` as its own process, for the default order, a filter and a
search. Last, each database's plan of the default listing and of a name search.
SQLite is a file in a temporary folder; PostgreSQL a fresh database on the server named by
AFTERSALES_TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres), dropped
at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import time
import urllib.parse
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from itertools import cycle
from typing import Any

from sqlalchemy import text

from aftersales.adapters.db.repository import unit_of_work
from aftersales.domain.cases import CaseStatus, summary_to_dict
from aftersales.domain.queue import QueueOrder, QueueQuery
from aftersales.domain.routes import Route
from bench_intake import Scratch, StatementLog, kinds, preload, prototypes, scratch_database
from bench_web import HOST, add_account, served
from common import REPO

TARGET_P99_MS = 150
LIMIT = 200
DESK_USERS = 5
# searches of increasing reach in the preloaded data (1 in 30 first names is Ana; a template
# in 30 asks about the dishwasher; "order" is in most messages)
SEARCHES = {
    "an order number (#100042)": "#100042",
    "an e-mail address": "ana.silva.c0@gmail.com",
    "a full name (Ana Silva, ~130 cases)": "Ana Silva",
    "a first name (Ana, ~3,300 cases)": "Ana",
    "a word of the messages (dishwasher, ~3,300 cases)": "dishwasher",
    "a common word (order, most cases)": "order",
}


def latencies_ms(run: Callable[[], int], runs: int) -> tuple[float, float, int]:
    """p50 and p99 of ``runs`` calls, and how many rows the last one listed."""
    samples = []
    rows = 0
    for _ in range(runs):
        started = time.perf_counter()
        rows = run()
        samples.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49], cuts[98], rows


def assign_cases(db: Scratch) -> None:
    """Five desk users, and one case in five assigned to them in turn."""
    now = datetime.now(UTC)
    with db.engine.begin() as connection:
        for n in range(1, DESK_USERS + 1):
            connection.execute(
                text(
                    "INSERT INTO users (id, email, name, role, password_hash, active, created_at) "
                    "VALUES (:id, :email, :name, 'frontline', 'not-a-hash', true, :at)"
                ),
                {"id": 1000 + n, "email": f"agent{n}@northwind.example", "name": f"Agent {n}", "at": now},
            )
        connection.execute(
            text(f"UPDATE cases SET assignee_user_id = 1001 + (id / 5) % {DESK_USERS} WHERE id % 5 = 0")
        )
    if db.kind == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE cases"))


def listings(db: Scratch) -> dict[str, Callable[[], int]]:
    """Each listing as GET /api/cases answers it: one unit of work, then the JSON."""
    uow = unit_of_work(db.engine, db.data_dir / "attachments")
    routes = cycle(Route)

    def listing(**query: Any) -> Callable[[], int]:
        def run() -> int:
            with uow() as repo:
                rows = repo.queue(QueueQuery(limit=LIMIT, **query))
            json.dumps([summary_to_dict(row) for row in rows])
            return len(rows)

        return run

    def by_route() -> int:
        return listing(route=next(routes))()

    found: dict[str, Callable[[], int]] = {
        "default: act now first (open, route risk, SLA state, due)": listing(),
        "order=overdue (most overdue first)": listing(order=QueueOrder.OVERDUE),
        "route=ROUTE (each of the ten in turn)": by_route,
        "assignee=me (a user holding 4% of the cases)": listing(assignee_id=1001),
        "assignee=none (unassigned)": listing(unassigned=True),
        "status=open": listing(statuses=frozenset({CaseStatus.OPEN})),
        "breaching=true": listing(breaching=True),
        "all=true (closed ones too)": listing(statuses=frozenset(CaseStatus)),
        "lead=Priya (the start of a lead's name)": listing(lead="Priya"),
    }
    for label, term in SEARCHES.items():
        found[f"q= {label}"] = listing(search=term)
    found["q=dishwasher with route=pre_purchase and order=overdue"] = listing(
        search="dishwasher", route=Route.PRE_PURCHASE, order=QueueOrder.OVERDUE
    )
    return found


def http_listings(port: int, token: str) -> dict[str, Callable[[], int]]:
    """GET /api/cases over one keep-alive connection, as one client sends it."""
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    headers = {"Authorization": f"Bearer {token}"}

    def get(**params: str) -> Callable[[], int]:
        path = "/api/cases?" + urllib.parse.urlencode({"limit": str(LIMIT), **params})

        def run() -> int:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read()
            if response.status != 200:
                raise SystemExit(f"GET {path}: HTTP {response.status}: {body[:300]!r}")
            return len(json.loads(body))

        return run

    return {
        "GET /api/cases (act now first)": get(),
        "GET /api/cases?assignee=agent1@northwind.example": get(assignee="agent1@northwind.example"),
        "GET /api/cases?route=damaged_item&order=overdue": get(route="damaged_item", order="overdue"),
        "GET /api/cases?q=Ana Silva": get(q="Ana Silva"),
        "GET /api/cases?q=dishwasher": get(q="dishwasher"),
    }


def plan(db: Scratch, run: Callable[[], int]) -> list[str]:
    """The database's plan for the listing ``run`` makes (PostgreSQL: with actual times)."""
    log = StatementLog()
    with log.attached(db.engine):
        run()
    statement, parameters = next(s for s in log.selects.items() if "FROM cases" in s[0] or "cases." in s[0])
    prefix = "EXPLAIN QUERY PLAN " if db.kind == "sqlite" else "EXPLAIN (ANALYZE, COSTS OFF) "
    with db.engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        cursor.execute(prefix + statement, parameters)
        rows = cursor.fetchall()
        cursor.close()
    return [str(row[-1]) if db.kind == "sqlite" else str(row[0]) for row in rows]


def show(label: str, p50: float, p99: float, rows: int) -> None:
    verdict = "meets" if p99 < TARGET_P99_MS else "MISSES"
    print(f"  {label}: p50 {p50:.1f} ms, p99 {p99:.1f} ms ({rows} rows; {verdict} p99 < {TARGET_P99_MS} ms)")


def run_database(kind: str, args: argparse.Namespace) -> None:
    print(f"{kind}:")
    with scratch_database(kind) as db:
        if db is None:
            return
        seconds = preload(db.engine, prototypes(), args.cases, open_share=1.0)
        assign_cases(db)
        print(f"  preloaded {args.cases:,} open cases with their messages in {seconds:.0f} s")
        print(f"  in-process, {args.runs} runs each (the unit of work and the JSON):")
        found = listings(db)
        for label, listing in found.items():
            listing()  # warm-up: the first query of a kind is compiled, once per process
            show(label, *latencies_ms(listing, args.runs))
        if args.http_runs:
            token = add_account(db)
            with served(db, token, args.cases) as server:
                print(f"  over HTTP, one client, {args.http_runs} requests each:")
                for label, request in http_listings(server.port, token).items():
                    request()
                    show(label, *latencies_ms(request, args.http_runs))
        for label in (
            "default: act now first (open, route risk, SLA state, due)",
            "q= a full name (Ana Silva, ~130 cases)",
        ):
            print(f"  plan of {label}:")
            for line in plan(db, found[label]):
                print(f"    {line}")


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=100_000, help="open cases stored (default 100000)")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--runs", type=int, default=200, help="in-process listings timed per kind (default 200)"
    )
    parser.add_argument("--http-runs", type=int, default=200, help="HTTP requests timed per kind (0: none)")
    args = parser.parse_args(argv)
    print(
        f"command: .venv/bin/python benchmarks/bench_queue.py --cases {args.cases} "
        f"--database {args.database} --runs {args.runs} --http-runs {args.http_runs}"
    )
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; {_load()}")
    for kind in kinds(args.database):
        run_database(kind, args)
        print(f"  ({_load()})")


def _load() -> str:
    """Other work on the machine skews every figure: say how much there was."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min)"


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "src"))
    main(sys.argv[1:])

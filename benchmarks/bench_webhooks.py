"""Shopify webhooks in a burst: `aftersales serve` taking signed deliveries from many clients.

    .venv/bin/python benchmarks/bench_webhooks.py [--orders 200] [--clients 20]
                                                  [--database sqlite|postgresql|both]

For each database: a fresh one, `aftersales serve --tick-seconds 0` as its own process with
AFTERSALES_SHOPIFY_WEBHOOK_SECRET set, then --clients keep-alive connections send, as fast as
they are answered, --orders `orders/create`, three `fulfillment_events/create` scans per order,
a `disputes/create` for every second order, and 100 of those deliveries again (duplicates):
1,000 deliveries for the default 200 orders, each signed as Shopify signs them. Orders go
first (a scan needs its order), then everything else at once. Printed: deliveries per second,
p50/p99 latency, and a check that the database holds exactly what was sent (one webhook row
per distinct id, one order each, three scans each, one chargeback case per dispute).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from queue import Empty, SimpleQueue
from typing import Any

from sqlalchemy import func, select

from aftersales.adapters.db import schema
from aftersales.adapters.shopify.webhooks import sign
from bench_intake import Scratch, scratch_database
from bench_web import CLI, HOST, free_port, wait_healthy

SECRET = "bench-webhook-secret"
PLACED = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
Delivery = tuple[str, bytes, str]  # topic, body, webhook id


def deliveries(orders: int) -> tuple[list[Delivery], list[Delivery]]:
    """The orders, then the scans, disputes and repeats, shuffled together."""
    due = (datetime.now(UTC) + timedelta(days=7)).isoformat()

    def one(topic: str, payload: dict[str, Any], webhook_id: str) -> Delivery:
        return topic, json.dumps(payload).encode(), webhook_id

    first = [
        one(
            "orders/create",
            {
                "id": i,
                "name": f"#{10_000 + i}",
                "email": f"buyer{i}@example.com",
                "created_at": PLACED.isoformat(),
                "financial_status": "paid",
                "currency": "USD",
                "total_price": "54.00",
                "line_items": [
                    {"sku": "TUMBLER-20-BLK", "title": "Tumbler", "quantity": 2, "price": "27.00"}
                ],
            },
            f"order-{i}",
        )
        for i in range(orders)
    ]
    scans = [
        one(
            "fulfillment_events/create",
            {
                "id": i * 10 + k,
                "order_id": i,
                "status": status,
                "happened_at": (PLACED + timedelta(days=k + 1)).isoformat(),
                "city": "Memphis",
            },
            f"scan-{i}-{k}",
        )
        for i in range(orders)
        for k, status in enumerate(("confirmed", "in_transit", "out_for_delivery"))
    ]
    disputes = [
        one(
            "disputes/create",
            {
                "id": 500_000 + i,
                "order_id": i,
                "type": "chargeback",
                "reason": "product_not_received",
                "status": "needs_response",
                "amount": "54.00",
                "currency": "USD",
                "evidence_due_by": due,
            },
            f"dispute-{i}",
        )
        for i in range(0, orders, 2)
    ]
    spread = max(len(scans) // max(len(disputes), 1), 1)  # a dispute among every few scans
    mixed: list[Delivery] = []
    for k, scan in enumerate(scans):
        mixed.append(scan)
        if k % spread == 0 and k // spread < len(disputes):
            mixed.append(disputes[k // spread])
    repeats = (first + scans + disputes)[::9]  # 100 of the 900 again
    return first, mixed + repeats


@contextmanager
def served(db: Scratch) -> Iterator[int]:
    port = free_port()
    env = {**os.environ, "AFTERSALES_DATA_DIR": str(db.data_dir), "AFTERSALES_DATABASE_URL": db.url}
    env["AFTERSALES_SHOPIFY_WEBHOOK_SECRET"] = SECRET
    process = subprocess.Popen(
        [CLI, "serve", "--host", HOST, "--port", str(port), "--tick-seconds", "0"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_healthy(port, lambda: process.poll() is None)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)


def send_all(port: int, batch: Sequence[Delivery], clients: int) -> tuple[float, list[float], dict[int, int]]:
    """Seconds for the whole batch, each request's latency, and the status counts."""
    work: SimpleQueue[Delivery] = SimpleQueue()
    for item in batch:
        work.put(item)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def client() -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=60)
        while True:
            try:
                topic, body, webhook_id = work.get_nowait()
            except Empty:
                return
            headers = {
                "Content-Type": "application/json",
                "X-Shopify-Topic": topic,
                "X-Shopify-Webhook-Id": webhook_id,
                "X-Shopify-Shop-Domain": "northwind.myshopify.com",
                "X-Shopify-Hmac-Sha256": sign(SECRET, body),
            }
            started = time.perf_counter()
            connection.request("POST", "/webhooks/shopify", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            with lock:
                latencies.append(time.perf_counter() - started)
                statuses[response.status] = statuses.get(response.status, 0) + 1

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, statuses


def stored(db: Scratch) -> dict[str, int]:
    tables = {
        "webhook rows": schema.webhook_deliveries,
        "orders": schema.orders,
        "scans": schema.fulfillment_events,
        "disputes": schema.disputes,
        "cases": schema.cases,
    }
    with db.engine.connect() as connection:
        return {
            label: int(connection.execute(select(func.count()).select_from(table)).scalar_one())
            for label, table in tables.items()
        }


def run(kind: str, args: argparse.Namespace) -> None:
    print(f"\n== {kind}")
    with scratch_database(kind) as db:
        if db is None:
            return
        first, rest = deliveries(args.orders)
        with served(db) as port:
            seconds_a, latencies_a, statuses_a = send_all(port, first, args.clients)
            seconds_b, latencies_b, statuses_b = send_all(port, rest, args.clients)
        latencies = sorted(latencies_a + latencies_b)
        total, seconds = len(first) + len(rest), seconds_a + seconds_b
        statuses = {s: statuses_a.get(s, 0) + statuses_b.get(s, 0) for s in {*statuses_a, *statuses_b}}
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        print(
            f"  {total} deliveries from {args.clients} clients in {seconds:.2f} s: {total / seconds:.0f}/s, "
            f"p50 {statistics.median(latencies) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms; statuses {statuses}"
        )
        found = stored(db)
        expected = {
            "webhook rows": args.orders * 4 + len(range(0, args.orders, 2)),
            "orders": args.orders,
            "scans": args.orders * 3,
            "disputes": len(range(0, args.orders, 2)),
            "cases": len(range(0, args.orders, 2)),
        }
        verdict = "exactly as expected" if found == expected else f"MISMATCH, expected {expected}"
        print(f"  stored: {found}: {verdict}")


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args(argv)
    print(f"command: .venv/bin/python benchmarks/bench_webhooks.py {' '.join(argv)}".rstrip())
    for kind in ("sqlite", "postgresql") if args.database == "both" else (args.database,):
        run(kind, args)


if __name__ == "__main__":
    main(sys.argv[1:])

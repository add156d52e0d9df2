"""Routing speed: batch throughput, single-message latency, CLI cold start, batch memory.

    .venv/bin/python benchmarks/bench_routing_speed.py [--messages 20000]

Messages come from the Bitext development set when it is there (else the project's
evaluation set, repeated). "route" is the routing decision alone (normalise, signals,
cues, model); "card" is the whole decision card (evidence, decision, SLA clocks in
business hours, first reply and its checks), as `aftersales route --json` prints it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from aftersales.services.routing import RoutingKit, build_card, route_text
from common import REPO, bitext_rows, eval_rows, scratch_kit

NOW = datetime.fromisoformat("2026-11-24T10:00:00-05:00")
CLI = str(Path(sys.executable).parent / "aftersales")


def messages(count: int) -> list[str]:
    rows = bitext_rows() or eval_rows()
    texts = [text for text, _ in rows]
    return (texts * (count // len(texts) + 1))[:count]


def throughput(work: Callable[[str], object], texts: Sequence[str]) -> float:
    started = time.perf_counter()
    for text in texts:
        work(text)
    return len(texts) / (time.perf_counter() - started)


def latencies_ms(work: Callable[[str], object], texts: Sequence[str]) -> tuple[float, float]:
    samples = []
    for text in texts:
        started = time.perf_counter()
        work(text)
        samples.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49], cuts[98]


def cold_starts(runs: int) -> tuple[float, float]:
    """Seconds for `aftersales route TEXT`: the very first run (empty cache), then the median."""
    data_dir = tempfile.mkdtemp(prefix="aftersales-cold-")
    env = {**os.environ, "AFTERSALES_DATA_DIR": data_dir}
    walls = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [CLI, "route", "Where is my order #1043? Tracking hasn't moved for 5 days"],
            env=env,
            check=True,
            capture_output=True,
        )
        walls.append(time.perf_counter() - started)
    return walls[0], statistics.median(walls[1:])


def batch_memory(texts: Sequence[str]) -> tuple[float, float]:
    """Peak resident memory (MB) and wall time of `aftersales route --batch FILE --json`."""
    with tempfile.TemporaryDirectory() as folder:
        batch = Path(folder) / "batch.jsonl"
        batch.write_text("".join(json.dumps({"id": n, "text": t}) + "\n" for n, t in enumerate(texts)))
        env = {**os.environ, "AFTERSALES_DATA_DIR": folder}
        started = time.perf_counter()
        subprocess.run(
            [CLI, "route", "--batch", str(batch), "--json", "--now", NOW.isoformat()],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wall = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return peak_kb / 1024, wall


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=20_000, help="batch size (default 20000)")
    args = parser.parse_args(argv)
    kit: RoutingKit = scratch_kit()
    texts = messages(args.messages)

    def route(text: str) -> object:
        return route_text(kit, text)

    def card(text: str) -> object:
        return build_card(kit, text, now=NOW)

    print("command: .venv/bin/python benchmarks/bench_routing_speed.py --messages", args.messages)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {len(texts)} messages")
    # The first pass compiles cue patterns and model rows as it meets new words; a
    # long-running process (the desk, a worker) lives in the steady state after it.
    first = throughput(route, texts)
    steady = statistics.median(throughput(route, texts) for _ in range(3))
    print(f"batch, one process, route: {first:,.0f} msg/s first pass, {steady:,.0f} msg/s steady")
    print(f"batch, one process, card:  {throughput(card, texts):,.0f} msg/s")
    p50, p99 = latencies_ms(route, texts[:5000])
    print(f"single message, route: p50 {p50:.3f} ms, p99 {p99:.3f} ms")
    p50, p99 = latencies_ms(card, texts[:5000])
    print(f"single message, card:  p50 {p50:.3f} ms, p99 {p99:.3f} ms")
    first, median = cold_starts(6)
    print(
        f"CLI `aftersales route TEXT` wall: first run {first:.2f} s (builds the cache), then median {median:.2f} s"
    )
    peak, wall = batch_memory(texts)
    print(
        f"CLI `route --batch` of {len(texts):,} messages to JSON: {wall:.1f} s "
        f"({len(texts) / wall:,.0f} msg/s), peak memory {peak:.0f} MB"
    )


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "src"))
    main(sys.argv[1:])

"""The queue under load with the SLA tick running: 100,000 cases, 10 concurrent clients.

    .venv/bin/python benchmarks/bench_queue_load.py [--cases 100000] [--open-share 0.2]
                                                    [--database sqlite|postgresql|both]
                                                    [--clients 10] [--seconds 20] [--tick-seconds 5 [0]]
                                                    [--serve-workers 1 [2]] [--rounds 1]
                                                    [--python-client]

Each database gets --cases cases (--open-share of them open), bulk-inserted as bench_web.py
and bench_intake.py preload them, and an admin account (production password hasher) with an
API token. The preloaded clocks are made up, so `aftersales sla tick` runs once to settle
them as a live desk would have them, then once more (a steady tick, what every later tick
costs); both are timed, as their own processes. Then, for each --serve-workers W and
--tick-seconds S (every combination, --rounds times in turn, on the one preloaded database),
`aftersales serve --tick-seconds S --workers W` runs as its own process, and for --seconds,
at the same time:

- half the clients fetch the queue page, GET /cases (HTML, the session cookie of one sign-in);
- the other half fetch the queue as JSON, GET /api/cases (Bearer token);

each a keep-alive connection sending requests back to back, while the server's own SLA tick
walks the open cases every S seconds. Printed per kind: p50, p95 (Python client), p99,
requests per second; the server's CPU use (cores, from /proc/PID/stat, its worker processes
included) and the load average before and after, and the exact load-generator commands.

The load generator is wrk when it is on PATH (`apt-get install wrk`; two wrk processes, one
per kind), else Python threads with http.client (--python-client forces it): their own CPU
use shares the two cores with the server, which is why wrk is preferred.

On a busy machine every figure moves: run it when the load average is low, or at least take
A/B pairs in the same minutes and give the load average beside each figure.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench_intake import Scratch, kinds, preload, prototypes, scratch_database
from bench_web import (
    CLI,
    HOST,
    LOADS,
    Load,
    Options,
    Result,
    Server,
    add_account,
    headers_for,
    intake_texts,
    lua_script,
    run_wrk,
    served,
    server_env,
    shown_command,
    warm_up,
    wrk_command,
)
from common import REPO

TARGET_P99_MS = 150
QUEUE_LOADS = tuple(load for load in LOADS if load.mode in ("queue", "list"))


@dataclass(frozen=True, slots=True)
class Measured:
    result: Result
    p95_ms: float | None  # wrk's summary gives p50 and p99 only
    command: str


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of the process and its children still running (uvicorn's
    worker processes): /proc/PID/stat fields 14 and 15."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    for each in _tree(pid):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _tree(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:
        return [pid]
    return [pid, *(each for child in children for each in _tree(int(child)))]


def timed_tick(db: Scratch) -> tuple[float, float]:
    """`aftersales sla tick` as its own process on the scratch database: wall seconds, and the
    CPU seconds the process used (start-up included), which a busy machine moves less."""
    cpu_before = _children_cpu()
    started = time.perf_counter()
    subprocess.run([CLI, "sla", "tick"], env=server_env(db), check=True, capture_output=True)
    return time.perf_counter() - started, _children_cpu() - cpu_before


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------- the load generators


def run_wrk_together(
    server: Server, shares: dict[Load, int], seconds: float, script: Path
) -> dict[Load, Measured]:
    """One wrk process per kind of request, all started at once."""
    commands = {load: wrk_command(load, server, clients, seconds, script) for load, clients in shares.items()}
    found: dict[Load, Measured] = {}

    def run(load: Load) -> None:
        found[load] = Measured(run_wrk(commands[load]), None, shown_command(commands[load], server))

    threads = [threading.Thread(target=run, args=(load,)) for load in shares]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return found


@dataclass(slots=True)
class Tally:
    """What the Python clients of one kind of request saw."""

    samples: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0


def python_client(load: Load, server: Server, deadline: float, tally: Tally, lock: threading.Lock) -> None:
    """One keep-alive connection sending ``load``'s request back to back until ``deadline``."""
    headers = headers_for(load, server)
    connection = http.client.HTTPConnection(HOST, server.port, timeout=60)
    mine = Tally()
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        try:
            connection.request("GET", load.path, headers=headers)
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            mine.errors += 1
            connection.close()
            connection = http.client.HTTPConnection(HOST, server.port, timeout=60)
            continue
        mine.samples.append(time.perf_counter() - started)
        mine.statuses[response.status] += 1
    connection.close()
    with lock:
        tally.samples.extend(mine.samples)
        tally.statuses.update(mine.statuses)
        tally.errors += mine.errors


def run_python_together(server: Server, shares: dict[Load, int], seconds: float) -> dict[Load, Measured]:
    """Threads with keep-alive http.client connections, ``shares[load]`` of them per kind."""
    tallies = {load: Tally() for load in shares}
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    threads = [
        threading.Thread(target=python_client, args=(load, server, deadline, tallies[load], lock))
        for load, n in shares.items()
        for _ in range(n)
    ]
    random.Random(1).shuffle(threads)
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    found = {}
    for load, tally in tallies.items():
        cuts = [x * 1000 for x in statistics.quantiles(tally.samples or [0.0, 0.0], n=100)]
        result = Result(len(tally.samples), elapsed, cuts[49], cuts[98], dict(tally.statuses), tally.errors)
        command = f"(Python load generator: {shares[load]} threads, keep-alive http.client, {seconds:g} s)"
        found[load] = Measured(result, cuts[94], command)
    return found


# ---------------------------------------------------------------- one database


def show(load: Load, measured: Measured) -> None:
    result = measured.result
    ok = sum(n for status, n in result.statuses.items() if 200 <= status < 300)
    verdict = "meets" if result.p99_ms < TARGET_P99_MS else "MISSES"
    p95 = f", p95 {measured.p95_ms:.1f} ms" if measured.p95_ms is not None else ""
    print(
        f"    {load.label}: p50 {result.p50_ms:.1f} ms{p95}, p99 {result.p99_ms:.1f} ms, "
        f"{result.rate:,.0f} req/s ({result.requests:,} requests, {ok:,} 2xx; {verdict} p99 < {TARGET_P99_MS} ms)"
    )
    others = {s: n for s, n in sorted(result.statuses.items()) if not 200 <= s < 300}
    if others or result.errors:
        print(f"      NOT 2xx: {others or '-'}; connection errors or timeouts: {result.errors}")
    print(f"      command: {measured.command}")


def run_database(kind: str, args: argparse.Namespace, script: Path | None) -> None:
    print(f"{kind}:")
    with scratch_database(kind) as db:
        if db is None:
            return
        seconds = preload(db.engine, prototypes(), args.cases, open_share=args.open_share)
        open_cases = round(args.cases * args.open_share)
        print(f"  preloaded {args.cases:,} cases (about {open_cases:,} open) in {seconds:.0f} s")
        token = add_account(db)
        db.engine.dispose()  # the server and the CLI are the only clients from here on
        (settle, settle_cpu), (steady, steady_cpu) = timed_tick(db), timed_tick(db)
        print(
            f"  `aftersales sla tick`: {settle:.1f} s ({settle_cpu:.1f} s CPU) settling the made-up clocks, "
            f"then {steady:.1f} s ({steady_cpu:.1f} s CPU) a steady tick ({load_average()})"
        )
        for round_no in range(1, args.rounds + 1):
            for workers in args.serve_workers:
                for tick_seconds in args.tick_seconds:
                    if args.rounds > 1:
                        print(f"  round {round_no}:")
                    load_run(db, token, args, workers, tick_seconds, script)


def load_run(
    db: Scratch, token: str, args: argparse.Namespace, workers: int, tick_seconds: float, script: Path | None
) -> None:
    """One server, both kinds of request at once for --seconds."""
    with served(db, token, args.cases, workers, tick_seconds) as server:
        shares = {QUEUE_LOADS[0]: (args.clients + 1) // 2, QUEUE_LOADS[1]: args.clients // 2}
        for load in shares:
            warm_up(load, server, _warm_options())
        before, cpu_before = load_average(), cpu_seconds(server.pid)
        started = time.perf_counter()
        if script is not None:
            found = run_wrk_together(server, shares, args.seconds, script)
        else:
            found = run_python_together(server, shares, args.seconds)
        cores = (cpu_seconds(server.pid) - cpu_before) / (time.perf_counter() - started)
        tick = f"the SLA tick every {tick_seconds:g} s" if tick_seconds else "no SLA tick"
        # what a busy machine moves least: the server's CPU time per answered request
        per_request = 1000 * cores / sum(m.result.rate for m in found.values())
        print(
            f"  {args.clients} clients for {args.seconds:g} s, {tick}, {workers} server process(es) "
            f"(before: {before}; after: {load_average()}); server CPU {cores:.2f} cores, "
            f"{per_request:.1f} ms CPU per request (the tick's included):"
        )
        for load, measured in found.items():
            show(load, measured)


def _warm_options() -> Options:
    return Options(
        clients=1, seconds=0.5, baseline_seconds=0, use_wrk=False, script=None, texts=intake_texts()
    )


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=100_000, help="cases stored (default 100000)")
    parser.add_argument(
        "--open-share", type=float, default=0.2, help="share of them open, the rest resolved or closed (0.2)"
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--clients", type=int, default=10, help="concurrent connections, half per kind (10)")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of load (default 20)")
    parser.add_argument(
        "--tick-seconds",
        type=float,
        nargs="+",
        default=[5.0],
        help="`aftersales serve --tick-seconds` (default 5; 0: no tick); several: a run each",
    )
    parser.add_argument(
        "--serve-workers",
        type=int,
        nargs="+",
        default=[1],
        help="`aftersales serve --workers N` (default 1); several: a run each",
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="runs of every combination, in turn (A B A B), on one preload"
    )
    parser.add_argument("--python-client", action="store_true", help="use the Python load generator, not wrk")
    args = parser.parse_args(argv)
    use_wrk = shutil.which("wrk") is not None and not args.python_client
    print(
        f"command: .venv/bin/python benchmarks/bench_queue_load.py --cases {args.cases} "
        f"--open-share {args.open_share:g} --database {args.database} --clients {args.clients} "
        f"--seconds {args.seconds:g} --tick-seconds {' '.join(f'{t:g}' for t in args.tick_seconds)} "
        f"--serve-workers {' '.join(map(str, args.serve_workers))} --rounds {args.rounds}"
        + (" --python-client" if args.python_client else "")
    )
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {load_average()}; load generator: "
        + ("wrk (one process per kind)" if use_wrk else "Python threads + http.client (in this process)")
    )
    with tempfile.TemporaryDirectory(prefix="aftersales-queue-load-") as folder:
        script = lua_script(Path(folder), ["{}"]) if use_wrk else None
        for kind in kinds(args.database):
            run_database(kind, args, script)


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "src"))
    main(sys.argv[1:])

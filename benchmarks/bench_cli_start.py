"""Command-line start: `aftersales route TEXT` and `aftersales sla due START HOURS`, wall time of
a new process (imports, policy, routing kit, the answer), median of N runs.

    .venv/bin/python benchmarks/bench_cli_start.py [--runs 5] [--before PATH/src]

Each command runs once first in a fresh data folder (it writes the cue index, model and
holiday caches, as a store's first command does), then N times. With ``--before`` (the
``src`` folder of another tree, e.g. from `git archive REV src | tar -x -C /tmp/before`)
the same commands run from that tree too, alternating run by run (A B A B ...) so both see
the same load; the load average is printed beside each figure. CPU seconds (user + system)
are printed too: on a busy machine they move less than the wall time.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

COMMANDS = {
    "route TEXT": ["route", "Where is my order #1043? Tracking hasn't moved for 5 days"],
    "sla due START HOURS": ["sla", "due", "2026-11-27T16:00:00-05:00", "4"],
}


def run(arguments: Sequence[str], source: Path | None, data_dir: str) -> tuple[float, float]:
    """Wall and CPU seconds of one `python -m aftersales ARGUMENTS` (``source`` on PYTHONPATH)."""
    env = {**os.environ, "AFTERSALES_DATA_DIR": data_dir}
    env.pop("AFTERSALES_LLM_BASE_URL", None)
    env.pop("AFTERSALES_POLICY", None)
    if source is not None:
        env["PYTHONPATH"] = str(source)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "aftersales", *arguments], env=env, check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5, help="timed runs per command and tree (default 5)")
    parser.add_argument(
        "--before", type=Path, help="the src folder of a tree to compare with, run alternately"
    )
    args = parser.parse_args(argv)
    trees: dict[str, Path | None] = {"this tree": None}
    if args.before is not None:
        trees["before"] = args.before.resolve()
    print(f"command: .venv/bin/python benchmarks/bench_cli_start.py --runs {args.runs}", end="")
    print(f" --before {args.before}" if args.before else "")
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {load_average()} at the start"
    )
    for label, arguments in COMMANDS.items():
        walls: dict[str, list[float]] = {tree: [] for tree in trees}
        cpus: dict[str, list[float]] = {tree: [] for tree in trees}
        folders = {tree: tempfile.mkdtemp(prefix="aftersales-start-") for tree in trees}
        for tree, source in trees.items():
            run(arguments, source, folders[tree])  # the first run of a store: caches written
        for _ in range(args.runs):
            for tree, source in trees.items():
                wall, cpu = run(arguments, source, folders[tree])
                walls[tree].append(wall)
                cpus[tree].append(cpu)
        for tree in trees:
            print(
                f"aftersales {label} ({tree}): median {statistics.median(walls[tree]):.3f} s wall "
                f"(min {min(walls[tree]):.3f}, max {max(walls[tree]):.3f}), "
                f"median {statistics.median(cpus[tree]):.3f} s CPU; load average {load_average()}"
            )


if __name__ == "__main__":
    main(sys.argv[1:])

"""Intake memory: `aftersales intake` on an mbox of large mails, the peak of the process tree.

    .venv/bin/python benchmarks/bench_intake_memory.py [--mails 280] [--photo-mb 5.2] [--workers 2 0]

The mbox is generated in a temporary folder and deleted at the end: N customer mails, each
with a photo of random bytes (5.2 MB, about 7 MB once base64-encoded in the mail), so 280
mails make a 2 GB mailbox. For each --workers value, `aftersales intake MBOX --workers W
--json` runs as a new process on an empty SQLite data folder, and a poller reads /proc every
100 ms: the resident memory (VmRSS) of the process and all its worker processes, summed, and
their proportional share (Pss, where pages the forked workers share with the parent count
once). The peak of each sum is printed, with the run's time and counts. The hardening issue's
bound is 400 MB for the process and its workers together.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

CLI = str(Path(sys.executable).with_name("aftersales"))
MB = 1024 * 1024


@dataclass(slots=True)
class TreePeak:
    """The highest summed VmRSS and Pss (kB) seen for a process and its descendants."""

    rss_kb: int = 0
    pss_kb: int = 0
    processes: int = 0
    each_kb: dict[int, int] = field(default_factory=dict)  # each process's own peak VmRSS

    def each(self) -> str:
        return ", ".join(f"{kb / 1024:,.0f}" for kb in self.each_kb.values())


def write_mbox(path: Path, mails: int, photo_bytes: int) -> int:
    """``mails`` customer mails with one photo each; the file's size in bytes."""
    start = datetime(2026, 11, 24, 9, tzinfo=UTC)
    with path.open("wb") as out:
        for number in range(mails):
            sent = start + timedelta(minutes=7 * number)
            photo = base64.encodebytes(os.urandom(photo_bytes))
            out.write(
                (
                    f"From buyer{number}@example.com {sent:%a %b %d %H:%M:%S %Y}\n"
                    f"From: Buyer {number} <buyer{number}@example.com>\n"
                    "To: support@northwind.example\n"
                    f"Subject: Order #{1000 + number} arrived damaged\n"
                    f"Date: {format_datetime(sent)}\n"
                    f"Message-ID: <photo-{number}@example.com>\n"
                    "MIME-Version: 1.0\n"
                    'Content-Type: multipart/mixed; boundary="b1"\n\n'
                    "--b1\nContent-Type: text/plain; charset=utf-8\n\n"
                    f"My order #{1000 + number} arrived with a dented lid. A photo is attached.\n\n"
                    "--b1\nContent-Type: image/jpeg\n"
                    f'Content-Disposition: attachment; filename="lid-{number}.jpg"\n'
                    "Content-Transfer-Encoding: base64\n\n"
                ).encode()
            )
            out.write(photo)
            out.write(b"\n--b1--\n\n")
    return path.stat().st_size


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo.extend(int(child) for child in task.read_text().split())
            except OSError:
                continue
    return found


def _kb(path: str, field: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except (OSError, ValueError):
        return 0
    return 0


def watch(pid: int, peak: TreePeak, stop: threading.Event) -> None:
    """Poll the tree under ``pid`` until ``stop``; the peaks go into ``peak``."""
    while not stop.is_set():
        pids = _tree(pid)
        each = {p: _kb(f"/proc/{p}/status", "VmRSS:") for p in pids}
        for p, kb in each.items():
            peak.each_kb[p] = max(peak.each_kb.get(p, 0), kb)
        rss = sum(each.values())
        pss = sum(_kb(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids)
        peak.rss_kb, peak.pss_kb = max(peak.rss_kb, rss), max(peak.pss_kb, pss)
        peak.processes = max(peak.processes, len(pids))
        stop.wait(0.1)


def run_intake(mbox: Path, data_dir: Path, workers: int) -> tuple[TreePeak, float, dict[str, object]]:
    env = {**os.environ, "AFTERSALES_DATA_DIR": str(data_dir)}
    env.pop("AFTERSALES_DATABASE_URL", None)
    command = [CLI, "intake", str(mbox), "--workers", str(workers), "--json"]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak, stop = TreePeak(), threading.Event()
    poller = threading.Thread(target=watch, args=(process.pid, peak, stop))
    poller.start()
    out, err = process.communicate()
    stop.set()
    poller.join()
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"intake failed ({process.returncode}): {err.decode()[-2000:]}")
    summary: dict[str, object] = json.loads(out)
    return peak, seconds, summary


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mails", type=int, default=280)
    parser.add_argument("--photo-mb", type=float, default=5.2, help="each photo's size before base64")
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 0])
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="aftersales-bench-memory-"))
    try:
        mbox = folder / "large.mbox"
        size = write_mbox(mbox, args.mails, int(args.photo_mb * MB))
        print(f"mbox: {args.mails} mails, {size / MB:,.0f} MB ({size / args.mails / MB:.1f} MB each)")
        for workers in args.workers:
            data_dir = folder / f"data-{workers}"
            peak, seconds, summary = run_intake(mbox, data_dir, workers)
            print(
                f"--workers {workers}: peak {peak.rss_kb / 1024:,.0f} MB resident summed over "
                f"{peak.processes} processes (each at its peak: {peak.each()} MB), "
                f"{peak.pss_kb / 1024:,.0f} MB proportional (Pss); "
                f"{seconds:.0f} s; {summary['new_cases']} new cases, {summary['failed']} quarantined"
            )
            shutil.rmtree(data_dir)
        print(
            "reproduce: " + " ".join([".venv/bin/python", "benchmarks/bench_intake_memory.py", *sys.argv[1:]])
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

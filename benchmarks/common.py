"""Shared by the benchmarks: where the data sets are, and a routing kit on a scratch folder."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from aftersales.services.routing import RoutingKit
from aftersales.settings import Settings
from aftersales.wiring import build_routing_kit

HERE = Path(__file__).resolve().parent
CLI = str(Path(sys.executable).with_name("aftersales"))
REPO = HERE.parent
# The development set is Bitext's, not ours: read it from ../shared, never copy it here.
BITEXT = REPO.parent / "shared" / "data" / "bitext-dev" / "utterances.csv"
EVAL = HERE / "data" / "routing_eval.jsonl"
HOLDOUT = HERE / "data" / "routing_holdout.jsonl"


def scratch_kit() -> RoutingKit:
    """The router exactly as `aftersales route` builds it, with no store model trained."""
    data_dir = Path(tempfile.mkdtemp(prefix="aftersales-bench-"))
    return build_routing_kit(Settings(data_dir=data_dir, policy_file=None))


def bitext_rows() -> list[tuple[str, str]] | None:
    if not BITEXT.is_file():
        return None
    with BITEXT.open(newline="", encoding="utf-8") as handle:
        return [(row["utterance"], row["route"]) for row in csv.DictReader(handle)]


def eval_rows(path: Path = EVAL) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return [(item["text"], item["route"]) for item in map(json.loads, handle)]


def write_csv(path: Path, header: Sequence[str], groups: Iterable[list[dict[str, str]]]) -> int:
    """A shop export at ``path``: the header, then each group's rows (an order's line items, a
    product's variants); the number of rows written."""
    count = 0
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(header), restval="")
        writer.writeheader()
        for rows in groups:
            writer.writerows(rows)
            count += len(rows)
    return count


def timed_import(kind: str, path: Path, data_dir: str) -> tuple[float, dict[str, Any]]:
    """`aftersales import KIND PATH --json` as a new process on the data folder's SQLite file:
    the wall time and the summary it printed."""
    env = {**os.environ, "AFTERSALES_DATA_DIR": data_dir}
    for name in ("AFTERSALES_DATABASE_URL", "AFTERSALES_POLICY"):
        env.pop(name, None)
    started = time.perf_counter()
    done = subprocess.run(
        [CLI, "import", kind, str(path), "--json"], env=env, check=True, capture_output=True
    )
    return time.perf_counter() - started, json.loads(done.stdout)

"""Shared by the benchmarks: where the data sets are, and a routing kit on a scratch folder."""

from __future__ import annotations

import csv
import json
import tempfile
from pathlib import Path

from aftersales.services.routing import RoutingKit
from aftersales.settings import Settings
from aftersales.wiring import build_routing_kit

HERE = Path(__file__).resolve().parent
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

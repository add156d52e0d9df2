"""Fit the semantic reader's head on the project's own training text and write it to
src/aftersales/data/semantic_head.json (see adapters/reader/semantic.py).

Run after changing data/examples.csv or data/training/*.csv (a test says when):

    .venv/bin/python scripts/fit_semantic_head.py

Embedding the six thousand examples takes two to ten minutes on two cores.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from aftersales.adapters.files.packaged import builtin_examples
from aftersales.adapters.reader.semantic import HEAD_FILE, fit_head, head_to_dict, training_sources
from aftersales.adapters.reader.sentence_model import INSTALL_HINT, MiniLM, libraries_present, weights_folder

TARGET = Path(__file__).resolve().parents[1] / "src" / "aftersales" / "data" / HEAD_FILE


def main() -> int:
    folder = weights_folder()
    if folder is None or not libraries_present():
        sys.stderr.write(f"the semantic reader's weights are not installed: {INSTALL_HINT}\n")
        return 1
    examples = builtin_examples(list(training_sources()))
    started = time.perf_counter()
    head = fit_head(MiniLM(folder), examples)
    TARGET.write_text(json.dumps(head_to_dict(head), separators=(",", ":")) + "\n", encoding="utf-8")
    sys.stdout.write(f"{TARGET}: fitted on {len(examples):,} examples in {time.perf_counter() - started:.0f} s\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

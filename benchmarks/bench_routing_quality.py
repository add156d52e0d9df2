"""Routing quality: macro-F1, per-route precision/recall and the confusion matrix.

Data sets: the Bitext development set (../shared/data/bitext-dev, six of the ten routes;
measured, never trained on), the project's evaluation set (benchmarks/data/routing_eval.jsonl,
all ten routes, written apart from the router; its misses were studied to widen the cue
book, so its figure is optimistic), the project's holdout set
(benchmarks/data/routing_holdout.jsonl, all ten routes, tweets, product reviews and requests
in other words; never looked at while tuning), the seed's Routing Lab scenarios
(tests/scenarios/routing/seed_lab.toml), and the real development set (../shared/data/real-dev,
2,750 real tweets and reviews; measured only, never trained on), scored over the nine routes
with at least 40 messages, with the accuracy of the messages the router is sure and unsure of.

    .venv/bin/python benchmarks/bench_routing_quality.py [--confusion] [--json] [--real-dev DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

from aftersales.domain.evaluation import MIN_SUPPORT, score_routing
from aftersales.domain.routes import Route
from aftersales.services.routing import RoutingKit, route_text
from common import HOLDOUT, REPO, bitext_rows, eval_rows, scratch_kit

# Real messages, not ours: read from ../shared, never copied into the repository.
REAL_DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "real-dev"


def real_rows(folder: Path) -> list[tuple[str, str]] | None:
    path = folder / "messages.jsonl"
    if not path.is_file():
        return None
    with path.open(encoding="utf-8") as handle:
        return [(item["text"], item["route"]) for item in map(json.loads, handle)]


def score(kit: RoutingKit, rows: Sequence[tuple[str, str]], min_support: int = 1) -> dict[str, object]:
    """The figures `aftersales eval routing` prints (``domain/evaluation.py``), as a dict."""
    routings = [route_text(kit, text)[0] for text, _ in rows]
    predicted = [r.route.value for r in routings]
    gold = [route for _, route in rows]
    scores = score_routing([(Route(g), r.route) for g, r in zip(gold, routings, strict=True)])
    scored = [r for r in scores.routes if r.support >= max(min_support, 1)]
    return {
        "messages": len(rows),
        "macro_f1": scores.macro_f1(max(min_support, 1)),
        "accuracy": scores.accuracy,
        "per_route": {
            r.route.value: {"precision": r.precision, "recall": r.recall, "f1": r.f1, "support": r.support}
            for r in sorted(scored, key=lambda r: r.route.value)
        },
        "confusion": {
            r.route.value: {
                got.value: n
                for (expected, got), n in sorted(scores.confusion.items(), key=lambda i: i[0][1].value)
                if expected is r.route
            }
            for r in sorted(scored, key=lambda r: r.route.value)
        },
        "sure_unsure": _sure_unsure([r.unsure for r in routings], predicted, gold),
    }


def _sure_unsure(unsure: Sequence[bool], predicted: Sequence[str], gold: Sequence[str]) -> dict[str, object]:
    """How often the router is right when it is sure and when it says "check the route"."""
    result: dict[str, object] = {}
    for name, wanted in (("sure", False), ("unsure", True)):
        hits = [p == g for u, p, g in zip(unsure, predicted, gold, strict=True) if u is wanted]
        result[name] = {"messages": len(hits), "accuracy": sum(hits) / len(hits) if hits else 0.0}
    return result


FLAGS = Path(__file__).resolve().parent / "data" / "flags_eval.jsonl"
SCORED_FLAGS = ("angry", "threatens_dispute")


def flag_scores(kit: RoutingKit) -> dict[str, dict[str, float]]:
    """Recall and precision of the flags on the project's flag set (benchmarks/data)."""
    with FLAGS.open(encoding="utf-8") as handle:
        rows = [(item["text"], set(item["flags"])) for item in map(json.loads, handle)]
    raised = [{s.value for s in route_text(kit, text)[1] if s.kind == "flag"} for text, _ in rows]
    result = {}
    for flag in SCORED_FLAGS:
        hits = sum(flag in got and flag in want for got, (_, want) in zip(raised, rows, strict=True))
        wanted = sum(flag in want for _, want in rows)
        found = sum(flag in got for got in raised)
        result[flag] = {
            "messages": wanted,
            "recall": hits / wanted if wanted else 0.0,
            "precision": hits / found if found else 0.0,
        }
    return result


def seed_rows() -> list[tuple[str, str]]:
    cases = tomllib.loads((REPO / "tests" / "scenarios" / "routing" / "seed_lab.toml").read_text())["case"]
    return [(case["text"], case["route"]) for case in cases]


def report(name: str, result: dict[str, object], *, confusion: bool) -> None:
    print(f"\n## {name}: {result['messages']} messages")
    print(f"macro-F1 {result['macro_f1']:.3f}   accuracy {result['accuracy']:.3f}")
    split = result["sure_unsure"]
    assert isinstance(split, dict)
    print(
        "sure: {messages} messages, accuracy {accuracy:.3f}".format(**split["sure"])
        + "   unsure: {messages} messages, accuracy {accuracy:.3f}".format(**split["unsure"])
    )
    print(f"{'route':<18} {'precision':>9} {'recall':>7} {'F1':>6} {'n':>5}")
    per_route = result["per_route"]
    assert isinstance(per_route, dict)
    for route, row in per_route.items():
        print(
            f"{route:<18} {row['precision']:>9.3f} {row['recall']:>7.3f} {row['f1']:>6.3f} {row['support']:>5}"
        )
    if confusion:
        print("confusion (gold -> predicted: count)")
        matrix = result["confusion"]
        assert isinstance(matrix, dict)
        for gold, row in matrix.items():
            print(f"  {gold:<18} " + ", ".join(f"{p} {n}" for p, n in row.items()))


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--confusion", action="store_true", help="print the confusion matrices")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    parser.add_argument(
        "--real-dev", type=Path, default=REAL_DEV, help="folder of the real development set (messages.jsonl)"
    )
    args = parser.parse_args(argv)
    kit = scratch_kit()
    results: dict[str, object] = {}
    bitext = bitext_rows()
    if bitext is None:
        print("skipped bitext-dev: ../shared/data/bitext-dev/utterances.csv is absent", file=sys.stderr)
    else:
        results["bitext-dev (6 routes)"] = score(kit, bitext)
    results["project eval set (10 routes; its misses guided the cue book)"] = score(kit, eval_rows())
    results["project holdout set (10 routes; never used for tuning)"] = score(kit, eval_rows(HOLDOUT))
    results["seed Routing Lab scenarios"] = score(kit, seed_rows())
    real = real_rows(args.real_dev)
    if real is None:
        print(f"skipped real-dev: {args.real_dev / 'messages.jsonl'} is absent", file=sys.stderr)
    else:
        name = f"real-dev ({len(real)} real tweets and reviews; routes with >= {MIN_SUPPORT} messages)"
        results[name] = score(kit, real, MIN_SUPPORT)
    flag_result = flag_scores(kit)
    if args.json:
        print(json.dumps({**results, "flags": flag_result}, indent=2))
        return
    print("command: .venv/bin/python benchmarks/bench_routing_quality.py --confusion")
    for name, result in results.items():
        assert isinstance(result, dict)
        report(name, result, confusion=args.confusion)
    print(f"\n## flags ({FLAGS.name})")
    for flag, row in flag_result.items():
        print(
            f"{flag:<18} recall {row['recall']:.3f}  precision {row['precision']:.3f}  ({row['messages']:g} messages)"
        )


if __name__ == "__main__":
    main(sys.argv[1:])

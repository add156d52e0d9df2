"""How each kind of packaged training text moves routing quality.

Trains the built-in model on `data/examples.csv`, then adds each `data/training/*.csv` in
turn (tweets, reviews and mail, other languages), and scores every step on the real
development set (../shared/data/real-dev, measured only, never trained on) and the project's
holdout set.

    .venv/bin/python benchmarks/bench_training_kinds.py [--real-dev DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path

from aftersales.adapters.files.packaged import builtin_examples, training_files
from aftersales.domain.routing.model import features, train
from aftersales.domain.text import normalise
from bench_routing_quality import MIN_SUPPORT, REAL_DEV, real_rows, score
from common import EVAL, HOLDOUT, eval_rows, scratch_kit


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--real-dev", type=Path, default=REAL_DEV, help="folder of messages.jsonl")
    args = parser.parse_args(argv)
    real = real_rows(args.real_dev)
    if real is None:
        print(f"skipped: {args.real_dev / 'messages.jsonl'} is absent", file=sys.stderr)
        return
    kit = scratch_kit()
    holdout = eval_rows(HOLDOUT)
    evaluation = eval_rows(EVAL)
    names = ["examples.csv"]
    steps = [("examples.csv only", list(names))]
    # the kinds in the order the table reads, then any other file
    order = {
        "training/tweets.csv": 0,
        "training/reviews_and_mail.csv": 1,
        "training/languages.csv": 2,
        "training/shop_terms.csv": 3,
    }
    for name in sorted(training_files(), key=lambda n: (order.get(n, 9), n)):
        names.append(name)
        steps.append((f"+ {Path(name).stem}", list(names)))
    print(
        f"| training text | examples | real-dev macro-F1 (>= {MIN_SUPPORT}) | real-dev accuracy "
        "| holdout macro-F1 | eval macro-F1 |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for label, files in steps:
        examples = builtin_examples(files)
        model = train((features(normalise(t, kit.book.repair)), r) for t, r in examples)
        step_kit = dataclasses.replace(kit, model=model)
        on_real = score(step_kit, real, MIN_SUPPORT)
        on_holdout = score(step_kit, holdout)
        on_eval = score(step_kit, evaluation)
        print(
            f"| {label} | {len(examples):,} | {on_real['macro_f1']:.3f} | {on_real['accuracy']:.3f} "
            f"| {on_holdout['macro_f1']:.3f} | {on_eval['macro_f1']:.3f} |"
        )


if __name__ == "__main__":
    main(sys.argv[1:])

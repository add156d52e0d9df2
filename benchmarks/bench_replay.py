"""Replay: a store whose agents correct every misroute, and a router that learns from them.

    .venv/bin/python benchmarks/bench_replay.py [--retrain-every 100] [--order file|mixed]

Feeds ../shared/data/real-dev/messages.jsonl in order through intake (the intake service,
`services/intake.py::take_in`, one transaction a message, on a temporary SQLite desk), and
re-routes each case whose route is not the label's with the re-route use case
(`services/rerouting.py::reroute`, what `aftersales reroute` and the API call: the CLI's
process start per message would only add time). Every ``--retrain-every`` new labels the
store model is trained from the desk's labels (`services/learning.py::learn_from_desk`, the
`aftersales train --from-desk` path, promotion rule included) and, when promoted, used for the
following messages. Prints the accuracy at intake on each next 100 messages, and the first 500
against the last 500, beside the built-in router on the same messages (no learning) as the
control: the file holds one source after another, so part of any first-to-last change is the
change of source, not learning.

MEASURE ONLY: the messages are read from ../shared and never stored in the repository; the
temporary desk (and the models trained on it) is deleted at the end.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aftersales.adapters.mail.message_files import MessageReader, message_from_record
from aftersales.domain.routes import Route
from aftersales.services.intake import Incoming, take_in
from aftersales.services.learning import learn_from_desk
from aftersales.services.rerouting import Reroute, reroute
from aftersales.services.routing import RoutingKit, message_card, route_text
from aftersales.settings import Settings
from aftersales.wiring import build_routing_kit, builtin_examples, load_store_model, open_desk, router_models
from common import REPO

REAL_DEV = REPO.parent / "shared" / "data" / "real-dev" / "messages.jsonl"
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
BLOCK = 100
EDGE = 500


def rows(order: str) -> list[dict[str, Any]]:
    with REAL_DEV.open(encoding="utf-8") as handle:
        items = [json.loads(line) for line in handle]
    if order == "mixed":  # the two sources interleaved, as a store's inbox would mix them
        random.Random(11).shuffle(items)
    return items


def replay(items: list[dict[str, Any]], every: int) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="aftersales-replay-"))
    try:
        settings = Settings(data_dir=data_dir, policy_file=None)
        desk, kit = open_desk(settings), build_routing_kit(settings)
        builtin = kit
        models, examples = router_models(settings), builtin_examples()
        reader = MessageReader.of(START, ["support@example.com"])
        hits, control, trainings = [], [], []
        since_training = 0
        started = time.perf_counter()
        for n, item in enumerate(items):
            at = START + timedelta(minutes=n)
            record = {"id": f"{item['id']}@replay", "from": f"c{n}@replay.example", "text": item["text"]}
            message = message_from_record(record | {"sent_at": at.isoformat()}, reader)
            result = take_in(desk.uow, kit, Incoming(message, "replay"), now=at)
            assert result.case_id is not None
            with desk.read() as cases:
                routed = cases.case_row(result.case_id).route
            control.append(_builtin_route(builtin, message) == item["route"])
            hits.append(routed == item["route"])
            if routed == item["route"]:
                continue
            change = Reroute(case_id=result.case_id, route=Route(item["route"]), by="agent", at=at)
            reroute(desk.uow, kit, change)
            since_training += 1
            if since_training >= every:
                since_training = 0
                learned = learn_from_desk(desk.read, kit, models, examples, at=at)
                trainings.append(learned.as_dict() | {"after_message": n + 1})
                if learned.version.promoted:
                    kit = replace(kit, model=load_store_model(settings.model_file))
        seconds = time.perf_counter() - started
        texts = [item["text"] for item in items]
        speed = {"built-in": throughput(builtin, texts), "store model": throughput(kit, texts)}
        return {"hits": hits, "control": control, "trainings": trainings, "seconds": seconds, "speed": speed}
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def throughput(kit: RoutingKit, texts: list[str]) -> float:
    """Messages a second through the router alone (``route_text``), best of three."""
    best = 0.0
    for _ in range(3):
        started = time.perf_counter()
        for text in texts:
            route_text(kit, text)
        best = max(best, len(texts) / (time.perf_counter() - started))
    return best


def _builtin_route(kit: RoutingKit, message: Any) -> str:
    return message_card(kit, message).routing.route.value


def share(flags: list[bool]) -> float:
    return sum(flags) / len(flags) if flags else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--retrain-every", type=int, default=100)
    parser.add_argument("--order", choices=["file", "mixed"], default="file")
    args = parser.parse_args()
    if not REAL_DEV.is_file():
        print(f"skipped: {REAL_DEV} is absent (the real-dev set is read from ../shared)", file=sys.stderr)
        return 0
    items = rows(args.order)
    run = replay(items, args.retrain_every)
    hits, control = run["hits"], run["control"]
    print(f"$ {' '.join(['.venv/bin/python', 'benchmarks/bench_replay.py', *sys.argv[1:]])}")
    print(f"{len(items)} messages ({args.order} order), retrain every {args.retrain_every} labels")
    print(
        f"{sum(not h for h in hits)} re-routes (labels), {len(run['trainings'])} trainings, {run['seconds']:.0f} s"
    )
    print("messages   replay  built-in")
    for start in range(0, len(hits), BLOCK):
        block = slice(start, start + BLOCK)
        print(
            f"{start + 1:>5}-{min(start + BLOCK, len(hits)):<5} {share(hits[block]):6.1%}  {share(control[block]):6.1%}"
        )
    first, last = share(hits[:EDGE]), share(hits[-EDGE:])
    first_c, last_c = share(control[:EDGE]), share(control[-EDGE:])
    print(
        f"first {EDGE}: {first:.1%} (built-in {first_c:.1%}); last {EDGE}: {last:.1%} (built-in {last_c:.1%})"
    )
    print(
        f"last - first: {100 * (last - first):+.1f} points (built-in alone {100 * (last_c - first_c):+.1f})"
    )
    print(f"learning on the last {EDGE}: {100 * (last - last_c):+.1f} points over the built-in router")
    speed = run["speed"]
    print(
        f"routing speed: built-in {speed['built-in']:,.0f} msg/s, with the store model "
        f"{speed['store model']:,.0f} msg/s ({speed['built-in'] / speed['store model']:.2f}x slower)"
    )
    for t in run["trainings"]:
        print(
            f"  after {t['after_message']:>5}: version {t['version']} on {t['examples']} labels, "
            f"cv {t['score']:.1%} vs current {t['current_score']:.1%}: "
            f"{'promoted' if t['promoted'] else 'not promoted'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""History import throughput: a JSON-lines export of past conversations into an empty SQLite desk, twice.

    .venv/bin/python benchmarks/bench_history_import.py [--conversations 100000] [--seed 7]

The export is generated in a temporary folder in the ``aftersales`` format
(docs/history-import.md): N conversations over two years from about N/3 customers, each of 1
to 8 messages (the customer, replies, now and then an internal note; a few attachments'
metadata), written from templates over all ten routes with order numbers and names in slots;
85% closed, 5% resolved, 10% still open; a third carry one or two of twelve tags, half of those
mapped to routes by the policy's [history.tag_routes] (so they become labelled examples), and
one line in a thousand broken (a time without an offset). Timed: `aftersales import history
FILE --json` as a new process (start-up included) into an empty SQLite file in a temporary data
folder, then the same command again on the same file, when every conversation is already there.
The issue's target: 100,000 conversations in under 5 minutes on SQLite.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aftersales.adapters.policy.file import default_policy_text
from common import CLI

OPENINGS = [
    ("Where is my order #{order}? Tracking has not moved for a week.", "shipping"),
    ("My parcel for order {order} still has not arrived, it has been ten days.", "shipping"),
    ("The mug from order #{order} arrived cracked, photo attached.", "damage"),
    ("Lid snapped off on arrival, the glass is chipped. Order {order}.", "damage"),
    ("I received a black tumbler but ordered the white one (#{order}).", "wrong"),
    ("Can I return the bottle from order {order} and get a refund?", "refund"),
    ("Please cancel order #{order}, I ordered the wrong size.", "cancel"),
    ("Does the 20oz tumbler fit a standard car cup holder?", "question"),
    ("Love the camp mug, five stars from me and my partner!", "review"),
    ("My bank says there is a dispute on order {order}, I did not get it.", "dispute"),
    ("Can I order the same set again with a different colour?", "again"),
    ("Hello, quick question about your shop.", "misc"),
]
REPLIES = [
    "Hi {name}, thanks for writing. I have looked into order #{order} and will update you shortly.",
    "Sorry about that, {name}! A replacement is on its way; tracking follows by e-mail.",
    "Thanks {name}, the refund for #{order} is issued and shows in 5-7 business days.",
]
FOLLOW_UPS = ["Thanks, any news?", "Great, thank you!", "It is still not here.", "Photo attached as asked."]
NOTES = ["Carrier claim opened.", "Checked the warehouse: packed correctly.", "VIP, be generous."]
TAGS = [
    "wismo",
    "damaged",
    "wrong item",
    "refund",
    "cancel",
    "presale",
    "vip",
    "review",
    "chargeback",
    "reorder",
    "misc",
    "urgent",
]
MAPPED = {
    "wismo": "shipping_delay",
    "damaged": "damaged_item",
    "refund": "refund_return",
    "chargeback": "chargeback_risk",
    "cancel": "cancel_or_change",
    "presale": "pre_purchase",
}
NAMES = ["Anna", "Bob", "Chen", "Dana", "Emil", "Fatima", "Grace", "Hugo", "Ines", "Jon"]
START = datetime(2024, 1, 1, 8, tzinfo=UTC)


def conversation(number: int, rng: random.Random) -> dict[str, Any]:
    customer = rng.randrange(max(1, number // 3) + 1)
    name = rng.choice(NAMES)
    order = str(1000 + rng.randrange(200_000))
    created = START + timedelta(minutes=7 * number + rng.randrange(300))
    opening, _ = rng.choice(OPENINGS)
    moment = created
    messages = [_message("1", f"c{customer}@example.com", moment, "in", opening.format(order=order))]
    for index in range(2, rng.choice((2, 2, 3, 3, 4, 4, 5, 6, 8)) + 1):
        moment += timedelta(minutes=rng.randrange(20, 3000))
        if rng.random() < 0.12:
            messages.append(_message(str(index), "Priya", moment, "note", rng.choice(NOTES)))
        elif index % 2 == 0:
            reply = rng.choice(REPLIES).format(name=name, order=order)
            messages.append(_message(str(index), "Priya", moment, "out", reply))
        else:
            messages.append(
                _message(str(index), f"c{customer}@example.com", moment, "in", rng.choice(FOLLOW_UPS))
            )
    if rng.random() < 0.15:
        messages[0]["attachments"] = [
            {"name": "photo.jpg", "content_type": "image/jpeg", "size": rng.randrange(10**4, 10**7)}
        ]
    roll = rng.random()
    status = "closed" if roll < 0.85 else "resolved" if roll < 0.9 else "open"
    closed = (moment + timedelta(hours=rng.randrange(1, 48))).isoformat() if status != "open" else None
    tags = rng.sample(TAGS, rng.choice((1, 2))) if rng.random() < 0.33 else []
    created_at = created.isoformat() if number % 1000 != 999 else created.strftime("%Y-%m-%d %H:%M")
    return {
        "id": f"T-{number}",
        "subject": opening.format(order=order)[:60],
        "status": status,
        "created_at": created_at,
        "closed_at": closed,
        "tags": tags,
        "customer": {"email": f"c{customer}@example.com", "name": f"{name} Customer{customer}"},
        "order": order,
        "assignee": rng.choice(["priya@example.com", "marcus@example.com", ""]),
        "messages": messages,
    }


def _message(message_id: str, sender: str, at: datetime, direction: str, body: str) -> dict[str, Any]:
    return {
        "id": message_id,
        "from": sender,
        "at": at.isoformat(),
        "direction": direction,
        "body": body,
        "attachments": [],
    }


def write_export(path: Path, conversations: int, seed: int) -> int:
    rng = random.Random(seed)
    messages = 0
    with path.open("w", encoding="utf-8") as handle:
        for number in range(conversations):
            line = conversation(number, rng)
            messages += len(line["messages"])
            handle.write(json.dumps(line) + "\n")
    return messages


def timed(path: Path, data_dir: Path, policy: Path) -> tuple[float, dict[str, Any]]:
    env = {**os.environ, "AFTERSALES_DATA_DIR": str(data_dir), "AFTERSALES_POLICY": str(policy)}
    env.pop("AFTERSALES_DATABASE_URL", None)
    started = time.perf_counter()
    done = subprocess.run(
        [CLI, "import", "history", str(path), "--json"], env=env, check=True, capture_output=True
    )
    return time.perf_counter() - started, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aftersales-history-") as folder:
        path = Path(folder) / "history.jsonl"
        messages = write_export(path, args.conversations, args.seed)
        policy = Path(folder) / "policy.toml"
        table = "\n".join(f'"{tag}" = "{route}"' for tag, route in MAPPED.items())
        policy.write_text(f"{default_policy_text()}\n[history.tag_routes]\n{table}\n", encoding="utf-8")
        size = path.stat().st_size / 1e6
        print(
            f"export: {args.conversations:,} conversations, {messages:,} messages, {size:.1f} MB ({path.name})"
        )
        print(
            f"command: aftersales import history {path.name} --json  "
            "(AFTERSALES_DATA_DIR: empty SQLite; AFTERSALES_POLICY: the default policy + [history.tag_routes])"
        )
        data_dir = Path(folder) / "data"
        for label in ("first run, empty database", "second run, same file"):
            wall, summary = timed(path, data_dir, policy)
            keys = ("imported", "already_there", "skipped", "messages", "notes", "labels")
            counts = {key: summary[key] for key in keys}
            print(f"  {label}: {wall:.1f} s wall, {args.conversations / wall:,.0f} conversations/s, {counts}")
        database = data_dir / "aftersales.db"
        print(f"  database: {database.stat().st_size / 1e6:.0f} MB")


if __name__ == "__main__":
    main()

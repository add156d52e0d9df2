"""`aftersales intake` reads a file by its words unless `--semantic` lets the semantic reader
read the messages the words leave unsure (a backlog imports at full speed by default)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from aftersales.adapters.reader.sentence_model import libraries_present, weights_folder
from aftersales.cli import cli

pytestmark = pytest.mark.skipif(
    weights_folder() is None or not libraries_present(), reason="the semantic reader is not installed"
)
# the words read a delay (a wait, an order number); it is a question before buying
CANADA = {
    "text": "Hello, do you ship to Canada and roughly how long does it take to get there? Order #1043",
    "from": "ana@example.com",
    "subject": "Canada?",
    "sent_at": "2026-11-24T10:00:00-05:00",
}


def routed(tmp_path: Path, *flags: str) -> dict[str, object]:
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text(json.dumps(CANADA) + "\n", encoding="utf-8")
    env = {
        "AFTERSALES_DATA_DIR": str(tmp_path / "data"),
        "AFTERSALES_POLICY": None,
        "AFTERSALES_DATABASE_URL": None,
    }
    runner = CliRunner()
    assert runner.invoke(cli, ["intake", str(inbox), *flags], env=env).exit_code == 0
    case = json.loads(runner.invoke(cli, ["case", "1", "--json"], env=env).stdout)
    event: dict[str, object] = next(e["data"] for e in case["timeline"] if e["kind"] == "routed")
    return event


def test_a_file_is_read_by_its_words_by_default(tmp_path: Path) -> None:
    event = routed(tmp_path)
    assert event["route"] == "shipping_delay"
    assert "semantic reader" not in str(event["decided_by"])


def test_semantic_lets_the_semantic_reader_read_the_unsure_message(tmp_path: Path) -> None:
    event = routed(tmp_path, "--semantic")
    assert event["route"] == "pre_purchase"
    assert str(event["decided_by"]).startswith("the semantic reader reads pre_purchase")

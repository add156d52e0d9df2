"""`aftersales intake` reads a file by its words unless `--semantic` lets the semantic reader
read the messages the words leave unsure (a backlog imports at full speed by default); the
cases it would have read wait for it, and `aftersales reread` (or the worker's job) reads them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from aftersales.adapters.policy.file import default_policy_text
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


def desk_env(tmp_path: Path) -> dict[str, str | None]:
    return {
        "AFTERSALES_DATA_DIR": str(tmp_path / "data"),
        "AFTERSALES_POLICY": None,
        "AFTERSALES_DATABASE_URL": None,
    }


def take_in(tmp_path: Path, *flags: str) -> dict[str, object]:
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text(json.dumps(CANADA) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["intake", str(inbox), "--json", *flags], env=desk_env(tmp_path))
    assert result.exit_code == 0, result.output
    summary: dict[str, object] = json.loads(result.stdout)
    return summary


def case_one(tmp_path: Path) -> dict[str, object]:
    case: dict[str, object] = json.loads(
        CliRunner().invoke(cli, ["case", "1", "--json"], env=desk_env(tmp_path)).stdout
    )
    return case


def routed(tmp_path: Path, *flags: str) -> dict[str, object]:
    take_in(tmp_path, *flags)
    timeline = case_one(tmp_path)["timeline"]
    assert isinstance(timeline, list)
    event: dict[str, object] = next(e["data"] for e in timeline if e["kind"] == "routed")
    return event


def test_a_file_is_read_by_its_words_by_default(tmp_path: Path) -> None:
    event = routed(tmp_path)
    assert event["route"] == "shipping_delay"
    assert "semantic reader" not in str(event["decided_by"])


def test_semantic_lets_the_semantic_reader_read_the_unsure_message(tmp_path: Path) -> None:
    event = routed(tmp_path, "--semantic")
    assert event["route"] == "pre_purchase"
    assert str(event["decided_by"]).startswith("the semantic reader reads pre_purchase")


def test_the_cases_read_by_words_wait_for_the_semantic_reader(tmp_path: Path) -> None:
    assert take_in(tmp_path)["meaning_due"] == 1
    (tmp_path / "other").mkdir()
    assert take_in(tmp_path / "other", "--semantic")["meaning_due"] == 0


def test_reread_reads_them_by_meaning_and_plans_them_again(tmp_path: Path) -> None:
    take_in(tmp_path)
    runner = CliRunner()

    result = runner.invoke(cli, ["reread", "--json"], env=desk_env(tmp_path))

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"read": 1, "rerouted": 1, "left": 0}
    case = case_one(tmp_path)["case"]
    assert isinstance(case, dict)
    assert (case["route"], case["lead_role"]) == ("pre_purchase", "frontline")
    assert str(case["route_check"]).startswith("the router was unsure")
    again = runner.invoke(cli, ["reread"], env=desk_env(tmp_path))
    assert (
        again.stdout.strip()
        == "read 0 cases again by meaning: 0 changed route (each marked 'check the route'); 0 still waiting"
    )


def test_reread_without_the_semantic_reader_says_how_to_get_it(tmp_path: Path) -> None:
    take_in(tmp_path)
    policy = tmp_path / "policy.toml"
    policy.write_text(
        default_policy_text().replace("semantic = true", "semantic = false", 1), encoding="utf-8"
    )

    result = CliRunner().invoke(cli, ["reread"], env=desk_env(tmp_path) | {"AFTERSALES_POLICY": str(policy)})

    assert result.exit_code == 1
    assert "pip install 'aftersales[semantic]'" in result.output
    assert take_in(tmp_path)["meaning_due"] == 1  # still waiting

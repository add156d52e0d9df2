"""`aftersales eval routing` and `aftersales route` with a language-model reader configured by the
three AFTERSALES_LLM_* variables (a chat-completions server on 127.0.0.1, tests/support/chat_server.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from aftersales.cli import cli
from aftersales.domain.errors import ConfigError, InputError
from aftersales.settings import LlmSettings, load_settings
from support.chat_server import Answer, ChatServer, reading, serving

Env = dict[str, str | None]
# written for this test: four routes, one message the local reader gets wrong
LABELLED = [
    {
        "id": "a",
        "text": "Where is my order #1043? Tracking hasn't moved in 5 days.",
        "route": "shipping_delay",
    },
    {"id": "b", "text": "The mug arrived in pieces, the handle snapped off", "route": "damaged_item"},
    {"id": "c", "text": "Do you ship to Canada, and how long does it take?", "route": "pre_purchase"},
    {"id": "d", "text": "Love it, five stars, my coffee stays hot all morning", "route": "review"},
    {
        "id": "e",
        # the local reader takes the old breakage for a new one: its one miss here
        "text": "no scan in 6 days. last time the mug arrived broken, hope not again",
        "route": "shipping_delay",
    },
]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("eval-data")


@pytest.fixture
def env(data_dir: Path) -> Env:
    return {"AFTERSALES_DATA_DIR": str(data_dir), "AFTERSALES_POLICY": None, "AFTERSALES_LLM_BASE_URL": None}


@pytest.fixture
def server() -> Iterator[ChatServer]:
    with serving() as running:
        yield running


def invoke(env: Env, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def labelled_file(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def labelled(tmp_path: Path) -> Path:
    return labelled_file(tmp_path / "set.jsonl", [json.dumps(item) for item in LABELLED])


def test_eval_prints_macro_f1_accuracy_per_route_scores_and_the_confusion_matrix(
    env: Env, labelled: Path
) -> None:
    result = invoke(env, "eval", "routing", str(labelled))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"{labelled}: 5 messages read by the local reader"
    assert lines[1] == "macro-F1: no route has 40+ examples"
    assert lines[3] == "accuracy 0.800 (4 of 5)"
    assert "shipping_delay         2        1      1.000   0.500  0.667" in lines
    assert "damaged_item           1        2      0.500   1.000  0.667" in lines
    assert "shipping_delay         .     1     1     ." in lines  # one read as damaged_item


def test_eval_json_gives_the_same_figures(env: Env, labelled: Path) -> None:
    result = invoke(env, "eval", "routing", str(labelled), "--json")
    data = json.loads(result.stdout)
    assert (data["messages"], data["accuracy"], data["macro_f1_routes"], data["read_by"]) == (
        5,
        0.8,
        0,
        {"local": 5},
    )
    assert data["routes"]["shipping_delay"] == {
        "support": 2,
        "predicted": 1,
        "precision": 1.0,
        "recall": 0.5,
        "f1": 0.6667,
    }
    assert data["confusion"]["shipping_delay"] == {"shipping_delay": 1, "damaged_item": 1}
    assert data["macro_f1_all"] == round((2 / 3 + 2 / 3 + 1 + 1) / 4, 4)
    assert "latency_ms" not in data


def test_bad_lines_are_reported_by_number_and_skipped(env: Env, tmp_path: Path) -> None:
    path = labelled_file(
        tmp_path / "mixed.jsonl",
        [
            json.dumps(LABELLED[0]),
            "not json",
            "[1]",
            '{"text": "", "route": "other"}',
            '{"text": "hi", "route": "lost"}',
            '{"route": "review"}',
        ],
    )
    result = invoke(env, "eval", "routing", str(path), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["bad_lines"] == [
        "line 2: not valid JSON (Expecting value)",
        'line 3: expected an object with "text" and "route"',
        "line 4: the message is empty",
        "line 5: \"route\" 'lost' is not a route; use one of pre_purchase, cancel_or_change, shipping_delay, "
        "refund_return, damaged_item, wrong_item, chargeback_risk, review, repeat_purchase, other",
        'line 6: "text" must be a string',
    ]
    assert f"{path}: line 2: not valid JSON" in result.stderr


def test_a_file_without_one_usable_line_is_an_input_error(env: Env, tmp_path: Path) -> None:
    path = labelled_file(tmp_path / "bad.jsonl", ["nope", '{"text": "x"}'])
    result = invoke(env, "eval", "routing", str(path))
    assert isinstance(result.exception, InputError)  # main() prints it and exits 2
    assert "no usable line (2 bad)" in str(result.exception)


def test_flags_labelled_as_a_list_or_one_by_one_get_recall_and_precision(env: Env, tmp_path: Path) -> None:
    path = labelled_file(
        tmp_path / "flags.jsonl",
        [
            json.dumps(
                {
                    "text": "Tracking hasn't moved in 5 days. This is RIDICULOUS",
                    "route": "shipping_delay",
                    "angry": True,
                }
            ),
            json.dumps({"text": "Do you ship to Canada?", "route": "pre_purchase", "angry": False}),
            json.dumps(
                {
                    "text": "I will dispute it with my bank today",
                    "route": "chargeback_risk",
                    "flags": ["threatens_dispute", "angry"],
                }
            ),
            json.dumps({"text": "Love it, five stars", "route": "review"}),
            json.dumps({"text": "hi", "route": "other", "angry": "yes"}),
            json.dumps({"text": "hi", "route": "other", "flags": ["cross"]}),
        ],
    )
    result = invoke(env, "eval", "routing", str(path), "--json")
    data = json.loads(result.stdout)
    # "angry" is labelled on three lines: two one by one and the list (which labels every flag)
    assert data["flags"]["angry"] == {"labelled": 3, "set": 2, "raised": 2, "recall": 1.0, "precision": 1.0}
    assert data["flags"]["threatens_dispute"]["labelled"] == 1
    assert data["flags"]["threatens_dispute"]["recall"] == 1.0
    assert data["bad_lines"] == [
        'line 5: "angry" must be true or false',
        "line 6: \"flags\" names 'cross', not a flag; use angry, asks_refund, mentions_photo, threatens_dispute, "
        "asks_human",
    ]
    text = invoke(env, "eval", "routing", str(path)).stdout
    assert "angry (3)                          2       2   1.000      1.000" in text.splitlines()


def test_eval_with_the_language_model_reports_latency_and_fallbacks(
    env: Env, labelled: Path, server: ChatServer
) -> None:
    server.script = [reading(item["route"]) for item in LABELLED[:4]] + [Answer("garbage"), Answer("garbage")]
    env |= {"AFTERSALES_LLM_BASE_URL": server.base_url, "AFTERSALES_LLM_MODEL": "test-model"}
    data = json.loads(invoke(env, "eval", "routing", str(labelled), "--reader", "llm", "--json").stdout)
    assert data["read_by"] == {"llm": 4, "local_fallback": 1}
    assert data["fallbacks"] == {"the answer is not JSON: …; retried: the answer is not JSON: …": 1}
    assert data["accuracy"] == 0.8
    assert 0 < data["latency_ms"]["p50"] <= data["latency_ms"]["p95"]
    text = invoke(env, "eval", "routing", str(labelled), "--reader", "llm").stdout
    assert "latency per message: p50" in text


def test_eval_with_the_language_model_needs_its_server(env: Env, labelled: Path) -> None:
    result = invoke(env, "eval", "routing", str(labelled), "--reader", "llm")
    assert isinstance(result.exception, ConfigError)
    assert "set AFTERSALES_LLM_BASE_URL and AFTERSALES_LLM_MODEL" in str(result.exception)


# ----------------------------------------------------------------------------- route --json


def test_route_json_says_who_read_the_message(env: Env, server: ChatServer, tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    invoke(env, "policy", "init", str(policy))
    policy.write_text(policy.read_text().replace('use = "when_unsure"', 'use = "always"'))
    server.script = [reading("shipping_delay", quotes=("no scan in 6 days",))]
    env |= {
        "AFTERSALES_LLM_BASE_URL": server.base_url,
        "AFTERSALES_LLM_MODEL": "m",
        "AFTERSALES_POLICY": str(policy),
    }
    card = json.loads(invoke(env, "route", "--json", LABELLED[4]["text"]).stdout)
    assert (card["route"], card["read_by"], card["reader_note"]) == (
        "shipping_delay",
        "llm",
        "reads as shipping_delay",
    )
    local = json.loads(invoke(env | {"AFTERSALES_LLM_BASE_URL": None}, "route", "--json", "hello").stdout)
    assert (local["read_by"], local["reader_note"]) == ("local", "")


# ----------------------------------------------------------------------------- settings


def test_the_three_variables_are_read_and_checked() -> None:
    base = {"AFTERSALES_DATA_DIR": "/x"}
    assert load_settings(base).llm is None
    llm = load_settings(
        base | {"AFTERSALES_LLM_BASE_URL": "http://127.0.0.1:11434/v1/", "AFTERSALES_LLM_MODEL": "qwen2.5:3b"}
    ).llm
    assert llm == LlmSettings("http://127.0.0.1:11434/v1", "qwen2.5:3b")
    assert "secret" not in repr(
        load_settings(
            base
            | {
                "AFTERSALES_LLM_BASE_URL": "http://h/v1",
                "AFTERSALES_LLM_MODEL": "m",
                "AFTERSALES_LLM_API_KEY": "secret",
            }
        )
    )
    with pytest.raises(ConfigError, match="AFTERSALES_LLM_MODEL is not"):
        load_settings(base | {"AFTERSALES_LLM_BASE_URL": "http://127.0.0.1:11434/v1"})
    with pytest.raises(ConfigError, match="http:// or https://"):
        load_settings(base | {"AFTERSALES_LLM_BASE_URL": "127.0.0.1:11434", "AFTERSALES_LLM_MODEL": "m"})

"""Corrections from the command line: `aftersales reroute`, `train --from-desk`, `model list|use`.

Given a desk (embedded SQLite in the test's data folder) with a few cases taken in, when an
agent re-routes them, then `train --from-desk` trains on those labels (its report counts
them), keeps the model as a version and makes it current when it is not worse; a bad case id
or route is refused with a clear error, exit code 2, and nothing changes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from aftersales.cli import cli
from aftersales.domain.cases import CaseNotFound

Env = dict[str, str | None]
SCRIPT = Path(sys.executable).with_name("aftersales")
SENT = "2026-11-24T10:00:00-05:00"
# (message, the route an agent gives it)
CORRECTIONS = [
    ("Still waiting on the thing I ordered for my nephew, birthday is saturday", "shipping_delay"),
    ("honestly the best purchase I made this year, five stars", "review"),
    ("can I swap the blue one for the green before you send it", "cancel_or_change"),
    ("does the 20oz fit a standard car cup holder?", "pre_purchase"),
    ("got someone else's parcel, a pair of shoes, not my mug", "wrong_item"),
    ("lid came off and there is a crack down the side", "damaged_item"),
]


@pytest.fixture(scope="module")
def warm_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("warm")
    result = CliRunner().invoke(cli, ["sla", "due", SENT, "1"], env={"AFTERSALES_DATA_DIR": str(data_dir)})
    assert result.exit_code == 0, result.output
    return data_dir / "cache"


@pytest.fixture
def desk(tmp_path: Path, warm_cache: Path) -> Env:
    """Six cases taken in (ids 1 to 6, in the order of CORRECTIONS)."""
    shutil.copytree(warm_cache, tmp_path / "data" / "cache")
    env: Env = {
        "AFTERSALES_DATA_DIR": str(tmp_path / "data"),
        "AFTERSALES_POLICY": None,
        "AFTERSALES_DATABASE_URL": None,
    }
    inbox = tmp_path / "inbox.jsonl"
    lines = [
        {"id": f"m{n}@x", "from": f"c{n}@example.com", "sent_at": SENT, "text": text}
        for n, (text, _) in enumerate(CORRECTIONS)
    ]
    inbox.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    ok(env, "intake", str(inbox))
    return env


def invoke(env: Env, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def ok(env: Env, *args: str) -> str:
    result = invoke(env, *args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def run_script(env: Env, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
    environ |= {k: v for k, v in env.items() if v is not None}
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, env=environ, timeout=60, check=False
    )


def case_json(env: Env, case_id: int) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ok(env, "case", str(case_id), "--json"))
    return data


def correct_all(env: Env) -> int:
    """Re-route every case whose route is not the agent's; the number of corrections."""
    done = 0
    for case_id, (_, route) in enumerate(CORRECTIONS, start=1):
        if case_json(env, case_id)["case"]["route"] != route:
            ok(env, "reroute", str(case_id), route, "--reason", "agent's reading", "--by", "Marcus")
            done += 1
        else:
            ok(env, "reroute", str(case_id), route, "--by", "Marcus")  # the same route: a confirmation
    return done


def test_reroute_replans_the_case_and_prints_the_new_lead_and_stop_line(desk: Env) -> None:
    out = ok(desk, "reroute", "1", "chargeback_risk", "--reason", "threatens the bank", "--by", "Marcus")

    data = case_json(desk, 1)
    case = data["case"]
    assert (case["route"], case["lead_role"], case["route_check"]) == ("chargeback_risk", "founder", "")
    assert out.startswith("case 1: route chargeback_risk; lead ")
    assert case["decision"]["stop_line"] in out
    rerouted = [e for e in data["timeline"] if e["kind"] == "rerouted"]
    assert [(e["actor"], e["data"]["to"], e["data"]["reason"]) for e in rerouted] == [
        ("Marcus", "chargeback_risk", "threatens the bank")
    ]


def test_train_from_desk_learns_the_corrections_and_keeps_a_version(desk: Env, tmp_path: Path) -> None:
    correct_all(desk)

    report = json.loads(ok(desk, "train", "--from-desk", "--folds", "2", "--json"))

    assert report["examples"] == len(CORRECTIONS)  # every label is in the training set
    assert report["per_route"] == {route: 1 for _, route in CORRECTIONS}
    assert (report["version"], report["current_version"]) == (1, None)
    assert report["promoted"] is (report["score"] >= report["current_score"])
    model_file = tmp_path / "data" / "router-model.json"
    assert model_file.is_file() is report["promoted"]
    index = json.loads((tmp_path / "data" / "models" / "index.json").read_text(encoding="utf-8"))
    assert [(v["version"], v["labels"], v["source"]) for v in index["versions"]] == [(1, 6, "desk")]

    text = ok(desk, "train", "--from-desk", "--folds", "2")
    assert text.splitlines()[0].startswith("6 labelled messages (")
    assert "promoted" in text.splitlines()[-1]


def test_model_list_and_use(desk: Env, tmp_path: Path) -> None:
    correct_all(desk)
    ok(desk, "train", "--from-desk", "--folds", "2")
    model_file = tmp_path / "data" / "router-model.json"

    assert ok(desk, "model", "use", "builtin") == "the built-in model is current\n"
    assert not model_file.exists()
    assert ok(desk, "model", "list").splitlines()[-1] == "current: the built-in model"

    assert ok(desk, "model", "use", "1") == "version 1 is current\n"
    assert model_file.read_bytes() == (tmp_path / "data" / "models" / "router-1.json").read_bytes()
    listed = [json.loads(line) for line in ok(desk, "model", "list", "--json").splitlines()]
    assert [(v["version"], v["current"]) for v in listed] == [(1, True)]

    unknown = run_script(desk, "model", "use", "7")
    assert (unknown.returncode, unknown.stderr) == (
        2,
        "error: no model version 7; versions: 1 (or 'builtin')\n",
    )
    for bad in ("²", "9" * 20, "0"):  # "²".isdigit() is True, yet int() refuses it
        refused = run_script(desk, "model", "use", bad)
        assert refused.returncode == 2
        assert "is not a number from 1 to 2147483647, or 'builtin'" in refused.stderr


def test_train_needs_a_csv_or_from_desk_not_both(desk: Env, tmp_path: Path) -> None:
    neither = invoke(desk, "train")
    csv_file = tmp_path / "l.csv"
    csv_file.write_text("text,route\nhi,other\n", encoding="utf-8")
    both = invoke(desk, "train", str(csv_file), "--from-desk")

    assert neither.exit_code == both.exit_code == 2
    assert "give a CSV file or --from-desk" in neither.output


def test_train_from_desk_with_too_few_labels_is_refused(desk: Env) -> None:
    ok(desk, "reroute", "1", "other")

    done = run_script(desk, "train", "--from-desk")

    assert done.returncode == 2
    assert done.stderr == "error: need at least 5 labelled messages for 5-fold cross-validation, got 1\n"


def test_reroute_of_an_unknown_case_is_refused_and_changes_nothing(desk: Env) -> None:
    queue = ok(desk, "cases", "--json")

    result = invoke(desk, "reroute", "999999", "review")
    done = run_script(desk, "reroute", "999999", "review")

    assert isinstance(result.exception, CaseNotFound)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", "error: no case 999999\n")
    assert ok(desk, "cases", "--json") == queue
    assert _labels(desk) == 0


def test_reroute_to_an_unknown_route_is_refused_naming_the_routes(desk: Env) -> None:
    route_before = case_json(desk, 2)["case"]["route"]

    done = run_script(desk, "reroute", "2", "teleport")

    assert done.returncode == 2
    assert done.stdout == ""
    assert "Invalid value for 'ROUTE': 'teleport' is not one of 'pre_purchase'" in done.stderr
    assert case_json(desk, 2)["case"]["route"] == route_before
    assert _labels(desk) == 0


def _labels(env: Env) -> int:
    from sqlalchemy import create_engine, func, select

    from aftersales.adapters.db.schema import route_labels

    engine = create_engine(f"sqlite:///{env['AFTERSALES_DATA_DIR']}/aftersales.db")
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(route_labels)).scalar_one())
    finally:
        engine.dispose()

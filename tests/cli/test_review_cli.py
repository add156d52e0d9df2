"""`aftersales review` and `aftersales tasks` from the command line, on a data folder's
embedded SQLite. One slow test runs the real demo store's week end to end."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, insert

from aftersales.adapters.db import schema
from aftersales.cli import cli
from aftersales.domain.errors import InputError
from aftersales.settings import load_settings
from aftersales.wiring import open_desk

Env = dict[str, str | None]
AFTER = "2026-11-30T09:00:00-05:00"
WRONG_COLOUR_KEY = "repeat|wrong_item|sku|TMB-20-BLK"
# the demo week in short (tests/services/review_week.py has it whole): three wrong colours on
# one SKU, two stalled UPS scans, one question
PLANTED = [
    (2, "wrong_item", "TMB-20-BLK", "Black", "", "wrong_item_collect_proof"),
    (3, "wrong_item", "TMB-20-BLK", "Black", "", "wrong_item_collect_proof"),
    (4, "wrong_item", "TMB-20-BLK", "Black", "", "wrong_item_collect_proof"),
    (1, "shipping_delay", "TMB-20-BLK", "Black", "UPS", "inside_promise_window"),
    (1, "shipping_delay", "MUG-12-WHT", "White", "UPS", "inside_promise_window"),
    (0, "pre_purchase", "", "", "", "answer"),
]


def add_cases(engine: Engine) -> None:
    monday = datetime(2026, 11, 23, 9, tzinfo=ZoneInfo("America/New_York"))
    names = ("route", "sku", "variant", "carrier", "reason")
    rows = [
        dict(zip(names, fields, strict=True))
        | {"status": "open", "lead_role": "operations", "opened_at": monday + timedelta(days=day)}
        | {"updated_at": monday + timedelta(days=day), "clocks": [{"name": "first_response", "state": "met"}]}
        for day, *fields in PLANTED
    ]
    with engine.begin() as connection:
        connection.execute(insert(schema.cases), rows)


@pytest.fixture
def env(tmp_path: Path) -> Env:
    env: Env = {
        "AFTERSALES_DATA_DIR": str(tmp_path),
        "AFTERSALES_POLICY": None,
        "AFTERSALES_DATABASE_URL": None,
    }
    desk = open_desk(load_settings({"AFTERSALES_DATA_DIR": str(tmp_path)}))
    add_cases(desk.engine)
    desk.engine.dispose()
    return env


def ok(env: Env, *args: str) -> Result:
    result = CliRunner().invoke(cli, list(args), env=env)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def test_review_prints_the_week_and_files_its_tasks(env: Env) -> None:
    text = ok(env, "review", "--week", "2026-11-25", "--now", AFTER).output
    assert "Weekly review 2026-W48" in text
    assert "3 wrong_item cases on sku TMB-20-BLK (Black)" in text
    assert "shipping_delay carrier UPS: 2 cases" in text
    report = json.loads(ok(env, "review", "--week", "2026-11-25", "--now", AFTER, "--format", "json").output)
    assert [f["key"] for f in report["findings"]] == [WRONG_COLOUR_KEY]
    assert report["findings"][0]["task_is_new"] is False  # the first run filed it
    assert report["by_route"]["wrong_item"] == 3
    tasks = json.loads(ok(env, "tasks", "--json").output)
    assert [(t["key"], t["status"]) for t in tasks] == [(WRONG_COLOUR_KEY, "open")]


@pytest.mark.parametrize(("fmt", "marker"), [("html", "<svg"), ("markdown", "## Findings")])
def test_review_writes_a_report_file(env: Env, tmp_path: Path, fmt: str, marker: str) -> None:
    out = tmp_path / f"week.{fmt}"
    ok(env, "review", "--week", "2026-11-25", "--now", AFTER, "--format", fmt, "--output", str(out))
    written = out.read_text(encoding="utf-8")
    assert marker in written
    assert "TMB-20-BLK" in written
    assert "<script" not in written


def test_tasks_close_needs_a_note_and_then_stays_closed(env: Env) -> None:
    ok(env, "review", "--week", "2026-11-25", "--now", AFTER)
    (task,) = json.loads(ok(env, "tasks", "--json").output)
    refused = CliRunner().invoke(cli, ["tasks", "close", str(task["id"]), "--note", " "], env=env)
    assert isinstance(refused.exception, InputError)
    done = ok(
        env, "tasks", "close", str(task["id"]), "--note", "Bins relabelled", "--by", "ops@northwind.example"
    )
    assert f"closed task {task['id']}" in done.output
    assert ok(env, "tasks").output == "no open write-back tasks\n"
    assert "closed by ops@northwind.example: Bins relabelled" in ok(env, "tasks", "--all").output
    ok(env, "review", "--week", "2026-11-25", "--now", AFTER)
    assert json.loads(ok(env, "tasks", "--json").output) == []


def test_a_week_that_is_not_a_date_is_refused(env: Env) -> None:
    result = CliRunner().invoke(cli, ["review", "--week", "last week"], env=env)
    assert result.exit_code == 2
    assert "--week" in result.output


@pytest.mark.slow
def test_the_demo_store_week_finds_the_planted_repeats(tmp_path: Path) -> None:
    env: Env = {
        "AFTERSALES_DATA_DIR": str(tmp_path / "demo"),
        "AFTERSALES_POLICY": None,
        "AFTERSALES_DATABASE_URL": None,
    }
    now = "2026-11-29T14:00:00+00:00"
    ok(env, "demo", "--now", now)
    report = json.loads(ok(env, "review", "--now", now, "--format", "json").output)
    assert [(f["key"], f["count"]) for f in report["findings"]] == [(WRONG_COLOUR_KEY, 3)]
    # the stalled UPS parcels are below the threshold: at most watched, never a task
    assert all(w["count"] < 3 for w in report["watch"])

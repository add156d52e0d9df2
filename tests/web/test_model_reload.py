"""A server uses the router model another process promoted: `aftersales worker` retrains on
PostgreSQL, and the parent of several server processes on SQLite, so each server looks at the
model file (at most every MODEL_CHECK_SECONDS) and loads it when it changed. A broken file
is never used: the model in use stays."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from aftersales.cli import cli
from aftersales.settings import load_settings
from aftersales.web.context import WebDesk, build_web_desk

LABELS = [
    ("still waiting on the thing I ordered for my nephew", "shipping_delay"),
    ("five stars, best purchase this year", "review"),
    ("swap the blue one for the green before you send it", "cancel_or_change"),
    ("does the 20oz fit a car cup holder", "pre_purchase"),
    ("got someone else's parcel, not my mug", "wrong_item"),
    ("lid came off and there is a crack down the side", "damaged_item"),
] * 2


@pytest.fixture
def web(tmp_path: Path) -> tuple[WebDesk, dict[str, str]]:
    env = {"AFTERSALES_DATA_DIR": str(tmp_path / "data")}
    return build_web_desk(load_settings(env)), env


def _look_now(web: WebDesk) -> None:
    assert web.model_watch is not None
    web.model_watch.next_look = 0.0


def test_a_model_promoted_elsewhere_is_used_at_the_next_look(
    web: tuple[WebDesk, dict[str, str]], tmp_path: Path
) -> None:
    desk, env = web
    builtin = desk.kit.model  # no store model yet
    labels = tmp_path / "labels.csv"
    with labels.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("text", "route"), *LABELS])
    trained = CliRunner().invoke(cli, ["train", str(labels), "--folds", "2"], env=env)
    assert trained.exit_code == 0, trained.output

    desk.refresh_model()  # looked at when the server started: not again so soon
    assert desk.kit.model is builtin
    _look_now(desk)
    desk.refresh_model()
    assert desk.kit.model is not builtin

    desk.settings.model_file.unlink()  # `aftersales model use builtin`
    _look_now(desk)
    desk.refresh_model()
    assert desk.kit.model == builtin


def test_a_broken_model_file_leaves_the_model_in_use(
    web: tuple[WebDesk, dict[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    desk, _ = web
    kit = desk.kit
    desk.settings.model_file.parent.mkdir(parents=True, exist_ok=True)
    desk.settings.model_file.write_text("{not json", encoding="utf-8")

    _look_now(desk)
    desk.refresh_model()

    assert desk.kit is kit
    assert "router model not reloaded" in caplog.text

"""`aftersales jobs`: the job log's newest runs, the failures alone, as text or JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from aftersales.adapters.db.job_log import job_log_unit_of_work
from aftersales.cli.worker import jobs
from aftersales.services.jobs import JobRunner
from aftersales.settings import Settings
from aftersales.wiring import open_desk


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    configured = Settings(data_dir=tmp_path, policy_file=None)
    runner = JobRunner(
        job_log_unit_of_work(open_desk(configured).engine), lambda: datetime.now(UTC), "web1:7"
    )
    runner.run("sla_tick", lambda: {"cases": 2, "breaches": 0})

    def down() -> dict[str, int]:
        raise TimeoutError

    with pytest.raises(TimeoutError):
        runner.run("send_outbox", down, attempt=3)
    return configured


def test_the_newest_runs_come_first_with_what_they_did(settings: Settings) -> None:
    lines = CliRunner().invoke(jobs, [], obj=settings).stdout.splitlines()
    assert [line.split()[2] for line in lines] == ["send_outbox", "sla_tick"]
    assert "failed    #3" in lines[0]
    assert "TimeoutError at test_jobs_cli.py:" in lines[0]
    assert lines[1].endswith('web1:7  {"cases":2,"breaches":0}')


def test_failed_and_json_give_the_failures_as_data(settings: Settings) -> None:
    [run] = json.loads(CliRunner().invoke(jobs, ["--failed", "--json"], obj=settings).stdout)
    assert (run["name"], run["status"], run["attempt"], run["worker"]) == (
        "send_outbox",
        "failed",
        3,
        "web1:7",
    )


def test_an_empty_log_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        jobs, ["--name", "mail_poll"], obj=Settings(data_dir=tmp_path, policy_file=None)
    )
    assert result.exit_code == 0
    assert result.stdout == "no job runs in the job log\n"

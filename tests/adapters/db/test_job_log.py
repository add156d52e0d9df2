"""The job log and the outbox's claims on both databases, and migration 0016."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from aftersales.adapters.db import schema
from aftersales.adapters.db.engine import make_engine
from aftersales.adapters.db.job_log import job_log_unit_of_work
from aftersales.adapters.db.migrate import _config, upgrade
from aftersales.domain.jobs import JobStatus
from aftersales.services.jobs import JobRunner

START = datetime(2026, 12, 1, 9, tzinfo=UTC)


def test_the_migration_matches_the_schema(engine: Engine) -> None:
    with engine.connect() as connection:
        found = compare_metadata(MigrationContext.configure(connection), schema.metadata)
    assert [d for d in found if "job_runs" in repr(d) or "claimed_by" in repr(d)] == []


def test_a_run_is_logged_running_then_finished(engine: Engine, uow: Any) -> None:
    log = job_log_unit_of_work(engine)
    with log() as runs:
        run_id = runs.start("sla_tick", attempt=1, worker="web1:42", at=START)
        assert runs.recent()[0].status is JobStatus.RUNNING
    with log() as runs:
        runs.finish(run_id, JobStatus.SUCCEEDED, at=START + timedelta(seconds=2), summary={"cases": 3})
        [run] = runs.recent()
    assert (run.status, run.summary, run.seconds, run.worker) == (
        JobStatus.SUCCEEDED,
        {"cases": 3},
        2.0,
        "web1:42",
    )


def test_the_runner_logs_a_failure_with_where_it_happened_and_raises_it(engine: Engine, uow: Any) -> None:
    runner = JobRunner(job_log_unit_of_work(engine), lambda: START, "worker:7")

    def broken() -> dict[str, Any]:
        raise KeyError("ana@example.com")  # a message that may quote a customer

    with pytest.raises(KeyError):
        runner.run("send_outbox", broken, attempt=2)
    runner.run("sla_tick", lambda: {"cases": 0})
    with job_log_unit_of_work(engine)() as runs:
        [failed] = runs.recent(failed_only=True)
        assert [r.name for r in runs.recent(name="sla_tick")] == ["sla_tick"]
    assert (failed.name, failed.attempt, failed.status) == ("send_outbox", 2, JobStatus.FAILED)
    assert failed.error.startswith("KeyError at test_job_log.py:")
    assert "ana@" not in failed.error


def test_a_dead_workers_runs_are_abandoned_and_old_runs_pruned(engine: Engine, uow: Any) -> None:
    runner = JobRunner(job_log_unit_of_work(engine), lambda: START, "worker:7")
    with job_log_unit_of_work(engine)() as runs:
        runs.start("send_outbox", attempt=1, worker="worker:8", at=START - timedelta(days=20), ref="41")
        runs.start("send_outbox", attempt=1, worker="worker:8", at=START, ref="42")
    assert runner.abandon("42") == 1
    assert runner.abandon("42") == 0  # once
    with job_log_unit_of_work(engine)() as runs:
        assert "stopped" in runs.recent(failed_only=True)[0].error
        assert runs.prune(START - timedelta(days=14)) == 1
        assert len(runs.recent()) == 1


def test_downgrade_drops_the_job_log_and_upgrade_brings_it_back(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    upgrade(engine)
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0015")
    assert not inspect(engine).has_table("job_runs")
    assert "claimed_by" not in {c["name"] for c in inspect(engine).get_columns("outbox")}
    upgrade(engine)
    assert inspect(engine).has_table("job_runs")
    engine.dispose()

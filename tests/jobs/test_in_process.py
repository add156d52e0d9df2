"""The in-process back end (SQLite): a failed job is tried again after its backoff, each
attempt in the job log, and the next period after it succeeded or gave up."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aftersales.adapters.db.engine import make_engine
from aftersales.adapters.db.job_log import job_log_unit_of_work
from aftersales.adapters.db.migrate import upgrade
from aftersales.adapters.jobs.in_process import InProcessQueue
from aftersales.domain.jobs import JobName, JobStatus, Periodic, RetryPolicy
from aftersales.services.jobs import JobRunner


def test_a_failed_job_is_retried_after_its_backoff_until_it_succeeds(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    upgrade(engine)
    log = job_log_unit_of_work(engine)
    calls: list[float] = []

    def flaky() -> dict[str, Any]:
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise ConnectionError("the mail server is down")
        return {"sent": 1}

    queue = InProcessQueue(JobRunner(log, lambda: datetime.now(UTC), "test:1"))
    retry = RetryPolicy(max_attempts=5, first_seconds=0.05, factor=2, longest_seconds=1)
    queue.periodic(Periodic(name=JobName.SEND_OUTBOX, seconds=3600, retry=retry), flaky, at_start=True)
    queue.start()
    deadline = time.monotonic() + 10
    while len(calls) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)
    queue.stop()

    with log() as runs:
        attempts = [(r.attempt, r.status) for r in reversed(runs.recent())]
    assert attempts == [(1, JobStatus.FAILED), (2, JobStatus.FAILED), (3, JobStatus.SUCCEEDED)]
    assert calls[2] - calls[1] >= calls[1] - calls[0] >= 0.05  # the wait doubled
    engine.dispose()


def test_enqueue_runs_a_periodic_job_now(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    upgrade(engine)
    ran: list[int] = []
    queue = InProcessQueue(JobRunner(job_log_unit_of_work(engine), lambda: datetime.now(UTC), "test:1"))

    def body() -> dict[str, int]:
        ran.append(1)
        return {"n": len(ran)}

    queue.periodic(Periodic(name=JobName.SLA_TICK, seconds=3600), body)
    queue.start()
    queue.enqueue(JobName.SLA_TICK)
    deadline = time.monotonic() + 10
    while not ran and time.monotonic() < deadline:
        time.sleep(0.02)
    queue.stop()
    assert ran == [1]
    engine.dispose()

"""The job log (``job_runs``, domain/jobs.py::JobRun) on SQLAlchemy Core: one repository per
transaction (see ``job_log_unit_of_work``). Every back end writes it, so `aftersales jobs` and
the admin page read one table whichever ran the job."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, insert, select, update

from aftersales.adapters.db import schema as t
from aftersales.adapters.db.engine import transactions
from aftersales.domain.jobs import JobRun, JobStatus

_ERROR_LENGTH = 1000  # the column's size
_START = insert(t.job_runs).returning(t.job_runs.c.id)
_FINISH = update(t.job_runs).where(t.job_runs.c.id == bindparam("run_id"))
_PRUNE = delete(t.job_runs).where(t.job_runs.c.started_at < bindparam("before"))
_ABANDON = (
    update(t.job_runs)
    .where(
        t.job_runs.c.job_ref == bindparam("ref"),
        t.job_runs.c.status == JobStatus.RUNNING.value,
    )
    .returning(t.job_runs.c.id)
)


class SqlJobLog:
    def __init__(self, connection: Connection) -> None:
        self.db = connection

    def start(self, name: str, *, attempt: int, worker: str, at: datetime, ref: str = "") -> int:
        values = {
            "name": name,
            "status": JobStatus.RUNNING.value,
            "attempt": attempt,
            "worker": worker[:200],
            "job_ref": ref[:64],
            "started_at": at,
            "summary": {},
            "error": "",
        }
        return int(self.db.execute(_START, values).scalar_one())

    def finish(
        self, run_id: int, status: JobStatus, *, at: datetime, summary: Mapping[str, Any], error: str = ""
    ) -> None:
        values = {
            "status": status.value,
            "finished_at": at,
            "summary": dict(summary),
            "error": error[:_ERROR_LENGTH],
        }
        self.db.execute(_FINISH.values(values), {"run_id": run_id})

    def abandon(self, ref: str, *, at: datetime, error: str) -> int:
        """The runs of back-end job ``ref`` still marked running end as failed (their process
        died); how many."""
        values = {"status": JobStatus.FAILED.value, "finished_at": at, "error": error[:_ERROR_LENGTH]}
        return len(self.db.execute(_ABANDON.values(values), {"ref": ref}).all())

    def recent(self, limit: int = 50, *, failed_only: bool = False, name: str | None = None) -> list[JobRun]:
        query = (
            select(t.job_runs).order_by(t.job_runs.c.started_at.desc(), t.job_runs.c.id.desc()).limit(limit)
        )
        if failed_only:
            query = query.where(t.job_runs.c.status == JobStatus.FAILED.value)
        if name is not None:
            query = query.where(t.job_runs.c.name == name)
        return [_run(dict(row)) for row in self.db.execute(query).mappings()]

    def prune(self, before: datetime) -> int:
        return self.db.execute(_PRUNE, {"before": before}).rowcount or 0


def _run(row: Mapping[str, Any]) -> JobRun:
    return JobRun(
        id=row["id"],
        name=row["name"],
        status=JobStatus(row["status"]),
        attempt=row["attempt"],
        worker=row["worker"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        summary=dict(row["summary"] or {}),
        error=row["error"],
    )


def job_log_unit_of_work(
    engine: Engine, *, writes: bool = True
) -> Callable[[], AbstractContextManager[SqlJobLog]]:
    """A factory: ``with job_log() as log:`` is one transaction, committed when the block ends."""
    return transactions(engine, SqlJobLog, writes=writes)

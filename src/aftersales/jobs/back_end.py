"""Which back end runs the jobs: threads of this process on the embedded SQLite desk,
procrastinate workers on PostgreSQL (adapters/jobs/)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aftersales.adapters.jobs.in_process import InProcessQueue
from aftersales.domain.errors import ConfigError
from aftersales.domain.jobs import JobName
from aftersales.jobs.desk_jobs import DeskJobs
from aftersales.services.jobs import JobRunner, process_name
from aftersales.wiring import Desk, libpq_url, on_postgres

if TYPE_CHECKING:
    from aftersales.adapters.jobs.procrastinate_queue import ProcrastinateQueue

_AT_START = (JobName.MAIL_POLL, JobName.SEND_OUTBOX)  # mail moves as soon as the server is up


def job_runner(desk: Desk) -> JobRunner:
    return JobRunner(desk.job_log, lambda: datetime.now(UTC), process_name())


def start_in_process(jobs: DeskJobs, tick_seconds: float | None) -> InProcessQueue:
    """Run the desk's periodic jobs in daemon threads of this process (SQLite); returns at once."""
    queue = InProcessQueue(job_runner(jobs.desk))
    for job, body in jobs.schedule(tick_seconds):
        queue.periodic(job, body, at_start=job.name in _AT_START)
    queue.start()
    return queue


def procrastinate_queue(jobs: DeskJobs, tick_seconds: float | None) -> ProcrastinateQueue:
    """The desk's periodic jobs on procrastinate, not running yet (``run`` is the worker)."""
    from aftersales.adapters.jobs.procrastinate_queue import (  # noqa: PLC0415 (PostgreSQL only)
        Heartbeat,
        ProcrastinateQueue,
        has_schema,
    )

    settings = jobs.settings
    if not has_schema(libpq_url(settings)):
        raise ConfigError("the database has no job queue tables yet: run `aftersales db upgrade`")
    queue = ProcrastinateQueue(
        libpq_url(settings),
        job_runner(jobs.desk),
        heartbeat=Heartbeat(seconds=settings.worker_heartbeat_seconds),
    )
    for job, body in jobs.schedule(tick_seconds):
        try:
            queue.periodic(job, body)
        except ValueError as error:  # a period procrastinate's cron cannot say
            raise ConfigError(f"{job.name}: {error}") from None
    return queue


class TypeOnly(logging.Filter):
    """A failure's type in the message, never its text or traceback: they may quote a
    customer's mail (the job log has the run, with where it failed)."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is not None:
            record.msg, record.args = f"{record.getMessage()} ({type(error).__name__})", ()
            record.exc_info, record.exc_text = None, None
        return True


def log_to_stderr() -> None:
    """The desk's log (INFO) and procrastinate's (warnings and errors: a job that failed, a
    lost database) on standard error, without customer data."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(TypeOnly())
    for name, level in (("aftersales", logging.INFO), ("procrastinate", logging.WARNING)):
        logger = logging.getLogger(name)
        if not logger.handlers:
            logger.addHandler(handler)
            logger.setLevel(level)
            logger.propagate = False


def start_worker_thread(jobs: DeskJobs, tick_seconds: float | None) -> threading.Thread:
    """A procrastinate worker in a daemon thread of this process (`serve --run-jobs`)."""
    queue = procrastinate_queue(jobs, tick_seconds)
    thread = threading.Thread(
        target=lambda: queue.run(concurrency=2, install_signal_handlers=False),
        name="jobs-worker",
        daemon=True,
    )
    thread.start()
    return thread


def run_worker(
    jobs: DeskJobs, tick_seconds: float | None, *, concurrency: int, on_start: Callable[[str], None]
) -> None:
    """Run the jobs in this process until it is stopped: a procrastinate worker on
    PostgreSQL, the in-process scheduler on SQLite. ``on_start`` is told which, once the
    schedule is checked (a bad period is a ConfigError before anything runs)."""
    if on_postgres(jobs.settings):
        queue = procrastinate_queue(jobs, tick_seconds)
        on_start("procrastinate on PostgreSQL")
        queue.run(concurrency=concurrency)
        return
    in_process = InProcessQueue(job_runner(jobs.desk))
    for job, body in jobs.schedule(tick_seconds):
        in_process.periodic(job, body, at_start=job.name in _AT_START)
    on_start("in this process (SQLite)")
    in_process.run()

"""The PostgreSQL job back end: procrastinate (LISTEN/NOTIFY, SELECT ... FOR UPDATE SKIP
LOCKED) on the desk's own database, run by `aftersales worker` (any number of them, on any
number of hosts) and by `aftersales serve --run-jobs`.

- A periodic job is deferred once per period whatever the number of workers: procrastinate
  records each (task, period) it deferred under a unique key, and the ``queueing_lock`` keeps
  one waiting at most; its ``lock`` keeps two runs of one job from overlapping (unless the
  job claims its own work row by row, as the outbox does).
- A failed attempt is retried after domain/jobs.py's backoff (``_Backoff``).
- A worker killed halfway (SIGKILL, a lost host) stops its heartbeat; the ``retry_stalled``
  job, run by the workers left, puts its jobs back in the queue, and the log's run of it ends
  failed ("the process ... stopped"). Jobs are written so that running one again finishes it
  (the outbox claims each mail in the database; the SLA tick records each breach once).
- A succeeded job's row is deleted as it ends (the job log keeps the history); a failed,
  cancelled or aborted one is kept JOB_LOG_DAYS, as long as the job log keeps its runs, and
  then deleted by the hourly ``prune_job_queue`` job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from procrastinate import App, JobContext, PsycopgConnector, RetryDecision
from procrastinate import jobs as procrastinate_jobs
from procrastinate.exceptions import AlreadyEnqueued, UniqueViolation
from procrastinate.manager import JobManager
from procrastinate.retry import BaseRetryStrategy

from aftersales.domain.jobs import JOB_LOG_DAYS, JobName, Periodic, RetryPolicy, backoff_seconds, cron_for
from aftersales.ports import JobAttempts, JobBody

log = logging.getLogger("aftersales.jobs")
QUEUE = "aftersales"
_SCHEMA_TABLE = "procrastinate_jobs"


@dataclass(frozen=True, slots=True)
class _Backoff(BaseRetryStrategy):
    policy: RetryPolicy

    def get_retry_decision(
        self, *, exception: BaseException, job: procrastinate_jobs.Job
    ) -> RetryDecision | None:
        # procrastinate counts attempts made before this one from 0
        wait = backoff_seconds(self.policy, job.attempts + 1)
        return None if wait is None else RetryDecision(retry_in={"seconds": int(round(wait))})


@dataclass(frozen=True, slots=True, kw_only=True)
class Heartbeat:
    """How often a worker says it is alive, and after how long without a word it is dead."""

    seconds: float = 10.0

    @property
    def stalled_after(self) -> float:
        return 3 * self.seconds


def connector(url: str) -> PsycopgConnector:
    """``url``: a libpq URL (postgresql://user@host/db), not SQLAlchemy's (+psycopg)."""
    return PsycopgConnector(conninfo=url, min_size=1, max_size=4)


def has_schema(url: str) -> bool:
    """Whether procrastinate's tables are in the database."""

    async def look() -> bool:
        app = App(connector=connector(url))
        async with app.open_async():
            return await _found(app)

    return asyncio.run(look())


def apply_schema(url: str) -> bool:
    """Create procrastinate's tables in the database, once: False when they were there.
    (procrastinate's own ``apply_schema`` creates them unconditionally, so it runs only on a
    database without them.)"""

    async def apply() -> bool:
        app = App(connector=connector(url))
        async with app.open_async():
            if await _found(app):
                return False
            await app.schema_manager.apply_schema_async()
            return True

    return asyncio.run(apply())


async def _found(app: App) -> bool:
    found = await app.connector.execute_query_one_async(
        query="SELECT to_regclass(%(name)s) IS NOT NULL AS found", name=_SCHEMA_TABLE
    )
    return bool(found["found"])


async def _take_over(manager: JobManager, job: procrastinate_jobs.Job) -> None:
    """Queue a dead worker's job again; when the same periodic job is waiting already (its
    queueing lock), that one will do the work: the dead one ends failed."""
    try:
        await manager.retry_job(job)
    except UniqueViolation:
        assert job.id is not None
        await manager.finish_job_by_id_async(job.id, procrastinate_jobs.Status.FAILED, delete_job=False)


class ProcrastinateQueue:
    """ports.JobQueue on procrastinate; ``run`` is a worker (blocks until SIGINT/SIGTERM)."""

    def __init__(self, url: str, attempts: JobAttempts, *, heartbeat: Heartbeat | None = None) -> None:
        self.app = App(connector=connector(url))
        self.attempts = attempts
        self.heartbeat = heartbeat or Heartbeat()
        self._add_retry_stalled()
        self._add_prune()

    def periodic(self, job: Periodic, body: JobBody) -> None:
        attempts = self.attempts

        def task(context: JobContext, timestamp: int) -> None:  # noqa: ARG001 (the period's start)
            ran = context.job
            attempts.run(job.name.value, body, attempt=ran.attempts + 1, ref=str(ran.id))

        registered = self.app.task(
            name=job.name.value,
            queue=QUEUE,
            pass_context=True,
            retry=_Backoff(job.retry),
            lock=None if job.may_overlap else job.name.value,  # else two runs never overlap
            queueing_lock=job.name.value,  # one waits at most
        )(task)
        self.app.periodic(cron=cron_for(job.seconds), periodic_id=job.name.value)(registered)

    def enqueue(self, name: JobName) -> None:
        async def defer() -> None:
            async with self.app.open_async():
                with contextlib.suppress(AlreadyEnqueued):  # one is waiting already: it will do
                    await self.app.configure_task(
                        name.value, queue=QUEUE, queueing_lock=name.value
                    ).defer_async()

        asyncio.run(defer())

    def run(self, *, concurrency: int = 4, install_signal_handlers: bool = True) -> None:
        self.app.run_worker(
            queues=[QUEUE],
            concurrency=concurrency,
            install_signal_handlers=install_signal_handlers,
            update_heartbeat_interval=self.heartbeat.seconds,
            stalled_worker_timeout=self.heartbeat.stalled_after,
            delete_jobs="successful",  # the job log keeps the history
        )

    def _add_retry_stalled(self) -> None:
        """Every heartbeat, put back in the queue the jobs of workers whose heartbeat stopped;
        logged only when there were some (it runs every few seconds)."""
        attempts, stalled_after = self.attempts, self.heartbeat.stalled_after

        async def retry_stalled(context: JobContext, timestamp: int) -> None:  # noqa: ARG001
            manager = context.app.job_manager
            stalled = list(await manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=stalled_after))
            for job in stalled:
                await _take_over(manager, job)
                await asyncio.to_thread(attempts.abandon, str(job.id))
            if stalled:
                summary = {"retried": [f"{job.task_name} #{job.id}" for job in stalled]}
                await asyncio.to_thread(attempts.run, JobName.RETRY_STALLED.value, lambda: summary)

        registered = self.app.task(
            name=JobName.RETRY_STALLED.value,
            queue=QUEUE,
            pass_context=True,
            queueing_lock=JobName.RETRY_STALLED.value,
        )(retry_stalled)
        period = max(1, round(self.heartbeat.seconds))
        self.app.periodic(cron=cron_for(period), periodic_id=JobName.RETRY_STALLED.value)(registered)

    def _add_prune(self) -> None:
        attempts = self.attempts

        async def prune_job_queue(context: JobContext, timestamp: int) -> None:  # noqa: ARG001
            forgotten = await forget_finished_jobs(context.app.job_manager, hours=JOB_LOG_DAYS * 24)
            await asyncio.to_thread(
                attempts.run, JobName.PRUNE_JOB_QUEUE.value, lambda: {"forgotten": forgotten}
            )

        registered = self.app.task(
            name=JobName.PRUNE_JOB_QUEUE.value,
            queue=QUEUE,
            pass_context=True,
            queueing_lock=JobName.PRUNE_JOB_QUEUE.value,
        )(prune_job_queue)
        self.app.periodic(cron=cron_for(3600), periodic_id=JobName.PRUNE_JOB_QUEUE.value)(registered)


async def forget_finished_jobs(manager: JobManager, *, hours: int) -> int:
    """Delete the queue's jobs that ended (failed, cancelled or aborted; succeeded ones are
    deleted as they end) more than ``hours`` ago; how many there were."""
    before = await manager.list_jobs_async(queue=QUEUE)
    await manager.delete_old_jobs(
        nb_hours=hours, queue=QUEUE, include_failed=True, include_cancelled=True, include_aborted=True
    )
    after = await manager.list_jobs_async(queue=QUEUE)
    return len(list(before)) - len(list(after))

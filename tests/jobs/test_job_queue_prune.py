"""On PostgreSQL the job queue forgets jobs that ended: a succeeded job's row goes as it ends,
a failed one once the job log has forgotten its runs (JOB_LOG_DAYS; here: at once), and a job
still waiting stays."""

from __future__ import annotations

import asyncio

import pytest
from procrastinate import App
from procrastinate import jobs as procrastinate_jobs
from sqlalchemy import Engine

from aftersales.adapters.jobs.procrastinate_queue import QUEUE, apply_schema, connector, forget_finished_jobs


def _libpq(engine: Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def test_a_failed_job_is_forgotten_and_a_waiting_one_kept(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the job queue's tables are PostgreSQL's")
    url = _libpq(engine)
    apply_schema(url)

    async def story() -> tuple[int, list[str | None]]:
        app = App(connector=connector(url))

        @app.task(name="probe", queue=QUEUE)
        def probe() -> None: ...

        async with app.open_async():
            failed = await probe.defer_async()
            await probe.defer_async()
            manager = app.job_manager
            await manager.finish_job_by_id_async(failed, procrastinate_jobs.Status.FAILED, delete_job=False)
            forgotten = await forget_finished_jobs(manager, hours=0)
            left = [job.status for job in await manager.list_jobs_async(queue=QUEUE)]
        return forgotten, left

    assert asyncio.run(story()) == (1, ["todo"])

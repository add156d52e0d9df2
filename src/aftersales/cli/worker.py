"""`aftersales worker` (run the background jobs) and `aftersales jobs` (what they did)."""

from __future__ import annotations

import json

import click

from aftersales.domain.jobs import JobRun, JobStatus
from aftersales.settings import Settings


@click.command()
@click.option(
    "--tick-seconds",
    default=60,
    show_default=True,
    type=click.IntRange(min=0),
    help="Advance the SLA clocks this often; 0: never. On PostgreSQL it must divide a minute, "
    "an hour or a day (5, 10, 15, 30, 60, 300 ...), and be the same on every worker.",
)
@click.option(
    "--concurrency",
    default=4,
    show_default=True,
    type=click.IntRange(1, 32),
    help="Jobs run at once by this worker (PostgreSQL).",
)
@click.pass_obj
def worker(settings: Settings, tick_seconds: int, concurrency: int) -> None:
    """Run the background jobs until stopped (Ctrl-C, SIGTERM): the SLA tick, the mail poll
    (IMAP) and the outbox (SMTP) every AFTERSALES_MAIL_POLL_SECONDS, review requests hourly,
    retraining the router model, pruning the job log. Each run is written to the job log
    (`aftersales jobs`).

    On PostgreSQL, run as many workers as you like, on any hosts: each periodic job runs once
    per period among them, a failed one is retried with a backoff, and the jobs of a worker
    that dies are taken over by the others (its heartbeat stops:
    AFTERSALES_WORKER_HEARTBEAT_SECONDS). `aftersales serve` leaves the jobs to the workers
    there unless given --run-jobs. On the embedded SQLite desk `aftersales serve` runs the
    jobs itself; run one worker instead only with `serve --no-run-jobs`.

    \b
    Examples:
      AFTERSALES_DATABASE_URL=postgresql://desk@db/desk aftersales worker
      aftersales worker --tick-seconds 30 --concurrency 2
    """
    from aftersales.jobs.back_end import log_to_stderr, run_worker  # noqa: PLC0415 (only this command)
    from aftersales.jobs.desk_jobs import DeskJobs, KitHolder  # noqa: PLC0415
    from aftersales.wiring import build_routing_kit, open_desk  # noqa: PLC0415

    log_to_stderr()
    jobs = DeskJobs(settings, open_desk(settings), KitHolder(build_routing_kit(settings)))
    run_worker(
        jobs,
        tick_seconds or None,
        concurrency=concurrency,
        on_start=lambda where: click.echo(
            f"aftersales worker: running jobs {where} (Ctrl-C stops it)", err=True
        ),
    )


@click.command()
@click.option("--failed", is_flag=True, help="Only the failed runs.")
@click.option("--name", "job_name", default=None, help="Only this job's runs (e.g. sla_tick, send_outbox).")
@click.option("--limit", default=30, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="Print the runs as a JSON list.")
@click.pass_obj
def jobs(settings: Settings, *, failed: bool, job_name: str | None, limit: int, as_json: bool) -> None:
    """The newest runs of the background jobs, from the job log: which job, when, how long,
    on which host:pid, attempt, what it did or why it failed. Kept 14 days.

    \b
    Examples:
      aftersales jobs
      aftersales jobs --failed
      aftersales jobs --name send_outbox --limit 5 --json
    """
    from aftersales.wiring import open_desk  # noqa: PLC0415

    with open_desk(settings).read_job_log() as log:
        runs = log.recent(limit, failed_only=failed, name=job_name)
    if as_json:
        click.echo(json.dumps([run.as_dict() for run in runs], indent=2))
        return
    if not runs:
        click.echo("no job runs" + (" failed" if failed else "") + " in the job log")
        return
    for run in runs:
        click.echo(_line(run))


def _line(run: JobRun) -> str:
    took = f"{run.seconds:.2f}s" if run.seconds is not None else "..."
    said = run.error if run.status is JobStatus.FAILED else json.dumps(run.summary, separators=(",", ":"))
    when = run.started_at.strftime("%Y-%m-%d %H:%M:%S")
    return f"{when}  {run.name:<16} {run.status.value:<9} #{run.attempt}  {took:>7}  {run.worker}  {said}"

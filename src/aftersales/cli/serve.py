"""`aftersales serve`: the web desk and its JSON API on one port."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import click

from aftersales.cli.mail import describe
from aftersales.settings import Settings

if TYPE_CHECKING:
    from aftersales.web.context import WebDesk


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65_535))
@click.option(
    "--tick-seconds",
    default=60.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Advance the SLA clocks (like `aftersales sla tick`) this often; 0: never.",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes; more use more cores (and about 120 MB each). Jobs run once, in the parent.",
)
@click.option(
    "--run-jobs/--no-run-jobs",
    default=None,
    help="Run the background jobs (SLA tick, mail poll, outbox, review requests) in this "
    "process. Default: yes on the embedded SQLite desk, no on PostgreSQL (run `aftersales "
    "worker` there; with --run-jobs this server is one more worker).",
)
@click.pass_obj
def serve(  # noqa: PLR0913  (one per option)
    settings: Settings, host: str, port: int, tick_seconds: float, workers: int, *, run_jobs: bool | None
) -> None:
    """Serve the web desk: the queue, case pages, the Routing Lab, the policy page, the
    public contact form (/contact) and the JSON API (/api/, schema at /openapi.json).
    The background jobs (aftersales worker --help) run in this process on the embedded SQLite
    desk: the SLA tick every --tick-seconds; when the support inbox is configured
    (AFTERSALES_IMAP_HOST), it is polled now and every AFTERSALES_MAIL_POLL_SECONDS, like
    `aftersales mail poll`; with AFTERSALES_SMTP_HOST, queued replies and acknowledgements are
    sent on the same timer, like `aftersales mail send`. On PostgreSQL they are left to
    `aftersales worker` processes, unless --run-jobs; several servers then share the database.

    \b
    Examples:
      aftersales serve                       http://127.0.0.1:8000 on the embedded SQLite file
      aftersales serve --host 0.0.0.0 --port 8080   (put TLS in front of it)
      aftersales serve --workers 2               one server process per core
      AFTERSALES_DATABASE_URL=postgresql://desk@db/desk aftersales serve   + `aftersales worker`
      aftersales user add lead@store.example --role operations   an account to sign in with
    """
    import uvicorn  # imported here: only this command needs it

    from aftersales.web.app import create_app  # imported here: only this command needs it
    from aftersales.web.context import build_web_desk  # imported here: only this command needs it

    click.echo(f"aftersales web desk on http://{host}:{port}/  (Ctrl-C stops it)", err=True)
    if workers == 1:
        app = create_app(settings, tick_seconds=None)
        _start_jobs(app.state.web, tick_seconds, run_jobs=run_jobs)
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level="warning",
            log_config=log_config(),
            access_log=False,
            **proxy_options(settings),
        )
        return
    # This process migrates the embedded database and makes the session key before the
    # workers start (so they never race to), then runs the jobs for all of them.
    _start_jobs(build_web_desk(settings), tick_seconds, run_jobs=run_jobs)
    uvicorn.run(
        "aftersales.web.app:create_app_from_environment",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="warning",
        log_config=log_config(),
        access_log=False,  # ours (aftersales.access) leaves out query strings
        **proxy_options(settings),
    )


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's proxy options: behind a proxy named in AFTERSALES_FORWARDED_ALLOW_IPS the
    client's address (sign-in limits, the access log) and scheme (Secure cookies) are read
    from X-Forwarded-For and X-Forwarded-Proto; without one those headers are ignored, so a
    client cannot claim another address."""
    allowed = settings.forwarded_allow_ips
    return {"proxy_headers": bool(allowed), "forwarded_allow_ips": allowed or None}


def log_config() -> dict[str, Any]:
    """uvicorn's logging, plus the desk's own on standard error: the access log
    (``aftersales.access``, one line per request), failed sign-ins, role refusals, errors."""
    from uvicorn.config import LOGGING_CONFIG  # imported here: only this command needs it

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["aftersales"] = {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    config["handlers"]["aftersales"] = {
        "class": "logging.StreamHandler",
        "formatter": "aftersales",
        "stream": "ext://sys.stderr",
    }
    config["loggers"]["aftersales"] = {"handlers": ["aftersales"], "level": "INFO", "propagate": False}
    # the job queue's (`--run-jobs` on PostgreSQL): warnings and errors, a failure's type only
    config["filters"] = {"type_only": {"()": "aftersales.jobs.back_end.TypeOnly"}}
    config["handlers"]["jobs"] = {**config["handlers"]["aftersales"], "filters": ["type_only"]}
    config["loggers"]["procrastinate"] = {"handlers": ["jobs"], "level": "WARNING", "propagate": False}
    return config


def _start_jobs(web: WebDesk, tick_seconds: float, *, run_jobs: bool | None) -> None:
    """Run the background jobs in this process: in threads on SQLite, as a procrastinate
    worker on PostgreSQL (only with --run-jobs there)."""
    from aftersales.jobs.back_end import start_in_process, start_worker_thread  # noqa: PLC0415
    from aftersales.web.app import web_jobs  # noqa: PLC0415
    from aftersales.wiring import on_postgres  # noqa: PLC0415

    postgres = on_postgres(web.settings)
    if not (run_jobs if run_jobs is not None else not postgres):
        click.echo("background jobs: left to `aftersales worker` (--run-jobs runs them here too)", err=True)
        return
    settings = web.settings
    click.echo("background jobs: run in this process" + (" too" if postgres else ""), err=True)
    if settings.imap is not None:
        click.echo(f"polling the inbox {describe(settings)}", err=True)
    if settings.smtp is not None:
        click.echo(f"sending mail through {settings.smtp.host}:{settings.smtp.port}", err=True)
    if postgres:
        start_worker_thread(web_jobs(web), tick_seconds or None)
    else:
        start_in_process(web_jobs(web), tick_seconds or None)

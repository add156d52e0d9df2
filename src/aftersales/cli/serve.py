"""`aftersales serve`: the web desk and its JSON API on one port."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import click

from aftersales.cli.mail import describe, poll_in_background
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
    help="Server processes; more use more cores (and about 120 MB each). The clocks tick once, here.",
)
@click.pass_obj
def serve(settings: Settings, host: str, port: int, tick_seconds: float, workers: int) -> None:
    """Serve the web desk: the queue, case pages, the Routing Lab, the policy page, the
    public contact form (/contact) and the JSON API (/api/, schema at /openapi.json).
    When the support inbox is configured (AFTERSALES_IMAP_HOST), it is polled now and every
    AFTERSALES_MAIL_POLL_SECONDS, like `aftersales mail poll`; with AFTERSALES_SMTP_HOST,
    queued replies and acknowledgements are sent on the same timer, like `aftersales mail send`.

    \b
    Examples:
      aftersales serve                       http://127.0.0.1:8000 on the embedded SQLite file
      aftersales serve --host 0.0.0.0 --port 8080   (put TLS in front of it)
      aftersales serve --workers 2               one server process per core
      aftersales user add lead@store.example --role operations   an account to sign in with
    """
    import uvicorn  # imported here: only this command needs it

    from aftersales.web.app import create_app, tick_in_background  # imported here: only this command needs it
    from aftersales.web.context import build_web_desk  # imported here: only this command needs it

    click.echo(f"aftersales web desk on http://{host}:{port}/  (Ctrl-C stops it)", err=True)
    if workers == 1:
        app = create_app(settings, tick_seconds=tick_seconds or None)
        _poll_mail(settings, app.state.web)
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level="warning",
            log_config=log_config(),
            access_log=False,
            proxy_headers=False,
        )
        return
    # This process migrates the embedded database and makes the session key before the
    # workers start (so they never race to), then ticks the clocks and polls the inbox for
    # all of them.
    web = build_web_desk(settings)
    if tick_seconds:
        tick_in_background(web, tick_seconds)
    _poll_mail(settings, web)
    uvicorn.run(
        "aftersales.web.app:create_app_from_environment",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="warning",
        log_config=log_config(),
        access_log=False,  # ours (aftersales.access) leaves out query strings
        proxy_headers=False,
    )


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
    return config


def _poll_mail(settings: Settings, web: WebDesk) -> None:
    """Poll the support inbox and send queued mail on a timer in this process, when IMAP or
    SMTP is configured."""
    if settings.imap is None and settings.smtp is None:
        return
    if settings.imap is not None:
        click.echo(f"polling the inbox {describe(settings)}", err=True)
    if settings.smtp is not None:
        click.echo(f"sending mail through {settings.smtp.host}:{settings.smtp.port}", err=True)
    poll_in_background(settings, web.desk, web.kit)

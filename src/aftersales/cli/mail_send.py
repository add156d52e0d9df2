"""`aftersales mail send`: send the queued replies and acknowledgements over SMTP.

Registered under the `mail` group by ``cli/__init__.py`` (the group lives in ``cli/mail.py``).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import click

from aftersales.domain.errors import ConfigError
from aftersales.services.jobs import process_name
from aftersales.services.outbox import SendRules, SendSummary, send_pending
from aftersales.settings import Settings
from aftersales.wiring import load_active_policy, mail_sender, open_desk

NOT_CONFIGURED = (
    "SMTP is not configured: set AFTERSALES_SMTP_HOST (and AFTERSALES_SMTP_PORT, _USER, _PASSWORD, "
    "_SECURITY as your provider says); see docs/integrations.md"
)


@click.command("send")
@click.option("--json", "as_json", is_flag=True, help="Print {sent, retrying, gave_up, errors} as JSON.")
@click.option(
    "--max-attempts",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Give up on a mail (status failed) after this many failed sends.",
)
@click.pass_obj
def send_command(settings: Settings, *, as_json: bool, max_attempts: int) -> None:
    """Send the queued replies and acknowledgements through the SMTP server.

    Each mail is sent in its own transaction; one the server refuses stays queued and is tried
    again on the next run, until --max-attempts. Run it every minute (cron, a timer).
    Exits 1 when a mail failed in this run.

    \b
    Example:
      AFTERSALES_SMTP_HOST=smtp.example.com AFTERSALES_SMTP_USER=support@example.com \\
      AFTERSALES_SMTP_PASSWORD=... aftersales mail send
      sent 3, retrying 0, gave up 0
    """
    if settings.smtp is None:
        raise ConfigError(NOT_CONFIGURED)
    policy = load_active_policy(settings)
    sender = mail_sender(settings.smtp, policy)
    summary = send_pending(
        open_desk(settings).uow,
        sender,
        now=datetime.now(UTC),
        rules=SendRules(max_attempts=max_attempts, by=process_name(), clock=lambda: datetime.now(UTC)),
    )
    _report(summary, as_json=as_json)
    if summary.errors:
        sys.exit(1)


def _report(summary: SendSummary, *, as_json: bool) -> None:
    if as_json:
        errors = [{"message_id": message_id, "error": error} for message_id, error in summary.errors]
        data = {
            "sent": summary.sent,
            "retrying": summary.retrying,
            "gave_up": summary.gave_up,
            "errors": errors,
        }
        click.echo(json.dumps(data))
        return
    click.echo(f"sent {summary.sent}, retrying {summary.retrying}, gave up {summary.gave_up}")
    for message_id, error in summary.errors:
        click.echo(f"  <{message_id}>: {error}", err=True)

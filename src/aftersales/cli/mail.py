"""`aftersales mail`: the store's support mailbox (`aftersales mail poll`; the background
jobs poll it and send the outbox on a timer: aftersales/jobs/desk_jobs.py)."""

from __future__ import annotations

import json
import sys

import click

from aftersales.cli.mail_send import send_command
from aftersales.jobs.mail_poll import acknowledger, configured_imap, poll_once, poll_sentence
from aftersales.services.mail_poll import PollSummary
from aftersales.settings import Settings
from aftersales.wiring import build_routing_kit, inbox, open_desk


@click.group()
def mail() -> None:
    """The store's support mailbox: take in new mail as cases (IMAP), send replies (SMTP)."""


mail.add_command(send_command)


@mail.command()
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def poll(settings: Settings, *, as_json: bool) -> None:
    """Poll the support inbox once: new mail becomes cases, then exit.

    The first poll takes in the mail of the last AFTERSALES_MAIL_BACKFILL_DAYS days; every
    later one the mail that arrived since, however long ago the last poll was. Each message
    is screened, deduplicated, threaded and routed as `aftersales intake` does, and one that
    cannot be read is quarantined under its IMAP URL. The mailbox is only read: nothing is
    marked seen, flagged, moved or deleted. `aftersales serve` polls on a timer.

    \b
    Example:
      AFTERSALES_IMAP_HOST=imap.fastmail.com AFTERSALES_IMAP_USER=support@store.example \\
      AFTERSALES_IMAP_PASSWORD=app-password aftersales mail poll
      aftersales mail poll --json
    """
    configured_imap(settings)  # before anything else: say so at once when there is no inbox
    desk = open_desk(settings)
    kit = build_routing_kit(settings)
    show_progress = sys.stderr.isatty()
    summary = poll_once(
        settings,
        desk,
        kit,
        on_new_case=acknowledger(settings, desk, kit),
        progress=_progress if show_progress else None,
    )
    if show_progress:
        click.echo("\r", err=True, nl=False)
    _report(summary, settings, as_json=as_json)


def describe(settings: Settings) -> str:
    """The polled mailbox as a startup line can name it (no password)."""
    server = configured_imap(settings)
    return f"{inbox(server, settings.imap_folder).key} every {settings.mail_poll_seconds:g} s"


def _progress(done: int, total: int) -> None:
    click.echo(f"\r{done}/{total} messages fetched", err=True, nl=False)


def _report(summary: PollSummary, settings: Settings, *, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(summary.as_dict(), indent=2))
        return
    how = (
        f"backfill: mail of the last {settings.mail_backfill_days} days"
        if summary.backfill
        else "mail since the last poll"
    )
    click.echo(f"{summary.mailbox} ({how}): {poll_sentence(summary)}")
    for failure in summary.failures:
        click.echo(f"  quarantined {failure}")
    if summary.quarantined > len(summary.failures):
        click.echo(f"  ... and {summary.quarantined - len(summary.failures)} more")

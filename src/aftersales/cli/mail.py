"""`aftersales mail`: the store's support mailbox (`aftersales mail poll`; the background
jobs poll it and send the outbox on a timer: aftersales/jobs/desk_jobs.py)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

import click

from aftersales.adapters.db.mailbox_state import mailbox_state_unit_of_work
from aftersales.adapters.imap_mailbox import ImapMailbox, mail_parser, mailbox_key
from aftersales.cli.mail_send import send_command
from aftersales.domain.errors import AftersalesError, ConfigError
from aftersales.domain.messages import InboundMessage
from aftersales.logs import log_failure, masked
from aftersales.services.mail_poll import MailIntake, NewCaseHook, PollSummary, Progress, poll_mailbox
from aftersales.services.outbox import acknowledge
from aftersales.services.routing import RoutingKit
from aftersales.settings import MailServer, Settings
from aftersales.wiring import Desk, build_routing_kit, open_desk

log = logging.getLogger("aftersales.mail")
_NOT_CONFIGURED = (
    "IMAP is not configured: set AFTERSALES_IMAP_HOST, AFTERSALES_IMAP_USER and "
    "AFTERSALES_IMAP_PASSWORD (and AFTERSALES_IMAP_SECURITY, AFTERSALES_IMAP_PORT when the "
    "server is not IMAPS on 993); see docs/integrations.md"
)


@click.group()
def mail() -> None:
    """The store's support mailbox: take in new mail as cases (IMAP), send replies (SMTP)."""


mail.add_command(send_command)


@mail.command()
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def poll(settings: Settings, as_json: bool) -> None:
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
    _report(summary, settings, as_json)


def acknowledger(settings: Settings, desk: Desk, kit: RoutingKit) -> NewCaseHook | None:
    """Queue the automatic acknowledgement of each new case opened by mail, when mail can be
    sent (SMTP configured): an acknowledgement queued with no way out would go late."""
    if settings.smtp is None:
        return None

    def hook(case_id: int, message: InboundMessage) -> None:
        acknowledge(desk.uow, kit, case_id, message, now=datetime.now(UTC))

    return hook


def configured_imap(settings: Settings) -> MailServer:
    if settings.imap is None:
        raise ConfigError(_NOT_CONFIGURED)
    return settings.imap


def own_addresses(kit: RoutingKit, server: MailServer) -> list[str]:
    """The store's own addresses, whose mail is screened out (no case from our own mail)."""
    addresses = [kit.policy.support_email]
    if "@" in server.user:
        addresses.append(server.user)
    return [address for address in addresses if address]


def poll_once(
    settings: Settings,
    desk: Desk,
    kit: RoutingKit,
    *,
    on_new_case: NewCaseHook | None = None,
    progress: Progress | None = None,
) -> PollSummary:
    """One poll of the configured inbox into ``desk``."""
    server = configured_imap(settings)
    now = datetime.now(UTC)
    intake = MailIntake(
        desk.uow,
        mailbox_state_unit_of_work(desk.engine),
        kit,
        mail_parser(now, own_addresses(kit, server), settings.max_message_bytes),
        progress=progress,
    )
    with ImapMailbox(server, settings.imap_folder) as box:
        return poll_mailbox(
            box, intake, now=now, backfill_days=settings.mail_backfill_days, on_new_case=on_new_case
        )


def poll_and_log(
    settings: Settings, desk: Desk, kit: RoutingKit, on_new_case: NewCaseHook | None = None
) -> PollSummary | None:
    """One poll for the timer: a failure is logged (never with the password) and None returned,
    so the next tick simply tries again."""
    seconds = settings.mail_poll_seconds
    try:
        summary = poll_once(settings, desk, kit, on_new_case=on_new_case)
    except AftersalesError as error:  # the server is down, the login refused: said plainly
        log.warning("mail poll failed: %s; trying again in %g s", masked(str(error)), seconds)
        return None
    except Exception as error:  # a bug: where it happened, without the customer data it may quote
        log_failure(log, f"mail poll failed; trying again in {seconds:g} s", error)
        return None
    if summary.fetched:
        log.info("mail poll: %s", _sentence(summary))
    return summary


def describe(settings: Settings) -> str:
    """The polled mailbox as a startup line can name it (no password)."""
    server = configured_imap(settings)
    return f"{mailbox_key(server, settings.imap_folder)} every {settings.mail_poll_seconds:g} s"


def _progress(done: int, total: int) -> None:
    click.echo(f"\r{done}/{total} messages fetched", err=True, nl=False)


def _sentence(summary: PollSummary) -> str:
    return (
        f"{summary.fetched} fetched: {summary.new_cases} new cases, {summary.updated_cases} updated, "
        f"{summary.duplicates} duplicates skipped, {summary.screened} screened "
        f"(auto-replies, lists, delivery reports), {summary.quarantined} quarantined"
    )


def _report(summary: PollSummary, settings: Settings, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(summary.as_dict(), indent=2))
        return
    how = (
        f"backfill: mail of the last {settings.mail_backfill_days} days"
        if summary.backfill
        else "mail since the last poll"
    )
    click.echo(f"{summary.mailbox} ({how}): {_sentence(summary)}")
    for failure in summary.failures:
        click.echo(f"  quarantined {failure}")
    if summary.quarantined > len(summary.failures):
        click.echo(f"  ... and {summary.quarantined - len(summary.failures)} more")

"""Mail jobs: one poll of the support inbox into the desk, and the acknowledgement of each new
case it opens; run by the job layer (the ``mail_poll`` job) and by `aftersales mail poll`."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from aftersales.adapters.mail.message_files import mail_parser
from aftersales.domain.errors import AftersalesError, ConfigError
from aftersales.domain.messages import InboundMessage
from aftersales.logs import log_failure, masked
from aftersales.services.mail_poll import MailIntake, NewCaseHook, PollSummary, Progress, poll_mailbox
from aftersales.services.outbox import acknowledge
from aftersales.services.routing import RoutingKit
from aftersales.settings import MailServer, Settings
from aftersales.wiring import Desk, inbox

log = logging.getLogger("aftersales.mail")

_NOT_CONFIGURED = (
    "IMAP is not configured: set AFTERSALES_IMAP_HOST, AFTERSALES_IMAP_USER and "
    "AFTERSALES_IMAP_PASSWORD (and AFTERSALES_IMAP_SECURITY, AFTERSALES_IMAP_PORT when the "
    "server is not IMAPS on 993); see docs/integrations.md"
)


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
        desk.mailbox_states,
        kit,
        mail_parser(now, own_addresses(kit, server), settings.max_message_bytes),
        progress=progress,
    )
    with inbox(server, settings.imap_folder) as box:
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
        log.info("mail poll: %s", poll_sentence(summary))
    return summary


def poll_sentence(summary: PollSummary) -> str:
    return (
        f"{summary.fetched} fetched: {summary.new_cases} new cases, {summary.updated_cases} updated, "
        f"{summary.duplicates} duplicates skipped, {summary.screened} screened "
        f"(auto-replies, lists, delivery reports), {summary.quarantined} quarantined"
    )

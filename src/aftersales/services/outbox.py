"""The outbox: acknowledge a new case by e-mail, and send what is queued.

Mail is queued in the unit of work that decides to send it (an agent's reply, a new case)
and sent later, each mail in its own transaction: a mail server that is down delays the
mail, never the reply or the intake. A failed send stays pending and is tried again on the
next run, up to ``max_attempts``; then it is left ``failed`` with the server's error.

Two senders (two workers, two servers) never send the same mail: a mail is claimed in the
database ("sending", with the sender's host:pid) by one conditional update before it goes to
the server, and marked sent after. Its Message-ID is its idempotency key: it is queued once
per Message-ID and keeps it on every attempt. If the sender dies while it holds a claim, the
mail is pending again once its lease (``SEND_LEASE``) has run out, and sent again: once, unless
the sender died in the instant between the mail server's "250 OK" and the commit that marks it
sent (SMTP has no way to ask a server whether it took a Message-ID), when it may arrive twice.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from aftersales.domain.cases import CaseRecord, Event
from aftersales.domain.greetings import first_name
from aftersales.domain.messages import Channel, Direction, InboundMessage
from aftersales.domain.outgoing import (
    ACKNOWLEDGEMENT_INTERVAL_HOURS,
    MailKind,
    MailNotSent,
    OutgoingMail,
    acknowledgement_lateness,
    acknowledgement_refusal,
    acknowledgement_text,
    mail_domain,
    reply_subject,
    thread_headers,
    unguessable_message_id,
)
from aftersales.domain.sla.clocks import ClockName, ClockState
from aftersales.ports import UnitOfWork
from aftersales.services.routing import RoutingKit

SEND_BATCH = 100  # mails read per run; a longer queue is sent by the next runs
# A mail claimed longer ago than this was never finished: its sender stopped (a crash, a
# kill). It is sent again, so it may arrive twice; far longer than any send takes.
SEND_LEASE = timedelta(minutes=15)
_STOPPED = "the sender stopped while sending this mail; it is sent again and may arrive twice"


class MailSender(Protocol):
    """Hands one mail to a mail server; raises MailNotSent when the server does not take it."""

    def send(self, mail: OutgoingMail, *, at: datetime) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class SendSummary:
    sent: int = 0
    retrying: int = 0  # failed this time; tried again on the next run
    gave_up: int = 0  # failed for the last time: left "failed" with its error
    errors: tuple[tuple[str, str], ...] = ()  # (Message-ID, what the server said)


def acknowledge(
    uow: UnitOfWork, kit: RoutingKit, case_id: int, message: InboundMessage, *, now: datetime
) -> bool:
    """Queue the automatic receipt for a case ``message`` (an e-mail) has just opened.

    Call it after intake opened a case (``Outcome.NEW_CASE``); for any other message (a
    follow-up, a form) it does nothing. Returns whether a receipt was queued. Loop protection
    (RFC 3834) or lateness (old mail, an overdue first answer) may refuse: the reason is
    recorded on the case's timeline as an ``acknowledgement_skipped`` event. Calling it again
    for the same message queues nothing more.
    """
    if message.channel is not Channel.EMAIL:
        return False
    with uow() as cases:
        if not _opened_by(cases.messages_of(case_id), message) or _acknowledged(cases.timeline(case_id)):
            return False
        message_id = _acknowledgement_id(kit)
        since = now - timedelta(hours=ACKNOWLEDGEMENT_INTERVAL_HOURS)
        earlier = cases.acknowledgements_since(message.from_address, since) if message.from_address else []
        row = cases.case_row(case_id)
        refusal = acknowledgement_refusal(
            message, {kit.policy.support_email}, recently_acknowledged=bool(earlier)
        ) or acknowledgement_lateness(message.sent_at, first_response_due(row), now)
        if refusal is not None:
            cases.add_event(case_id, Event("acknowledgement_skipped", now, "system", {"reason": refusal}))
            return False
        mail = _acknowledgement(kit, row, message, message_id)
        cases.queue_mail(mail, now)
        data = {"message_id": mail.message_id, "to": mail.to_address}
        cases.add_event(case_id, Event("acknowledgement_queued", now, "system", data))
        return True


def _opened_by(messages: Sequence[Mapping[str, Any]], message: InboundMessage) -> bool:
    """Whether ``message`` is the case's first and only customer message: a new case."""
    inbound = [m for m in messages if m["direction"] == Direction.INBOUND.value]
    return len(inbound) == 1 and inbound[0]["dedupe_key"] == message.dedupe_key


def _acknowledged(timeline: Sequence[Mapping[str, Any]]) -> bool:
    """Whether the case's receipt was queued already: its Message-ID is random, so a second
    call knows it from the timeline, not from the id."""
    return any(e["kind"] == "acknowledgement_queued" for e in timeline)


def _acknowledgement_id(kit: RoutingKit) -> str:
    return unguessable_message_id(mail_domain(kit.policy.support_email), "ack", secrets.token_hex(16))


def _acknowledgement(
    kit: RoutingKit, row: CaseRecord, message: InboundMessage, message_id: str
) -> OutgoingMail:
    in_reply_to, references = thread_headers(message)
    return OutgoingMail(
        case_id=row.id,
        kind=MailKind.ACKNOWLEDGEMENT,
        message_id=message_id,
        to_address=message.from_address,
        subject=reply_subject(message.subject or row.subject, row.id),
        body=acknowledgement_text(
            kit.policy,
            row.id,
            first_response_due(row),
            first_name(message.from_name, message.from_address),
        ),
        in_reply_to=in_reply_to,
        references=references,
    )


def first_response_due(row: CaseRecord) -> datetime | None:
    """When the case's first-response clock is due, from its stored clocks (None: not running)."""
    for clock in row.clocks:
        running = clock["state"] in (ClockState.ON_TRACK.value, ClockState.AT_RISK.value)
        if clock["name"] == ClockName.FIRST_RESPONSE.value and running and clock.get("due_at"):
            return datetime.fromisoformat(clock["due_at"])
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class SendRules:
    """How the outbox is sent: ``by`` names the sender in its claims (host:pid); a claim older
    than ``lease`` is a sender that stopped. ``clock`` dates each claim when it is made (a run
    of a hundred mails to a slow server outlasts a lease: a claim dated at the run's start
    would look stale to another sender while its mail is still being sent); None: the run's
    ``now``."""

    max_attempts: int = 5
    limit: int = SEND_BATCH
    lease: timedelta = SEND_LEASE
    by: str = ""
    clock: Callable[[], datetime] | None = None


def send_pending(
    uow: UnitOfWork, sender: MailSender, *, now: datetime, rules: SendRules | None = None
) -> SendSummary:
    """Send the queued mail, oldest first. Each mail is claimed, sent and recorded in short
    transactions of its own: no database lock is held while the mail server talks."""
    rules = rules or SendRules()
    with uow() as cases:
        cases.release_stale_mails(now - rules.lease, _STOPPED)
        ids = [queued.id for queued in cases.pending_mails(rules.limit)]
    attempts = [attempt for mail_id in ids if (attempt := _send_one(uow, sender, mail_id, now, rules))]
    failed = [a for a in attempts if a.error]
    return SendSummary(
        sent=len(attempts) - len(failed),
        retrying=sum(1 for a in failed if not a.gave_up),
        gave_up=sum(1 for a in failed if a.gave_up),
        errors=tuple((a.message_id, a.error) for a in failed),
    )


@dataclass(frozen=True, slots=True)
class _Attempt:
    message_id: str
    error: str = ""  # "": the server took the mail
    gave_up: bool = False


def _send_one(
    uow: UnitOfWork, sender: MailSender, mail_id: int, now: datetime, rules: SendRules
) -> _Attempt | None:
    """One try at one mail; None when another sender has taken it meanwhile."""
    claimed_at = rules.clock() if rules.clock is not None else now
    with uow() as cases:
        queued = cases.claim_mail(mail_id, claimed_at, rules.by)
    if queued is None:
        return None
    try:
        sender.send(queued.mail, at=now)
    except MailNotSent as error:
        gave_up = queued.attempts + 1 >= rules.max_attempts
        with uow() as cases:
            cases.mark_mail_failed(mail_id, str(error), final=gave_up)
        return _Attempt(queued.mail.message_id, str(error), gave_up)
    with uow() as cases:
        cases.mark_mail_sent(mail_id, now)
    return _Attempt(queued.mail.message_id)

"""A public reply to the customer: checked, its promised next update read, the clocks moved.

A reply must say when the buyer hears from us next (the seed's SLA rule), at a time the store
can keep (ahead, in opening hours), unless it closes the case. One without such a time, or
that fails another reply check, is refused with the reasons unless forced. The time stored
is the one ``check_case_reply`` reads, the same reading the composer shows.

A reply to a customer with an e-mail address is queued in the outbox in the same unit of
work, with a Message-ID on the store's domain and threaded under the customer's latest
e-mail; `aftersales mail send` (services/outbox.py) sends it.

A reply may resolve the case (``resolve``): it needs no next-update time, the case moves to
resolved with it, and its mail ends with the satisfaction survey's rating link
(services/satisfaction.py) when the policy's ``[satisfaction] survey`` is on.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aftersales.domain.cases import CaseRecord, CaseStatus, Event, check_transition
from aftersales.domain.errors import AftersalesError
from aftersales.domain.messages import Channel, Direction, InboundMessage
from aftersales.domain.outgoing import (
    MailKind,
    OutgoingMail,
    Parent,
    can_receive_mail,
    mail_domain,
    reply_subject,
    thread_headers,
    unguessable_message_id,
)
from aftersales.domain.replies import ReplyCheck, ReplyProblem, check_reply
from aftersales.domain.reply_promise import reply_languages
from aftersales.ports import CaseRepository, CaseTimeline, MailLinks, UnitOfWork
from aftersales.services.clocks import refresh_clocks
from aftersales.services.collisions import lock_unchanged
from aftersales.services.routing import RoutingKit
from aftersales.services.satisfaction import survey_for


class ReplyRefused(AftersalesError):
    """The reply fails its checks; ``problems`` says which sentence and how to fix it."""

    def __init__(self, problems: tuple[ReplyProblem, ...]) -> None:
        self.problems = problems
        reasons = "; ".join(
            f"{p.check}: {p.fix}" + (f' ("{p.sentence}")' if p.sentence else "") for p in problems
        )
        super().__init__(f"the reply was not sent: {reasons} (use --force to send it anyway)")


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    case_id: int
    text: str
    author: str
    at: datetime
    next_update: datetime | None = None  # an explicit promise overrides the one in the text
    force: bool = False
    # the highest timeline event id the agent saw; a newer change refuses the reply
    # (services/collisions.py); None: not checked
    seen_event_id: int | None = None
    resolve: bool = False  # the reply resolves the case (and may carry the rating link)


def send_reply(
    uow: UnitOfWork, kit: RoutingKit, reply: Reply, *, links: MailLinks | None = None
) -> datetime | None:
    """Record the reply and return the promised next-update time in the store's zone (None if
    the reply promises none: a closing reply, or one sent with ``force``). ``links``: where
    the rating link of a resolving reply points (None: no rating link)."""
    with uow() as cases:
        lock_unchanged(cases, reply.case_id, reply.seen_event_id)  # raises CaseChanged
        row = cases.case_row(reply.case_id)
        if reply.resolve:
            check_transition(row.status, CaseStatus.RESOLVED)  # raises InvalidTransition
        check = check_case_reply(kit, reply.text, at=reply.at, case=row)
        # a resolving reply promises no update: the case's clocks stop with it
        promise = None if reply.resolve else _in_zone(reply.next_update or check.promised_at, kit)
        needs_no_time = bool(reply.next_update) or reply.resolve
        problems = tuple(p for p in check.problems if not (p.check == "no_next_step_time" and needs_no_time))
        if problems and not reply.force:
            raise ReplyRefused(problems)
        outbound = _as_message(reply, row, _parent(cases, reply.case_id), kit.policy.support_email)
        cases.add_message(reply.case_id, outbound, Direction.OUTBOUND, promise)
        if outbound.to_addresses:
            footer = (
                survey_for(cases, links, kit.policy.satisfaction, reply.case_id, reply.at)
                if reply.resolve
                else ""
            )
            cases.queue_mail(_as_mail(reply.case_id, outbound, footer), reply.at)
        data = {"promised_update_at": promise.isoformat() if promise else None, "forced": bool(problems)}
        cases.add_event(reply.case_id, Event("reply_sent", reply.at, reply.author, data))
        if reply.resolve:
            _resolve(cases, row, reply)
        elif row.status is CaseStatus.NEW:
            cases.update_case(reply.case_id, {"status": CaseStatus.OPEN.value})
            cases.add_event(
                reply.case_id, Event("status_changed", reply.at, reply.author, {"from": "new", "to": "open"})
            )
        cases.update_case(reply.case_id, {"updated_at": reply.at})
        refresh_clocks(cases, kit, reply.case_id, reply.at)
        return promise


def _resolve(cases: CaseRepository, row: CaseRecord, reply: Reply) -> None:
    """The reply resolves the case, as a status move to resolved would (services/desk.py)."""
    fields = {"status": CaseStatus.RESOLVED.value, "resolved_at": reply.at}
    cases.update_case(reply.case_id, fields)
    # lifts this case's hold only: the buyer's other held cases keep them on hold
    cases.release_automation(reply.case_id, reply.at)
    moved = {"from": row.status.value, "to": CaseStatus.RESOLVED.value}
    cases.add_event(reply.case_id, Event("status_changed", reply.at, reply.author, moved))


def _in_zone(moment: datetime | None, kit: RoutingKit) -> datetime | None:
    return moment.astimezone(kit.calendar.tz) if moment is not None else None


def check_case_reply(kit: RoutingKit, text: str, *, at: datetime, case: CaseRecord | None) -> ReplyCheck:
    """The reply checks on a case's reply, and the next-update time it promises: what the
    composer and ``POST /api/reply-check`` show, and what ``send_reply`` stores.

    The promise is read in the case's language and the store's (every known language when
    the case's is unknown); the stop line is the case's decision's.
    """
    decision = case.decision if case else {}
    case_language = case.language if case else ""
    return check_reply(
        text,
        now=at,
        calendar=kit.calendar,
        stop_line_clear=bool(decision.get("stop_line_clear")),
        stop_line=decision.get("stop_line", ""),
        languages=reply_languages(case_language, kit.policy.language),
    )


def _parent(cases: CaseTimeline, case_id: int) -> Mapping[str, Any] | None:
    """The customer's latest e-mail in the case: the reply threads under it."""
    inbound = [
        m
        for m in cases.messages_of(case_id)
        if m["direction"] == Direction.INBOUND.value and m["channel"] == Channel.EMAIL.value
    ]
    return inbound[-1] if inbound else None


def _as_message(
    reply: Reply, case: CaseRecord, parent: Mapping[str, Any] | None, support_email: str
) -> InboundMessage:
    """The reply as the case records it: a Message-ID on the store's domain, threaded under
    the customer's latest e-mail, addressed to the customer when mail can reach them."""
    digest = hashlib.sha256(f"{reply.case_id}|{reply.at.isoformat()}|{reply.text}".encode()).hexdigest()
    customer = case.customer or ""
    in_reply_to, references = _threading(parent)
    subject = (parent["subject"] if parent is not None else "") or case.subject
    return InboundMessage(
        message_id=unguessable_message_id(mail_domain(support_email), "reply", secrets.token_hex(16)),
        dedupe_key=f"reply|{digest}",
        channel=Channel.EMAIL,
        from_address="",
        from_name=reply.author,
        to_addresses=(customer,) if can_receive_mail(customer) else (),
        subject=reply_subject(subject, reply.case_id),
        sent_at=reply.at,
        body=reply.text,
        full_body=reply.text,
        html="",
        in_reply_to=in_reply_to,
        references=references,
    )


def _threading(parent: Mapping[str, Any] | None) -> tuple[str, tuple[str, ...]]:
    if parent is None:
        return "", ()
    return thread_headers(
        Parent(parent["message_id"], parent["in_reply_to"], tuple(parent["references"] or ()))
    )


def _as_mail(case_id: int, outbound: InboundMessage, footer: str = "") -> OutgoingMail:
    """The reply's mail; ``footer`` (the rating link) is in the mail only, never in the
    case's conversation: the link is the customer's to use."""
    return OutgoingMail(
        case_id=case_id,
        kind=MailKind.REPLY,
        message_id=outbound.message_id,
        to_address=outbound.to_addresses[0],
        subject=outbound.subject,
        body=outbound.body + footer,
        in_reply_to=outbound.in_reply_to,
        references=outbound.references,
    )

"""The outbox end to end: replies and acknowledgements queued by the use cases, sent to a real
SMTP server (aiosmtpd), retried when the server fails. Runs on SQLite, and on PostgreSQL when
configured.

The store is Northwind Tumblers (America/New_York). Ana writes on Tuesday 24 November 2026 at
10:00; her where-is-my-order case's first response is due Wednesday 25 November, 11:00.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from aftersales.adapters.db import schema
from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.adapters.mail.parse import dedupe_key
from aftersales.adapters.mail.smtp import SmtpSender
from aftersales.domain.messages import AutoKind, Channel, InboundMessage
from aftersales.services.intake import Incoming, Outcome, take_in
from aftersales.services.outbox import SendRules, SendSummary, acknowledge, send_pending
from aftersales.services.replies import Reply, send_reply
from aftersales.services.routing import RoutingKit

from .conftest import PASSWORD, USER, Inbox, free_port

NY = ZoneInfo("America/New_York")
WHERE_IS_1043 = "Where is my order #1043? Tracking hasn't moved in 5 days."
PROMISE = "We're checking with the carrier; I'll update you by tomorrow 3 pm."


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=NY)


def message(
    text: str, *, sender: str = "ana@example.com", sent: datetime | None = None, **fields: Any
) -> InboundMessage:
    """An e-mail as the parser hands it over; ``fields`` override any InboundMessage field."""
    sent = sent or at(24, 10)
    message_id = fields.pop("message_id", hashlib.sha256(f"{sender}|{sent}|{text}".encode()).hexdigest()[:12])
    built = InboundMessage(
        message_id=message_id,
        dedupe_key=dedupe_key(message_id, sender, sent.isoformat(), text),
        channel=Channel.EMAIL,
        from_address=sender,
        from_name=sender.split("@")[0].title(),
        to_addresses=("support@northwind.example",),
        subject=fields.pop("subject", "Order #1043"),
        sent_at=sent,
        body=text,
        full_body=text,
        html="",
    )
    return replace(built, **fields)


def opened(uow: SqlUnitOfWork, kit: RoutingKit, mail: InboundMessage) -> int:
    result = take_in(uow, kit, Incoming(mail, "test"), now=mail.sent_at)
    assert result.outcome is Outcome.NEW_CASE, result
    assert result.case_id is not None
    return result.case_id


def outbox(uow: SqlUnitOfWork) -> list[dict[str, Any]]:
    with uow() as cases:
        return [
            dict(r) for r in cases.db.execute(select(schema.outbox).order_by(schema.outbox.c.id)).mappings()
        ]


def timeline(uow: SqlUnitOfWork, case_id: int, kind: str) -> list[dict[str, Any]]:
    with uow() as cases:
        return [dict(e["data"]) for e in cases.timeline(case_id) if e["kind"] == kind]


def sender_for(server: Inbox, kit: RoutingKit, **changes: Any) -> SmtpSender:
    policy = kit.policy
    return SmtpSender(
        server.server(**changes), from_address=policy.support_email, from_name=policy.store_name, timeout=5
    )


# ----------------------------------------------------------------------------- replies


def test_a_reply_is_delivered_threaded_under_the_customers_latest_mail(
    uow: SqlUnitOfWork, kit: RoutingKit, smtp: Inbox
) -> None:
    case_id = opened(uow, kit, message(WHERE_IS_1043, message_id="m1@cust.example"))
    follow_up = message(
        "Any news?",
        sent=at(24, 10, 20),
        message_id="m2@cust.example",
        subject="Re: Order #1043",
        in_reply_to="m1@cust.example",
    )
    assert take_in(uow, kit, Incoming(follow_up, "test"), now=at(24, 10, 20)).case_id == case_id
    send_reply(uow, kit, Reply(case_id=case_id, text=PROMISE, author="Marcus Lee", at=at(24, 10, 30)))

    summary = send_pending(uow, sender_for(smtp, kit), now=at(24, 10, 31))

    assert summary == SendSummary(sent=1)
    ((envelope_from, recipients, sent),) = smtp.received
    assert (envelope_from, recipients) == ("support@northwind.example", ["ana@example.com"])
    assert sent["From"] == "Northwind Tumblers <support@northwind.example>"
    assert sent["Subject"] == f"Re: Order #1043 [case {case_id}]"
    assert sent["In-Reply-To"] == "<m2@cust.example>"
    assert sent["References"] == "<m1@cust.example> <m2@cust.example>"
    assert sent["Message-ID"].startswith("<reply-")
    assert sent["Message-ID"].endswith("@northwind.example>")
    assert sent.get_content().strip() == PROMISE
    (row,) = outbox(uow)
    assert (row["kind"], row["status"], row["attempts"], row["sent_at"]) == (
        "reply",
        "sent",
        1,
        at(24, 10, 31),
    )


def test_the_customers_answer_to_a_sent_reply_threads_back_into_the_case(
    uow: SqlUnitOfWork, kit: RoutingKit, smtp: Inbox
) -> None:
    case_id = opened(uow, kit, message(WHERE_IS_1043, message_id="m1@cust.example"))
    send_reply(uow, kit, Reply(case_id=case_id, text=PROMISE, author="Marcus Lee", at=at(24, 10, 30)))
    send_pending(uow, sender_for(smtp, kit), now=at(24, 10, 31))
    ((_, _, sent),) = smtp.received
    our_id = sent["Message-ID"].strip("<>")

    answer = message("Thank you!", sent=at(24, 11), subject="Hello", in_reply_to=our_id, references=(our_id,))
    result = take_in(uow, kit, Incoming(answer, "test"), now=at(24, 11))

    assert (result.outcome, result.case_id) == (Outcome.UPDATED_CASE, case_id)


def test_a_reply_to_a_customer_without_an_address_is_recorded_but_not_queued(
    uow: SqlUnitOfWork, kit: RoutingKit
) -> None:
    case_id = opened(uow, kit, message(WHERE_IS_1043, sender="", channel=Channel.FORM))

    send_reply(uow, kit, Reply(case_id=case_id, text=PROMISE, author="Marcus Lee", at=at(24, 10, 30)))

    assert outbox(uow) == []
    assert len(timeline(uow, case_id, "reply_sent")) == 1


# ----------------------------------------------------------------------------- acknowledgements


def test_a_new_case_is_acknowledged_with_its_first_response_time(
    uow: SqlUnitOfWork, kit: RoutingKit, smtp: Inbox
) -> None:
    first = message(WHERE_IS_1043, message_id="m1@cust.example")
    case_id = opened(uow, kit, first)

    assert acknowledge(uow, kit, case_id, first, now=at(24, 10, 1)) is True
    assert send_pending(uow, sender_for(smtp, kit), now=at(24, 10, 2)) == SendSummary(sent=1)

    ((_, recipients, sent),) = smtp.received
    assert recipients == ["ana@example.com"]
    assert (sent["Auto-Submitted"], sent["X-Auto-Response-Suppress"]) == ("auto-replied", "All")
    assert (sent["In-Reply-To"], sent["References"]) == ("<m1@cust.example>", "<m1@cust.example>")
    assert sent["Subject"] == f"Re: Order #1043 [case {case_id}]"
    text = " ".join(sent.get_content().split())
    assert (
        "We will reply by Wednesday 25 November, 11:00 (America/New_York), within our business hours "
        "Mon–Thu 9:00–12:00 and 13:00–17:00, Fri 9:00–12:00 and 13:00–16:00, Sat 10:00–13:00."
    ) in text
    assert f"it is case {case_id}" in text
    assert timeline(uow, case_id, "acknowledgement_queued") == [
        {"message_id": sent["Message-ID"].strip("<>"), "to": "ana@example.com"}
    ]


REFUSED = [
    pytest.param({"auto_kind": AutoKind.AUTO_REPLY}, "screened as auto_reply", id="an auto-reply"),
    pytest.param(
        {"auto_kind": AutoKind.MAILING_LIST}, "screened as mailing_list", id="a list mail (screened)"
    ),
    pytest.param(
        {"raw_headers": (("List-Unsubscribe", "<mailto:leave@example.com>"),)},
        "list mail (list-unsubscribe)",
        id="a list mail intake lets through",
    ),
    pytest.param(
        {"from_address": "support@northwind.example"},
        "support@northwind.example is our own address",
        id="our own mail",
    ),
    pytest.param(
        {"from_address": "no-reply@shop.example"},
        "no-reply@shop.example is an automatic sender",
        id="no-reply",
    ),
]


@pytest.mark.parametrize(("changes", "reason"), REFUSED)
def test_loop_protection_refuses_and_says_why_on_the_timeline(
    uow: SqlUnitOfWork, kit: RoutingKit, smtp: Inbox, changes: dict[str, Any], reason: str
) -> None:
    """Screened mail never opens a case; the service refuses it anyway if asked (defence in depth)."""
    plain = message(WHERE_IS_1043, **{k: v for k, v in changes.items() if k == "from_address"})
    case_id = opened(uow, kit, plain)

    acknowledged = acknowledge(uow, kit, case_id, replace(plain, **changes), now=at(24, 10, 1))

    assert acknowledged is False
    assert timeline(uow, case_id, "acknowledgement_skipped") == [{"reason": reason}]
    assert outbox(uow) == []
    assert send_pending(uow, sender_for(smtp, kit), now=at(24, 10, 2)) == SendSummary()
    assert smtp.received == []


def test_one_acknowledgement_per_address_a_day(uow: SqlUnitOfWork, kit: RoutingKit) -> None:
    mails = [
        message(WHERE_IS_1043, sent=at(24, 10)),
        message("The tumbler arrived dented, order #2001.", sent=at(24, 15), subject="Dented"),
        message("Do you sell lids for the 20oz tumbler? Order #3001.", sent=at(25, 10, 1), subject="Lids"),
    ]
    cases = [opened(uow, kit, mail) for mail in mails]

    answered = [
        acknowledge(uow, kit, c, mail, now=mail.sent_at) for c, mail in zip(cases, mails, strict=True)
    ]

    assert answered == [True, False, True]
    assert timeline(uow, cases[1], "acknowledgement_skipped") == [
        {"reason": "ana@example.com got an acknowledgement in the last 24 hours"}
    ]
    assert [row["case_id"] for row in outbox(uow)] == [cases[0], cases[2]]


def test_acknowledging_twice_queues_once_and_a_follow_up_is_never_acknowledged(
    uow: SqlUnitOfWork, kit: RoutingKit
) -> None:
    first = message(WHERE_IS_1043, message_id="m1@cust.example")
    case_id = opened(uow, kit, first)
    follow_up = message("Any news?", sent=at(24, 11), in_reply_to="m1@cust.example")
    take_in(uow, kit, Incoming(follow_up, "test"), now=at(24, 11))

    results = [
        acknowledge(uow, kit, case_id, first, now=at(24, 11, 1)),
        acknowledge(uow, kit, case_id, first, now=at(24, 11, 2)),
        acknowledge(uow, kit, case_id, follow_up, now=at(24, 11, 3)),
    ]

    assert results == [False, False, False]  # the case has two customer mails: it is not new
    assert outbox(uow) == []
    single = opened(uow, kit, message("Order #2001 arrived dented.", sender="bo@example.com"))
    bo = message("Order #2001 arrived dented.", sender="bo@example.com")
    assert [acknowledge(uow, kit, single, bo, now=at(24, 10, 1)) for _ in range(2)] == [True, False]
    assert len(outbox(uow)) == 1
    assert timeline(uow, single, "acknowledgement_skipped") == []


def test_mail_taken_in_days_later_gets_no_receipt(uow: SqlUnitOfWork, kit: RoutingKit) -> None:
    """A first poll fetches two weeks of mail: a receipt for it now would say nothing."""
    old = message(WHERE_IS_1043, sent=at(10, 10))
    case_id = opened(uow, kit, old)

    assert acknowledge(uow, kit, case_id, old, now=at(24, 10)) is False
    (skipped,) = timeline(uow, case_id, "acknowledgement_skipped")
    assert skipped["reason"].endswith("too long ago for a receipt")
    assert outbox(uow) == []


def test_a_case_opened_by_a_form_is_not_acknowledged_by_mail(uow: SqlUnitOfWork, kit: RoutingKit) -> None:
    form = message(WHERE_IS_1043, channel=Channel.FORM)
    case_id = opened(uow, kit, form)

    assert acknowledge(uow, kit, case_id, form, now=at(24, 10, 1)) is False
    assert outbox(uow) == []
    assert timeline(uow, case_id, "acknowledgement_skipped") == []


# ----------------------------------------------------------------------------- sending


def test_a_failing_server_leaves_the_mail_pending_then_failed_without_the_password(
    uow: SqlUnitOfWork, kit: RoutingKit
) -> None:
    case_id = opened(uow, kit, message(WHERE_IS_1043))
    send_reply(uow, kit, Reply(case_id=case_id, text=PROMISE, author="Marcus Lee", at=at(24, 10, 30)))
    port = free_port()  # nothing listens here
    down = SmtpSender(
        Inbox(port).server(user=USER, password=PASSWORD), from_address=kit.policy.support_email, timeout=5
    )

    first = send_pending(uow, down, now=at(24, 10, 31), rules=SendRules(max_attempts=2))

    assert (first.sent, first.retrying, first.gave_up) == (0, 1, 0)
    (row,) = outbox(uow)
    assert (row["status"], row["attempts"], row["sent_at"]) == ("pending", 1, None)
    assert f"127.0.0.1:{port}" in row["last_error"]
    assert PASSWORD not in row["last_error"]
    assert PASSWORD not in str(first.errors)

    second = send_pending(uow, down, now=at(24, 10, 41), rules=SendRules(max_attempts=2))

    assert (second.sent, second.retrying, second.gave_up) == (0, 0, 1)
    (row,) = outbox(uow)
    assert (row["status"], row["attempts"]) == ("failed", 2)
    assert send_pending(uow, down, now=at(24, 10, 51), rules=SendRules(max_attempts=2)) == SendSummary()


def test_a_mail_that_failed_once_goes_out_on_the_next_run(
    uow: SqlUnitOfWork, kit: RoutingKit, smtp: Inbox
) -> None:
    case_id = opened(uow, kit, message(WHERE_IS_1043))
    send_reply(uow, kit, Reply(case_id=case_id, text=PROMISE, author="Marcus Lee", at=at(24, 10, 30)))
    send_pending(uow, sender_for(smtp, kit, password="wrong", user=USER), now=at(24, 10, 31))

    summary = send_pending(uow, sender_for(smtp, kit, user=USER, password=PASSWORD), now=at(24, 10, 41))

    assert summary == SendSummary(sent=1)
    (row,) = outbox(uow)
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 2, "")
    assert len(smtp.received) == 1


def test_sending_twice_sends_once(uow: SqlUnitOfWork, kit: RoutingKit, smtp: Inbox) -> None:
    case_id = opened(uow, kit, message(WHERE_IS_1043))
    send_reply(uow, kit, Reply(case_id=case_id, text=PROMISE, author="Marcus Lee", at=at(24, 10, 30)))
    sender = sender_for(smtp, kit)

    runs = [send_pending(uow, sender, now=at(24, 10, 31) + timedelta(minutes=n)) for n in range(2)]

    assert runs == [SendSummary(sent=1), SendSummary()]
    assert len(smtp.received) == 1


class _SenderThatStartsAnotherRun:
    """Starts a second run while the first is talking to the server: the second finds the
    database free (no lock held during a send) and the mail already taken."""

    def __init__(self, uow: SqlUnitOfWork, inner: SmtpSender) -> None:
        self.uow, self.inner = uow, inner
        self.inner_runs: list[SendSummary] = []

    def send(self, mail: Any, *, at: datetime) -> None:
        if not self.inner_runs:
            self.inner_runs.append(send_pending(self.uow, self.inner, now=at))
        self.inner.send(mail, at=at)


def test_a_second_sender_running_at_the_same_time_never_takes_the_same_mail(
    uow: SqlUnitOfWork, kit: RoutingKit, smtp: Inbox
) -> None:
    case_id = opened(uow, kit, message(WHERE_IS_1043))
    send_reply(uow, kit, Reply(case_id=case_id, text=PROMISE, author="Marcus Lee", at=at(24, 10, 30)))
    sender = _SenderThatStartsAnotherRun(uow, sender_for(smtp, kit))

    outer = send_pending(uow, sender, now=at(24, 10, 31))

    assert (outer, sender.inner_runs) == (SendSummary(sent=1), [SendSummary()])
    assert len(smtp.received) == 1


def test_a_mail_whose_sender_stopped_mid_send_goes_out_once_its_lease_ran_out(
    uow: SqlUnitOfWork, kit: RoutingKit, smtp: Inbox
) -> None:
    case_id = opened(uow, kit, message(WHERE_IS_1043))
    send_reply(uow, kit, Reply(case_id=case_id, text=PROMISE, author="Marcus Lee", at=at(24, 10, 30)))
    with uow() as cases:  # a sender took it at 10:31 and was killed
        (queued,) = cases.pending_mails()
        cases.claim_mail(queued.id, at(24, 10, 31))
    sender = sender_for(smtp, kit)

    runs = [send_pending(uow, sender, now=at(24, 10, minute)) for minute in (40, 47)]

    assert runs == [SendSummary(), SendSummary(sent=1)]
    (row,) = outbox(uow)
    assert (row["status"], row["attempts"], row["sent_at"]) == ("sent", 2, at(24, 10, 47))


class _SlowServer:
    """The first mail takes twenty minutes to hand over; while the second is handed over,
    another sender starts a run of its own."""

    def __init__(self, uow: Any, inner: SmtpSender, clock: list[datetime]) -> None:
        self.uow, self.inner, self.clock = uow, inner, clock
        self.sent = 0
        self.other_runs: list[SendSummary] = []

    def send(self, mail: Any, *, at: datetime) -> None:
        self.sent += 1
        if self.sent == 1:
            self.clock[0] += timedelta(minutes=20)
        else:
            self.other_runs.append(
                send_pending(self.uow, self.inner, now=self.clock[0] + timedelta(minutes=1))
            )
        self.inner.send(mail, at=at)


def test_a_claim_is_dated_when_made_so_a_long_run_is_not_taken_for_a_stopped_one(
    uow: Any, kit: RoutingKit, smtp: Inbox
) -> None:
    case_id = opened(uow, kit, message(WHERE_IS_1043))
    for minute in (30, 32):
        send_reply(uow, kit, Reply(case_id=case_id, text=PROMISE, author="Marcus Lee", at=at(24, 10, minute)))
    clock = [at(24, 10, 33)]
    slow = _SlowServer(uow, sender_for(smtp, kit), clock)

    outer = send_pending(uow, slow, now=clock[0], rules=SendRules(clock=lambda: clock[0]))

    # the second mail was claimed at 10:53, not at the run's start (10:33, older than the
    # lease at 10:54): the other run left it alone
    assert (outer, slow.other_runs) == (SendSummary(sent=2), [SendSummary()])
    assert len(smtp.received) == 2

"""The outbox through the case repository, on SQLite and PostgreSQL: queued once per
Message-ID, pending oldest first, attempts counted, acknowledgements looked up by address."""

from __future__ import annotations

import pytest

from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.domain.outgoing import MailKind, MailStatus, OutgoingMail
from aftersales.services.intake import Incoming, take_in
from aftersales.services.routing import RoutingKit

from .test_outbox import WHERE_IS_1043, at, message


def _mail(
    case_id: int, message_id: str, kind: MailKind = MailKind.ACKNOWLEDGEMENT, to: str = "Ana@Example.com"
) -> OutgoingMail:
    return OutgoingMail(
        case_id=case_id,
        kind=kind,
        message_id=message_id,
        to_address=to,
        subject="Re: Order #1043 [case 1]",
        body="Thank you.",
        in_reply_to="m1@cust.example",
        references=("m0@cust.example", "m1@cust.example"),
    )


@pytest.fixture
def case_id(uow: SqlUnitOfWork, kit: RoutingKit) -> int:
    result = take_in(uow, kit, Incoming(message(WHERE_IS_1043), "test"), now=at(24, 10))
    assert result.case_id is not None
    return result.case_id


def test_a_mail_is_queued_once_per_message_id_and_read_back_whole(uow: SqlUnitOfWork, case_id: int) -> None:
    with uow() as cases:
        first = cases.queue_mail(_mail(case_id, "a@northwind.example"), at(24, 10))
        again = cases.queue_mail(_mail(case_id, "a@northwind.example"), at(24, 11))
        cases.queue_mail(_mail(case_id, "b@northwind.example", MailKind.REPLY), at(24, 12))

    with uow() as cases:
        pending = cases.pending_mails()

    assert (first, again) == (True, False)
    assert [(q.mail.message_id, q.status, q.attempts, q.queued_at) for q in pending] == [
        ("a@northwind.example", MailStatus.PENDING, 0, at(24, 10)),
        ("b@northwind.example", MailStatus.PENDING, 0, at(24, 12)),
    ]
    assert pending[0].mail == _mail(case_id, "a@northwind.example", to="ana@example.com")


def test_attempts_are_counted_and_only_a_pending_mail_is_claimed(uow: SqlUnitOfWork, case_id: int) -> None:
    with uow() as cases:
        for name in ("sent", "retry", "failed"):
            cases.queue_mail(_mail(case_id, f"{name}@northwind.example"), at(24, 10))
        sent, retry, failed = (q.id for q in cases.pending_mails())
        cases.mark_mail_failed(retry, "x" * 5000, final=False)
        cases.mark_mail_failed(failed, "refused", final=True)
        cases.mark_mail_sent(sent, at(24, 10, 5))

    with uow() as cases:
        pending = cases.pending_mails()
        claims = [cases.claim_mail(mail_id, at(24, 11)) for mail_id in (sent, retry, failed, retry)]
        after = cases.pending_mails()

    assert [(q.id, q.attempts, len(q.last_error)) for q in pending] == [(retry, 1, 1000)]
    assert [(c.id, c.status, c.sent_at) if c else None for c in claims] == [
        None,
        (retry, MailStatus.SENDING, at(24, 11)),
        None,
        None,  # taken a moment ago: a second sender skips it
    ]
    assert after == []


def test_a_mail_whose_sender_stopped_is_pending_again_after_the_lease(
    uow: SqlUnitOfWork, case_id: int
) -> None:
    with uow() as cases:
        cases.queue_mail(_mail(case_id, "a@northwind.example"), at(24, 10))
        cases.queue_mail(_mail(case_id, "b@northwind.example"), at(24, 10))
        first, second = (q.id for q in cases.pending_mails())
        cases.claim_mail(first, at(24, 10, 1))
        cases.claim_mail(second, at(24, 10, 20))

    with uow() as cases:
        released = cases.release_stale_mails(at(24, 10, 16), "the sender stopped")
        pending = cases.pending_mails()

    assert released == 1
    assert [(q.id, q.status, q.attempts, q.last_error, q.sent_at) for q in pending] == [
        (first, MailStatus.PENDING, 1, "the sender stopped", None)
    ]


def test_acknowledgements_are_found_by_address_and_time(uow: SqlUnitOfWork, case_id: int) -> None:
    with uow() as cases:
        cases.queue_mail(_mail(case_id, "ack@northwind.example"), at(24, 10))
        cases.queue_mail(_mail(case_id, "reply@northwind.example", MailKind.REPLY), at(24, 12))

    with uow() as cases:
        found = [
            cases.acknowledgements_since("ANA@example.com", at(23, 10)),
            cases.acknowledgements_since("ana@example.com", at(24, 10)),
            cases.acknowledgements_since("ana@example.com", at(24, 10, 1)),
            cases.acknowledgements_since("bo@example.com", at(23, 10)),
        ]

    assert found == [["ack@northwind.example"], ["ack@northwind.example"], [], []]

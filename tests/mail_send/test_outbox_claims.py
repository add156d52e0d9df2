"""The outbox's claims, on SQLite and PostgreSQL: one sender takes a mail, under its name;
a claim whose sender stopped is released once its lease ran out, and only then."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

from aftersales.adapters.db import schema
from aftersales.domain.outgoing import MailKind, OutgoingMail
from aftersales.services.intake import Incoming, take_in
from aftersales.services.routing import RoutingKit

from .test_outbox import WHERE_IS_1043, at, message


@pytest.fixture
def mail_id(uow: Any, kit: RoutingKit) -> int:
    result = take_in(uow, kit, Incoming(message(WHERE_IS_1043), "test"), now=at(24, 10))
    assert result.case_id is not None
    mail = OutgoingMail(
        case_id=result.case_id,
        kind=MailKind.REPLY,
        message_id="r1@northwind.example",
        to_address="ana@example.com",
        subject="Re: Order #1043",
        body="On its way.",
    )
    with uow() as cases:
        cases.queue_mail(mail, at(24, 10))
        return int(cases.pending_mails()[0].id)


def _row(uow: Any) -> dict[str, Any]:
    with uow() as cases:
        return dict(cases.db.execute(schema.outbox.select()).mappings().one())


def test_of_senders_claiming_at_once_one_takes_the_mail(uow: Any, mail_id: int) -> None:
    won: list[str] = []

    def claim(by: str) -> None:
        with uow() as cases:
            if cases.claim_mail(mail_id, at(24, 11), by) is not None:
                won.append(by)

    threads = [threading.Thread(target=claim, args=(f"worker:{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1
    row = _row(uow)
    assert (row["status"], row["claimed_by"]) == ("sending", won[0])


def test_a_claim_is_released_once_its_lease_ran_out(uow: Any, mail_id: int) -> None:
    with uow() as cases:
        cases.claim_mail(mail_id, at(24, 11), "worker:1")
        assert cases.release_stale_mails(at(24, 11) - timedelta(minutes=1), "stopped") == 0
    assert _row(uow)["claimed_by"] == "worker:1"
    with uow() as cases:
        assert cases.release_stale_mails(at(24, 11) + timedelta(minutes=1), "stopped") == 1
    row = _row(uow)
    assert (row["status"], row["claimed_by"], row["attempts"]) == ("pending", "", 1)

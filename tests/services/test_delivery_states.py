"""Mail honesty: each reply in a case's record says what became of its mail, from the outbox.

Given Ana's case and Marcus's reply on Tuesday 24 November 2026, 10:30 New York, when the
outbox is sent by a mail server that takes the mail, fails once, or fails for good, then the
reply's ``delivery`` says queued, sent (when) or failed (why). Runs on SQLite, and on
PostgreSQL when configured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest

from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.domain.messages import Channel
from aftersales.domain.outgoing import MailNotSent, OutgoingMail
from aftersales.services.desk import case_record
from aftersales.services.intake import Incoming, take_in
from aftersales.services.outbox import SendRules, send_pending
from aftersales.services.replies import Reply, send_reply
from aftersales.services.routing import RoutingKit
from support.messages import at, case_of, message

PROMISE = "We're checking with the carrier; I'll update you by tomorrow 3 pm."
REFUSED = "550 5.1.1 mailbox unavailable"


@dataclass
class MailServer:
    """Stands in for the SMTP server (a process boundary): takes mail, or refuses it."""

    refuse: str = ""
    taken: list[OutgoingMail] = field(default_factory=list)

    def send(self, mail: OutgoingMail, *, at: datetime) -> None:
        if self.refuse:
            raise MailNotSent(self.refuse)
        self.taken.append(mail)


def _replied(uow: SqlUnitOfWork, kit: RoutingKit, **fields: Any) -> int:
    mail = message("Where is my order #1043? Tracking hasn't moved in 5 days.", **fields)
    case_id = case_of(take_in(uow, kit, Incoming(mail, "test"), now=mail.sent_at))
    send_reply(uow, kit, Reply(case_id=case_id, text=PROMISE, author="Marcus Lee", at=at(24, 10, 30)))
    return case_id


def _deliveries(uow: SqlUnitOfWork, case_id: int) -> list[dict[str, Any] | None]:
    return [m["delivery"] for m in case_record(uow, case_id)["messages"]]


@pytest.mark.parametrize(
    ("refuse", "max_attempts", "delivery"),
    [
        pytest.param(
            None, 5, {"state": "queued", "at": at(24, 10, 30).isoformat(), "error": ""}, id="not sent yet"
        ),
        pytest.param("", 5, {"state": "sent", "at": at(24, 11).isoformat(), "error": ""}, id="sent"),
        pytest.param(
            REFUSED,
            5,
            {"state": "queued", "at": at(24, 10, 30).isoformat(), "error": REFUSED},
            id="failed once",
        ),
        pytest.param(
            REFUSED,
            1,
            {"state": "failed", "at": at(24, 10, 30).isoformat(), "error": REFUSED},
            id="failed for good",
        ),
    ],
)
def test_a_reply_shows_what_became_of_its_mail(
    uow: SqlUnitOfWork, kit: RoutingKit, refuse: str | None, max_attempts: int, delivery: dict[str, Any]
) -> None:
    case_id = _replied(uow, kit)
    if refuse is not None:
        send_pending(uow, MailServer(refuse), now=at(24, 11), rules=SendRules(max_attempts=max_attempts))

    found = _deliveries(uow, case_id)

    assert [(d["state"], datetime.fromisoformat(d["at"]), d["error"]) if d else None for d in found] == [
        None,  # the customer's message
        (delivery["state"], datetime.fromisoformat(delivery["at"]), delivery["error"]),
    ]


def test_a_reply_to_a_customer_without_an_e_mail_address_is_not_mailed(
    uow: SqlUnitOfWork, kit: RoutingKit
) -> None:
    case_id = _replied(uow, kit, sender="", channel=Channel.CHAT, from_name="Ana")

    assert _deliveries(uow, case_id)[-1] == {
        "state": "not_mailed",
        "at": None,
        "error": "no mail was queued for this reply (no e-mail address)",
    }

"""Notification mail through a real SMTP server on loopback: a desk user's immediate notice
and their daily digest reach the desk user's address (never the customer's), link to the case,
and are marked automatic so out-of-office replies stay quiet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.adapters.db.users import users_unit_of_work
from aftersales.adapters.links import SignedLinks
from aftersales.adapters.mail.smtp import SmtpSender
from aftersales.domain.accounts import Role
from aftersales.domain.cases import CaseStatus, Event
from aftersales.domain.notifications import Timing, Topic
from aftersales.services.notifications import choose, notify, send_digests
from aftersales.services.outbox import SendSummary, send_pending
from aftersales.services.routing import RoutingKit

from .conftest import Inbox

AT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
LINKS = SignedLinks("secret", "https://desk.northwind.example")


def test_a_notice_and_a_digest_reach_the_desk_user_marked_automatic(
    engine: Engine, uow: SqlUnitOfWork, kit: RoutingKit, smtp: Inbox
) -> None:
    with users_unit_of_work(engine)() as users:
        marcus = users.add_user("marcus@northwind.example", "Marcus Lee", Role.OPERATIONS, "x", AT)
    choose(uow, marcus, {Topic.BREACH: Timing.IMMEDIATE, Topic.BAD_RATING: Timing.DIGEST})
    notify(uow, kit, LINKS)
    with uow() as cases:
        fields = {
            "customer_id": cases.customer_id("ana@example.com", "", AT),
            "subject": "Where is my order?",
            "route": "shipping_delay",
            "status": CaseStatus.OPEN.value,
            "lead_role": "operations",
            "lead_name": "Marcus Lee",
            "opened_at": AT,
            "updated_at": AT,
        }
        case_id = cases.open_case(fields)
        cases.add_event(case_id, Event("clock_breached", AT, "system", {"name": "first_response"}))
        cases.add_event(case_id, Event("rated", AT, "customer", {"rating": "bad", "comment": "slow"}))
    notify(uow, kit, LINKS)
    send_digests(uow, kit, LINKS, now=AT + timedelta(days=1))
    policy = kit.policy
    sender = SmtpSender(
        smtp.server(), from_address=policy.support_email, from_name=policy.store_name, timeout=5
    )

    assert send_pending(uow, sender, now=AT + timedelta(days=1)) == SendSummary(sent=2)
    (_, notice_to, notice), (_, digest_to, digest) = smtp.received
    assert notice_to == digest_to == ["marcus@northwind.example"]
    assert notice["Subject"] == f"[aftersales] Case #{case_id} first response breached: Where is my order?"
    assert digest["Subject"] == "[aftersales] your digest for 2026-11-24: 1 event"
    for sent in (notice, digest):
        assert (sent["Auto-Submitted"], sent["X-Auto-Response-Suppress"]) == ("auto-generated", "All")
        assert f"https://desk.northwind.example/cases/{case_id}" in sent.get_content()

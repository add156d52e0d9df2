"""Who is told of which event (domain/notifications.py), as a table: only users who chose the
topic, and of a breach or a bad rating only the case's lead, its assignee (and, for a bad
rating, the admins)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from aftersales.domain.accounts import Role
from aftersales.domain.event_feed import FeedEvent
from aftersales.domain.notifications import (
    DigestLine,
    NoticeCase,
    Subscriber,
    Timing,
    Topic,
    digest_day,
    digest_text,
    notices,
    topic_of,
)
from aftersales.domain.policy import Lead

AT = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
LEADS = {"operations": Lead("operations", "Marcus Lee", "marcus@northwind.example")}
CASE = NoticeCase(
    case_id=7,
    subject="Dented",
    route="damaged_item",
    lead_role="operations",
    lead_name="Marcus Lee",
    assignee_user_id=2,
)
ALL = dict.fromkeys(Topic, Timing.IMMEDIATE)
MARCUS = Subscriber(
    user_id=1, email="Marcus@northwind.example", name="Marcus Lee", role=Role.OPERATIONS, choices=ALL
)
SAM = Subscriber(user_id=2, email="sam@northwind.example", name="Sam", role=Role.FRONTLINE, choices=ALL)
BEA = Subscriber(user_id=3, email="bea@northwind.example", name="Bea", role=Role.FRONTLINE, choices=ALL)
ADA = Subscriber(user_id=4, email="ada@northwind.example", name="Ada", role=Role.ADMIN, choices=ALL)
PRIYA = Subscriber(  # named the case's lead by a person: she leads it by name
    user_id=5, email="priya@northwind.example", name="Priya Shah", role=Role.FRONTLINE, choices=ALL
)
USERS = [MARCUS, SAM, BEA, ADA, PRIYA]


def _event(kind: str, **data: object) -> FeedEvent:
    return FeedEvent(id=99, case_id=7, kind=kind, at=AT, actor="system", data=data)


@pytest.mark.parametrize(
    ("event", "case", "told"),
    [
        (_event("clock_breached", name="first_response"), CASE, [1, 2]),
        (_event("rated", rating="bad", comment="slow"), CASE, [1, 2, 4]),
        (_event("rated", rating="good", comment=""), CASE, []),
        (_event("routed", route="chargeback_risk"), CASE, [1, 2, 3, 4, 5]),
        (_event("rerouted", route="chargeback_risk", **{"from": "shipping_delay"}), CASE, [1, 2, 3, 4, 5]),
        (_event("routed", route="chargeback_risk", **{"from": "chargeback_risk"}), CASE, []),  # not new
        (_event("routed", route="shipping_delay"), CASE, []),
        (_event("note_added", text="x"), CASE, []),
        # a person made Priya the lead: Marcus (the policy's person) no longer leads it
        (
            _event("clock_breached", name="resolution"),
            dataclasses.replace(CASE, lead_name="Priya Shah"),
            [2, 5],
        ),
    ],
)
def test_who_is_told(event: FeedEvent, case: NoticeCase, told: list[int]) -> None:
    assert [n.user_id for n in notices(event, case, USERS, LEADS)] == told


def test_nobody_is_told_of_a_topic_they_did_not_choose_and_each_gets_their_timing() -> None:
    quiet = Subscriber(user_id=1, email="m@x.example", name="Marcus Lee", role=Role.ADMIN, choices={})
    digest = Subscriber(
        user_id=2, email="s@x.example", name="Sam", role=Role.FRONTLINE, choices={Topic.BREACH: Timing.DIGEST}
    )
    told = notices(_event("clock_breached", name="first_response"), CASE, [quiet, digest], LEADS)
    assert [(n.user_id, n.delivery, n.summary) for n in told] == [
        (2, Timing.DIGEST, "Case #7 first response breached: Dented")
    ]
    assert topic_of(_event("status_changed")) is None


def test_the_digest_day_is_the_stores_and_the_text_groups_by_topic() -> None:
    zone = ZoneInfo("America/New_York")
    late = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # still the 24th in New York
    assert digest_day(late, zone).isoformat() == "2026-11-24"
    lines = [
        DigestLine(case_id=7, topic=Topic.BAD_RATING, at=AT, summary="Case #7 rated bad: Dented"),
        DigestLine(case_id=8, topic=Topic.BREACH, at=AT + timedelta(hours=1), summary="Case #8 breached"),
        DigestLine(case_id=7, topic=Topic.BREACH, at=AT, summary="Case #7 breached"),
    ]
    text = digest_text(digest_day(AT, zone), lines, {7: "https://d/cases/7", 8: "https://d/cases/8"})
    assert text.splitlines()[2:9] == [
        "A breach on a case I lead or am assigned (2):",
        "- Case #7 breached",
        "  https://d/cases/7",
        "- Case #8 breached",
        "  https://d/cases/8",
        "",
        "A bad rating on a case I lead or am assigned (admins: any case) (1):",
    ]

"""Notifications on SQLite and PostgreSQL: a desk user's choices decide which events of the
feed reach them, at once (one outbox mail each) or in the daily digest (one mail per day);
the right users only, and once even when the job runs twice.

The desk: Marcus leads operations in the policy, Sam is assigned the case, Bea is a bystander
who chose every topic, Ada is an admin, Del chose nothing.

| event on the case (operations, assigned to Sam)    | Marcus (lead) | Sam (assignee) | Bea    | Ada (admin) | Del |
| -------------------------------------------------- | ------------- | -------------- | ------ | ----------- | --- |
| first response breached                            | at once       | digest         | -      | -           | -   |
| another case routed to chargeback risk             | -             | -              | at once| digest      | -   |
| rated bad                                          | at once       | digest         | -      | at once     | -   |
| rated good, a note, a status change                | -             | -              | -      | -           | -   |
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

from aftersales.adapters.db import schema
from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.adapters.db.users import users_unit_of_work
from aftersales.adapters.links import SignedLinks
from aftersales.domain.accounts import Role
from aftersales.domain.cases import CaseStatus, Event
from aftersales.domain.notifications import Timing, Topic
from aftersales.domain.routes import Route
from aftersales.services.notifications import choose, notify, send_digests
from aftersales.services.routing import RoutingKit

AT = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # a Tuesday; the feed only reads settled events
LINKS = SignedLinks("secret", "https://desk.northwind.example")
NOW, D = Timing.IMMEDIATE, Timing.DIGEST
EVERY = {Topic.CHARGEBACK_RISK: NOW, Topic.BREACH: NOW, Topic.BAD_RATING: NOW}


def _people(engine: Engine, uow: SqlUnitOfWork) -> dict[str, int]:
    people = {
        "marcus": ("marcus@northwind.example", "Marcus Lee", Role.OPERATIONS),
        "sam": ("sam@northwind.example", "Sam Reyes", Role.FRONTLINE),
        "bea": ("bea@northwind.example", "Bea Holm", Role.FRONTLINE),
        "ada": ("ada@northwind.example", "Ada Admin", Role.ADMIN),
        "del": ("del@northwind.example", "Del Quiet", Role.OPERATIONS),
    }
    with users_unit_of_work(engine)() as users:
        ids = {key: users.add_user(email, name, role, "x", AT) for key, (email, name, role) in people.items()}
    choose(uow, ids["marcus"], {Topic.BREACH: NOW, Topic.BAD_RATING: NOW})
    choose(uow, ids["sam"], {Topic.BREACH: D, Topic.BAD_RATING: D})
    choose(uow, ids["bea"], EVERY)
    choose(uow, ids["ada"], {Topic.CHARGEBACK_RISK: D, Topic.BAD_RATING: NOW})
    return ids


def _case(uow: SqlUnitOfWork, email: str, route: Route, assignee: int | None) -> int:
    with uow() as cases:
        return cases.open_case(
            {
                "customer_id": cases.customer_id(email, "", AT),
                "subject": f"Order trouble ({email})",
                "route": route.value,
                "status": CaseStatus.OPEN.value,
                "lead_role": "operations",
                "lead_name": "Marcus Lee",
                "assignee_user_id": assignee,
                "opened_at": AT,
                "updated_at": AT,
            }
        )


def _outbox(uow: SqlUnitOfWork) -> list[tuple[str, str, str]]:
    with uow() as cases:
        rows = cases.db.execute(
            select(schema.outbox.c.to_address, schema.outbox.c.kind, schema.outbox.c.subject).order_by(
                schema.outbox.c.id
            )
        )
        return [(r.to_address.split("@")[0], r.kind, r.subject) for r in rows]


def _events(uow: SqlUnitOfWork, case_id: int, chargeback_case: int, at: datetime) -> None:
    with uow() as cases:
        cases.add_event(case_id, Event("clock_breached", at, "system", {"name": "first_response"}))
        cases.add_event(case_id, Event("note_added", at, "Sam", {"text": "called the carrier"}))
        routed = {"route": Route.CHARGEBACK_RISK.value}
        cases.add_event(chargeback_case, Event("routed", at, "router", routed))
        cases.add_event(case_id, Event("rated", at, "customer", {"rating": "good", "comment": ""}))
        cases.add_event(case_id, Event("rated", at, "customer", {"rating": "bad", "comment": "slow"}))
        cases.add_event(case_id, Event("status_changed", at, "Sam", {"from": "open", "to": "resolved"}))


def test_each_user_hears_of_what_they_chose_once(engine: Engine, uow: SqlUnitOfWork, kit: RoutingKit) -> None:
    ids = _people(engine, uow)
    assert notify(uow, kit, LINKS).events == 0  # the consumer starts here: the past is not told
    case_id = _case(uow, "ana@example.com", Route.SHIPPING_DELAY, ids["sam"])
    chargeback = _case(uow, "bo@example.com", Route.CHARGEBACK_RISK, None)
    _events(uow, case_id, chargeback, AT)

    first = notify(uow, kit, LINKS)
    again = notify(uow, kit, LINKS)  # a second run (another worker) finds nothing new

    assert (first.events, first.mailed, first.kept) == (6, 4, 3)
    assert (again.events, again.mailed, again.kept) == (0, 0, 0)
    assert _outbox(uow) == [
        (
            "marcus",
            "notification",
            f"[aftersales] Case #{case_id} first response breached: Order trouble (ana@example.com)",
        ),
        (
            "bea",
            "notification",
            f"[aftersales] Case #{chargeback} new chargeback-risk case: Order trouble (bo@example.com)",
        ),
        (
            "marcus",
            "notification",
            f"[aftersales] Case #{case_id} rated bad (slow): Order trouble (ana@example.com)",
        ),
        (
            "ada",
            "notification",
            f"[aftersales] Case #{case_id} rated bad (slow): Order trouble (ana@example.com)",
        ),
    ]
    with uow() as cases:
        body = cases.db.execute(select(schema.outbox.c.body)).scalars().first()
    assert f"https://desk.northwind.example/cases/{case_id}" in (body or "")


def test_the_digest_groups_each_days_events_per_user_once(
    engine: Engine, uow: SqlUnitOfWork, kit: RoutingKit
) -> None:
    ids = _people(engine, uow)
    notify(uow, kit, LINKS)
    case_id = _case(uow, "ana@example.com", Route.SHIPPING_DELAY, ids["sam"])
    chargeback = _case(uow, "bo@example.com", Route.CHARGEBACK_RISK, None)
    _events(uow, case_id, chargeback, AT)
    _events(uow, case_id, chargeback, AT + timedelta(days=1))
    notify(uow, kit, LINKS)
    before = len(_outbox(uow))

    same_day = send_digests(uow, kit, LINKS, now=AT + timedelta(days=1, hours=3))  # only the 24th is over
    next_day = send_digests(uow, kit, LINKS, now=AT + timedelta(days=2, hours=3))
    again = send_digests(uow, kit, LINKS, now=AT + timedelta(days=2, hours=4))

    digests = _outbox(uow)[before:]
    assert (same_day.digests, same_day.items, next_day.digests, again.digests) == (2, 3, 2, 0)
    assert digests == [
        ("sam", "digest", "[aftersales] your digest for 2026-11-24: 2 events"),
        ("ada", "digest", "[aftersales] your digest for 2026-11-24: 1 event"),
        ("sam", "digest", "[aftersales] your digest for 2026-11-25: 2 events"),
        ("ada", "digest", "[aftersales] your digest for 2026-11-25: 1 event"),
    ]
    with uow() as cases:
        first = cases.db.execute(
            select(schema.outbox.c.body, schema.outbox.c.case_id).where(schema.outbox.c.kind == "digest")
        ).first()
    assert first is not None
    assert first.case_id is None
    assert "A breach on a case I lead or am assigned (1):" in first.body
    assert "A bad rating on a case I lead or am assigned (admins: any case) (1):" in first.body
    assert f"https://desk.northwind.example/cases/{case_id}" in first.body


def test_a_disabled_user_and_a_user_who_chose_nothing_hear_nothing(
    engine: Engine, uow: SqlUnitOfWork, kit: RoutingKit
) -> None:
    ids = _people(engine, uow)
    with users_unit_of_work(engine)() as users:
        users.set_active(ids["marcus"], active=False)
    choose(uow, ids["bea"], {})
    notify(uow, kit, LINKS)
    case_id = _case(uow, "ana@example.com", Route.SHIPPING_DELAY, ids["sam"])
    chargeback = _case(uow, "bo@example.com", Route.CHARGEBACK_RISK, None)
    _events(uow, case_id, chargeback, AT)

    notify(uow, kit, LINKS)

    assert [who for who, _kind, _subject in _outbox(uow)] == ["ada"]


def test_two_workers_running_the_job_at_once_mail_each_notice_once(
    engine: Engine, uow: SqlUnitOfWork, kit: RoutingKit
) -> None:
    ids = _people(engine, uow)
    notify(uow, kit, LINKS)
    case_id = _case(uow, "ana@example.com", Route.SHIPPING_DELAY, ids["sam"])
    chargeback = _case(uow, "bo@example.com", Route.CHARGEBACK_RISK, None)
    _events(uow, case_id, chargeback, AT)
    start = threading.Barrier(4)

    def worker() -> int:
        start.wait()
        return notify(uow, kit, LINKS, limit=2).mailed + notify(uow, kit, LINKS, limit=2).mailed

    with ThreadPoolExecutor(max_workers=4) as pool:
        mailed = sum(pool.map(lambda _: worker(), range(4)))
    mailed += notify(uow, kit, LINKS).mailed  # whatever the small batches left

    assert mailed == 4
    assert len(_outbox(uow)) == 4

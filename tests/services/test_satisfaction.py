"""The satisfaction survey's use cases on SQLite and PostgreSQL: which replies carry a rating
link, a rating recorded once, and what a refused link writes (nothing).

| the reply                                   | the policy's survey | public address | rating link |
| ------------------------------------------- | ------------------- | -------------- | ----------- |
| resolves the case                           | on                  | known          | yes         |
| resolves the case                           | off                 | known          | no          |
| resolves the case                           | on                  | unknown        | no          |
| does not resolve it                         | on                  | known          | no          |
"""

from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from aftersales.adapters.db import schema
from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.adapters.links import SignedLinks
from aftersales.domain.cases import CaseStatus, InvalidTransition
from aftersales.domain.policy import SurveyPolicy
from aftersales.domain.satisfaction import (
    LinkRefused,
    LinkState,
    Rating,
    RatingLink,
    link_expiry,
)
from aftersales.services.desk import change_status
from aftersales.services.intake import Incoming, take_in
from aftersales.services.replies import Reply, send_reply
from aftersales.services.routing import RoutingKit
from aftersales.services.satisfaction import clear_flag, rate, rating_flags, usable_link
from support.messages import at, case_of, case_row, events, message

DONE = "Your replacement was delivered this morning; thank you for your patience."
KNOWN = SignedLinks("secret", "https://desk.northwind.example")
UNKNOWN = SignedLinks("secret", "")
# hypothesis takes naive bounds and adds the zone itself
_EARLIEST, _LATEST = datetime(2000, 1, 1), datetime(2090, 1, 1)  # noqa: DTZ001
_EARLIEST, _LATEST = datetime(2000, 1, 1), datetime(2090, 1, 1)  # noqa: DTZ001  (hypothesis: naive bounds)


@pytest.fixture
def case_id(uow: SqlUnitOfWork, kit: RoutingKit) -> int:
    return case_of(take_in(uow, kit, Incoming(message("Where is my order #1043?"), "test"), now=at(24, 10)))


def _mail_bodies(uow: SqlUnitOfWork) -> list[str]:
    with uow() as cases:
        return list(
            cases.db.execute(select(schema.outbox.c.body).where(schema.outbox.c.kind == "reply")).scalars()
        )


def _tokens(uow: SqlUnitOfWork) -> list[str]:
    with uow() as cases:
        return list(cases.db.execute(select(schema.case_ratings.c.token)).scalars())


@pytest.mark.parametrize(
    ("resolve", "survey", "links", "linked"),
    [
        (True, True, KNOWN, True),
        (True, False, KNOWN, False),
        (True, True, UNKNOWN, False),
        (False, True, KNOWN, False),
    ],
)
def test_which_replies_carry_a_rating_link(  # noqa: PLR0913  (the table's columns)
    uow: SqlUnitOfWork,
    kit: RoutingKit,
    case_id: int,
    resolve: bool,
    survey: bool,
    links: SignedLinks,
    linked: bool,
) -> None:
    policy = dataclasses.replace(kit.policy, satisfaction=SurveyPolicy(survey=survey))
    text = DONE if resolve else DONE + " I'll update you by tomorrow 3 pm."
    reply = Reply(case_id=case_id, text=text, author="Sam", at=at(24, 11), resolve=resolve)
    send_reply(uow, dataclasses.replace(kit, policy=policy), reply, links=links)

    (body,) = _mail_bodies(uow)
    assert ("https://desk.northwind.example/rate/" in body) is linked
    assert len(_tokens(uow)) == int(linked)
    assert case_row(uow, case_id).status is (CaseStatus.RESOLVED if resolve else CaseStatus.OPEN)


def test_a_rating_is_recorded_once_and_a_refused_link_writes_nothing(
    uow: SqlUnitOfWork, kit: RoutingKit, case_id: int
) -> None:
    send_reply(
        uow, kit, Reply(case_id=case_id, text=DONE, author="Sam", at=at(24, 11), resolve=True), links=KNOWN
    )
    (token,) = _tokens(uow)
    now = at(25, 9)

    assert usable_link(uow, token, now=now).case_id == case_id
    assert rate(uow, token, Rating.BAD, "late", now=now) == case_id
    with pytest.raises(LinkRefused) as used:
        rate(uow, token, Rating.GOOD, "", now=now)
    with pytest.raises(LinkRefused) as unknown:
        rate(uow, "nobody-got-this", Rating.GOOD, "", now=now)

    assert (used.value.state, unknown.value.state) == (LinkState.USED, None)
    rated = [e for e in events(uow, case_id) if e[0] == "rated"]
    assert rated == [("rated", "customer", {"rating": "bad", "comment": "late"})]
    assert case_row(uow, case_id).status is CaseStatus.RESOLVED  # a bad rating reopens nothing
    assert rating_flags(uow, [case_id]) == {case_id: "late"}
    assert clear_flag(uow, case_id, by="Marcus Lee", at=now) == 1
    assert clear_flag(uow, case_id, by="Marcus Lee", at=now) == 0
    assert rating_flags(uow, [case_id]) == {}


def test_an_expired_link_is_refused(uow: SqlUnitOfWork, kit: RoutingKit, case_id: int) -> None:
    send_reply(
        uow, kit, Reply(case_id=case_id, text=DONE, author="Sam", at=at(24, 11), resolve=True), links=KNOWN
    )
    (token,) = _tokens(uow)
    late = at(24, 11) + timedelta(days=kit.policy.satisfaction.link_days)

    with pytest.raises(LinkRefused) as expired:
        rate(uow, token, Rating.GOOD, "", now=late)

    assert expired.value.state is LinkState.EXPIRED
    assert [e for e in events(uow, case_id) if e[0] == "rated"] == []


def test_a_case_that_may_not_move_to_resolved_refuses_a_resolving_reply(
    uow: SqlUnitOfWork, kit: RoutingKit, case_id: int
) -> None:
    change_status(uow, kit, case_id, CaseStatus.CLOSED, by="Sam", at=at(24, 11))
    with pytest.raises(InvalidTransition):
        send_reply(
            uow,
            kit,
            Reply(case_id=case_id, text=DONE, author="Sam", at=at(24, 12), resolve=True),
            links=KNOWN,
        )
    assert _mail_bodies(uow) == []
    assert _tokens(uow) == []


@given(
    issued=st.datetimes(min_value=_EARLIEST, max_value=_LATEST, timezones=st.just(UTC)),
    days=st.integers(min_value=1, max_value=365),
    later=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)),
)
def test_a_link_is_usable_exactly_until_it_expires(issued: datetime, days: int, later: timedelta) -> None:
    expires = link_expiry(issued, SurveyPolicy(link_days=days))
    link = RatingLink(case_id=1, token="t", issued_at=issued, expires_at=expires)
    expected = LinkState.USABLE if later < timedelta(days=days) else LinkState.EXPIRED
    assert link.state(issued + later) is expected


def test_a_signed_link_names_its_token_and_an_altered_one_nothing() -> None:
    signed = KNOWN.sign("abc")
    assert KNOWN.token_from(signed) == "abc"
    assert KNOWN.token_from(signed[:-1] + ("A" if signed[-1] != "A" else "B")) is None
    assert SignedLinks("another secret", "").token_from(signed) is None


def test_two_posts_of_one_link_at_once_record_one_rating(
    uow: SqlUnitOfWork, kit: RoutingKit, case_id: int
) -> None:
    reply = Reply(case_id=case_id, text=DONE, author="Sam", at=at(24, 11), resolve=True)
    send_reply(uow, kit, reply, links=KNOWN)
    (token,) = _tokens(uow)
    start = threading.Barrier(4)

    def post(rating: Rating) -> str:
        start.wait()
        try:
            rate(uow, token, rating, rating.value, now=at(25, 9))
        except LinkRefused as refused:
            return str(refused.state)
        return "recorded"

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = sorted(pool.map(post, [Rating.GOOD, Rating.BAD, Rating.GOOD, Rating.BAD]))

    assert outcomes == ["recorded", "used", "used", "used"]
    assert len([e for e in events(uow, case_id) if e[0] == "rated"]) == 1

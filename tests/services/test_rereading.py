"""Reading again by meaning the cases a file's intake routed by their words alone.

Given a desk that took a file in by words (the semantic reader left out for speed), when the
re-read runs, then each case the semantic reader would have read is read with it: a case it
moves is planned again and marked "check the route", one it keeps stays as it is (the
timeline records the reading), and a case a person already acted on is left as it is. The semantic reader here is a stand-in function
with fixed probabilities (the model's own tests are tests/adapters/test_semantic_reader.py);
the store is the real database. Runs on SQLite, and on PostgreSQL when configured.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

import pytest

from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.domain.cases import CaseStatus
from aftersales.domain.routes import Route
from aftersales.services.desk import change_status
from aftersales.services.intake import Incoming, take_in
from aftersales.services.replies import Reply, send_reply
from aftersales.services.rereading import READ_BY, NoSemanticReader, reread
from aftersales.services.rerouting import Reroute, confirm_route, reroute
from aftersales.services.routing import RoutingKit
from support.messages import at, case_of, case_row, events, message

# the words read a delay (an order number, "how long"), unsure: a question before buying
CANADA = "Hello, do you ship to Canada and roughly how long does it take to get there? Order #1043"
SURE = "Where is my order #1043? Tracking hasn't moved in 5 days."
FRENCH = "Bonjour, où est ma commande ? Je l'attends depuis deux semaines."


def reads(route: Route, share: float = 0.9) -> Mapping[Route, float]:
    rest = (1.0 - share) / (len(Route) - 1)
    return {r: share if r is route else rest for r in Route}


def words_only(kit: RoutingKit) -> RoutingKit:
    """The kit of `aftersales intake` without --semantic."""
    return replace(kit, semantic=None, meaning_later=True)


def reading(kit: RoutingKit, route: Route, share: float = 0.9) -> RoutingKit:
    return replace(kit, semantic=lambda _text: reads(route, share))


def take(uow: SqlUnitOfWork, kit: RoutingKit, text: str, sender: str = "ana@example.com") -> int:
    return case_of(take_in(uow, kit, Incoming(message(text, sender=sender), "t"), now=at(24, 10)))


MARKED = [
    pytest.param(CANADA, True, id="unsure English message: marked"),
    pytest.param(SURE, False, id="sure message: the words decided"),
    pytest.param(FRENCH, False, id="French: the semantic reader reads English only"),
]


@pytest.mark.parametrize(("text", "marked"), MARKED)
def test_intake_by_words_marks_what_the_semantic_reader_would_have_read(
    uow: SqlUnitOfWork, kit: RoutingKit, text: str, *, marked: bool
) -> None:
    case_id = take(uow, words_only(kit), text)
    assert case_row(uow, case_id).meaning_due is marked


def test_intake_with_the_semantic_reader_marks_nothing(uow: SqlUnitOfWork, kit: RoutingKit) -> None:
    case_id = take(uow, reading(kit, Route.PRE_PURCHASE), CANADA)
    row = case_row(uow, case_id)
    assert (row.route, row.meaning_due) == (Route.PRE_PURCHASE, False)


def test_a_case_the_semantic_reader_moves_is_planned_again_and_marked(
    uow: SqlUnitOfWork, kit: RoutingKit
) -> None:
    case_id = take(uow, words_only(kit), CANADA)
    assert case_row(uow, case_id).route is Route.SHIPPING_DELAY

    result = reread(uow, reading(kit, Route.PRE_PURCHASE), now=at(24, 10, 5))

    row = case_row(uow, case_id)
    assert (result.read, result.rerouted, result.left) == (1, 1, 0)
    assert (row.route, row.lead_role, row.meaning_due) == (Route.PRE_PURCHASE, "frontline", False)
    assert row.route_check.startswith("the router was unsure")  # a person should look
    kind, actor, data = events(uow, case_id)[-1]
    assert (kind, actor, data["from"], data["to"]) == ("rerouted", READ_BY, "shipping_delay", "pre_purchase")
    assert data["reason"].startswith("the semantic reader reads pre_purchase")
    with uow() as cases:
        assert cases.route_labels() == []  # a label is a person's word, not the reader's


def test_a_case_the_semantic_reader_keeps_stays_as_it_is(uow: SqlUnitOfWork, kit: RoutingKit) -> None:
    case_id = take(uow, words_only(kit), CANADA)
    before = case_row(uow, case_id)

    result = reread(uow, reading(kit, Route.SHIPPING_DELAY), now=at(24, 10, 5))

    row = case_row(uow, case_id)
    assert (result.read, result.rerouted) == (1, 0)
    assert (row.route, row.lead_role, row.meaning_due) == (Route.SHIPPING_DELAY, before.lead_role, False)
    kind, actor, data = events(uow, case_id)[-1]
    assert (kind, actor, data["kept"]) == ("route_read_again", READ_BY, True)
    assert "the semantic reader reads it the same way" in data["decided_by"]


BY = "Marcus Lee"
PERSON_FIRST = [
    pytest.param(
        lambda uow, kit, case_id: reroute(
            uow, kit, Reroute(case_id=case_id, route=Route.REVIEW, by=BY, at=at(24, 10, 1))
        ),
        Route.REVIEW,
        id="re-routed by a person",
    ),
    pytest.param(
        lambda uow, kit, case_id: confirm_route(uow, case_id, by=BY, at=at(24, 10, 1)),
        Route.SHIPPING_DELAY,
        id="its route confirmed by a person",
    ),
    pytest.param(
        lambda uow, kit, case_id: send_reply(
            uow,
            kit,
            Reply(
                case_id=case_id,
                text="We ship to Canada in 5 to 8 days; we will write again by Wednesday 12:00.",
                author=BY,
                at=at(24, 10, 1),
            ),
        ),
        Route.SHIPPING_DELAY,
        id="answered by a person",
    ),
    pytest.param(
        lambda uow, kit, case_id: change_status(
            uow, kit, case_id, CaseStatus.RESOLVED, by=BY, at=at(24, 10, 1)
        ),
        Route.SHIPPING_DELAY,
        id="resolved",
    ),
]


@pytest.mark.parametrize(("act", "route"), PERSON_FIRST)
def test_a_case_a_person_acted_on_is_left_as_it_is(
    uow: SqlUnitOfWork, kit: RoutingKit, act: object, route: Route
) -> None:
    case_id = take(uow, words_only(kit), CANADA)
    act(uow, kit, case_id)  # type: ignore[operator]

    reread(uow, reading(kit, Route.PRE_PURCHASE), now=at(24, 10, 5))

    row = case_row(uow, case_id)
    assert (row.route, row.meaning_due) == (route, False)
    assert READ_BY not in {actor for _, actor, _ in events(uow, case_id)}


def test_a_run_reads_the_oldest_first_up_to_its_limit(uow: SqlUnitOfWork, kit: RoutingKit) -> None:
    ids = [take(uow, words_only(kit), CANADA, sender=f"buyer{n}@example.com") for n in range(3)]

    first = reread(uow, reading(kit, Route.PRE_PURCHASE), now=at(24, 10, 5), limit=2)
    second = reread(uow, reading(kit, Route.PRE_PURCHASE), now=at(24, 10, 6), limit=2)

    assert (first.read, first.left, second.read, second.left) == (2, 1, 1, 0)
    assert [case_row(uow, case_id).route for case_id in ids] == [Route.PRE_PURCHASE] * 3


NO_READER = [
    pytest.param(None, id="no semantic reader installed"),
    pytest.param(lambda _text: {}, id="a semantic reader that cannot read"),
]


@pytest.mark.parametrize("semantic", NO_READER)
def test_without_a_reader_that_reads_the_marks_stay(
    uow: SqlUnitOfWork, kit: RoutingKit, semantic: Callable[[str], Mapping[Route, float]] | None
) -> None:
    case_id = take(uow, words_only(kit), CANADA)

    with pytest.raises(NoSemanticReader):
        reread(uow, replace(kit, semantic=semantic), now=at(24, 10, 5))

    row = case_row(uow, case_id)
    assert (row.route, row.meaning_due) == (Route.SHIPPING_DELAY, True)


def test_with_nothing_waiting_the_model_is_not_asked(uow: SqlUnitOfWork, kit: RoutingKit) -> None:
    take(uow, words_only(kit), SURE)
    asked: list[str] = []

    def semantic(text: str) -> Mapping[Route, float]:
        asked.append(text)
        return reads(Route.PRE_PURCHASE)

    result = reread(uow, replace(kit, semantic=semantic), now=at(24, 10, 5))

    assert (result.read, asked) == (0, [])

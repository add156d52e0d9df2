"""Automation holds from set to lifted: a wrong-item case holds its buyer and resolving it lifts
the hold; two held cases keep the buyer on hold until both are resolved; a reopened case holds
again; a low review holds its reviewer. Runs on SQLite, and on PostgreSQL when configured."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, update

from aftersales.adapters.db import schema
from aftersales.adapters.db.holds import holds_unit_of_work
from aftersales.adapters.db.product_reviews import reviews_unit_of_work
from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.domain.cases import CaseStatus
from aftersales.domain.product_reviews import ExportedReview, ReviewSource
from aftersales.services.desk import change_status
from aftersales.services.intake import Incoming, take_in
from aftersales.services.marketing_exports import held_buyers
from aftersales.services.product_reviews_import import ReviewDesk, import_reviews
from aftersales.services.routing import RoutingKit
from support.messages import at, case_of, holds, message

WRONG_ITEM = "I ordered the black tumbler but received a white one instead, wrong item. Order #1043."
DAMAGED = "The tumbler arrived dented, order #2001."
QUESTION = "Do you sell lids for the 20oz tumbler?"


def _open(
    uow: SqlUnitOfWork, kit: RoutingKit, text: str, *, sender: str = "ana@example.com", day: int = 24
) -> int:
    msg = message(text, sender=sender, sent=at(day, 10))
    return case_of(take_in(uow, kit, Incoming(msg, "test"), now=msg.sent_at))


def _held(engine: Engine) -> dict[str, str]:
    """Buyers on hold, as e-mail -> the reasons of their holds in force."""
    return {b.email: b.hold_reason for b in held_buyers(holds_unit_of_work(engine))}


def _set(uow: SqlUnitOfWork, kit: RoutingKit, case_id: int, status: CaseStatus, day: int = 25) -> None:
    change_status(uow, kit, case_id, status, by="Maya", at=at(day, 11))


@pytest.mark.parametrize("end", [CaseStatus.RESOLVED, CaseStatus.CLOSED])
def test_a_wrong_item_case_holds_its_buyer_until_it_is_resolved(
    uow: SqlUnitOfWork, engine: Engine, kit: RoutingKit, end: CaseStatus
) -> None:
    case_id = _open(uow, kit, WRONG_ITEM)

    assert _held(engine) == {"ana@example.com": "wrong_item: wrong_item_collect_proof"}
    _set(uow, kit, case_id, end)

    assert _held(engine) == {}
    assert holds(uow) == [
        ("ana@example.com", case_id, "wrong_item: wrong_item_collect_proof", at(24, 10), at(25, 11))
    ]


def test_a_question_holds_nobody(uow: SqlUnitOfWork, engine: Engine, kit: RoutingKit) -> None:
    _open(uow, kit, QUESTION)

    assert _held(engine) == {}
    assert holds(uow) == []


def test_two_held_cases_keep_the_buyer_on_hold_until_both_are_resolved(
    uow: SqlUnitOfWork, engine: Engine, kit: RoutingKit
) -> None:
    wrong = _open(uow, kit, WRONG_ITEM)
    damaged = _open(uow, kit, DAMAGED)
    both = "wrong_item: wrong_item_collect_proof; damaged_item: damaged_collect_proof"
    assert _held(engine) == {"ana@example.com": both}

    _set(uow, kit, wrong, CaseStatus.RESOLVED)
    assert _held(engine) == {"ana@example.com": "damaged_item: damaged_collect_proof"}

    _set(uow, kit, damaged, CaseStatus.CLOSED, day=26)
    assert _held(engine) == {}


def test_one_buyers_resolved_case_does_not_lift_another_buyers_hold(
    uow: SqlUnitOfWork, engine: Engine, kit: RoutingKit
) -> None:
    ana = _open(uow, kit, WRONG_ITEM)
    _open(uow, kit, DAMAGED, sender="bo@example.com")

    _set(uow, kit, ana, CaseStatus.RESOLVED)

    assert _held(engine) == {"bo@example.com": "damaged_item: damaged_collect_proof"}


def test_reopening_a_resolved_held_case_holds_the_buyer_again(
    uow: SqlUnitOfWork, engine: Engine, kit: RoutingKit
) -> None:
    case_id = _open(uow, kit, WRONG_ITEM)
    _set(uow, kit, case_id, CaseStatus.RESOLVED)

    _set(uow, kit, case_id, CaseStatus.OPEN, day=26)

    assert _held(engine) == {"ana@example.com": "wrong_item: wrong_item_collect_proof"}
    assert [(since, until) for _, _, _, since, until in holds(uow)] == [
        (at(24, 10), at(25, 11)),
        (at(26, 11), None),
    ]


def test_a_hold_whose_case_was_closed_without_lifting_it_no_longer_holds(
    uow: SqlUnitOfWork, engine: Engine, kit: RoutingKit
) -> None:
    case_id = _open(uow, kit, WRONG_ITEM)
    with uow() as cases:  # a path that closes a case and forgets the hold
        cases.db.execute(update(schema.cases).where(schema.cases.c.id == case_id).values(is_open=False))

    assert _held(engine) == {}


def test_a_low_review_holds_its_reviewer_until_the_review_case_is_resolved(
    uow: SqlUnitOfWork, engine: Engine, kit: RoutingKit
) -> None:
    review = ExportedReview(
        source=ReviewSource.JUDGEME,
        external_id="r-1",
        rating=2,
        title="Lid leaks",
        body="The lid leaks when tipped.",
        reviewer_email="cy@example.com",
        reviewer_name="Cy Diaz",
        line=2,
    )
    desk = ReviewDesk(reviews_unit_of_work(engine), uow, kit)

    summary = import_reviews(desk, [review], now=at(25, 9))

    assert (summary.cases_opened, summary.held) == (1, 1)
    assert _held(engine) == {"cy@example.com": "review: 2 stars (judgeme)"}
    [(_, case_id, _, _, _)] = holds(uow)
    assert case_id is not None
    _set(uow, kit, case_id, CaseStatus.RESOLVED, day=26)
    assert _held(engine) == {}

"""`run_review` on the real database: the planted week's repeats and nothing else, tasks
filed once, closed tasks staying closed, open tasks carried over."""

from __future__ import annotations

from datetime import UTC, date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.adapters.db.weekly_review_queries import review_unit_of_work
from aftersales.domain.errors import InputError
from aftersales.domain.orders import LineItem, OrderFacts
from aftersales.domain.writeback import TaskStatus
from aftersales.services.intake import Incoming, take_in
from aftersales.services.routing import RoutingKit
from aftersales.services.weekly_review import ReviewUnitOfWork, close_task, open_tasks, run_review
from support.messages import at, case_of, case_row, message

from .review_week import AFTER_THE_WEEK, MONDAY, PLANTED, WRONG_COLOUR_KEY, add_cases

WEEK = date(2026, 11, 25)


@pytest.fixture
def review(uow: SqlUnitOfWork, engine: Engine) -> ReviewUnitOfWork:
    """An emptied database (``uow`` empties it) and the review's unit of work."""
    return review_unit_of_work(engine)


def test_the_planted_week_finds_the_planted_repeats_and_nothing_else(
    review: ReviewUnitOfWork, engine: Engine, kit: RoutingKit
) -> None:
    ids = add_cases(engine, PLANTED)
    result = run_review(review, kit, day=WEEK, now=AFTER_THE_WEEK)
    assert result.cases == len(PLANTED)
    assert [f.finding.key for f in result.findings] == [WRONG_COLOUR_KEY]
    (found,) = result.findings
    assert found.finding.group.case_ids == (ids[5], ids[6], ids[9])
    assert found.is_new
    assert found.task is not None
    assert found.task.draft.target.value == "warehouse_pick_rules"
    assert (found.task.draft.owner_role, found.task.draft.owner_name) == ("operations", "Marcus Lee")
    # the two stalled UPS scans are one short of a repeat: watched, not filed
    assert [(g.route, g.value, g.count) for g in result.watch] == [("shipping_delay", "UPS", 2)]
    first = {(a.route, a.clock): (a.met, a.breached, a.running) for a in result.attainment}
    assert first[("all", "first_response")] == (4, 3, 4)
    assert first[("wrong_item", "first_response")] == (2, 0, 1)


def test_a_second_run_files_no_new_task(review: ReviewUnitOfWork, engine: Engine, kit: RoutingKit) -> None:
    add_cases(engine, PLANTED)
    first = run_review(review, kit, day=WEEK, now=AFTER_THE_WEEK)
    again = run_review(review, kit, day=WEEK, now=AFTER_THE_WEEK + timedelta(hours=1))
    assert [(f.task.id, f.is_new) for f in again.findings if f.task] == [(first.findings[0].task.id, False)]  # type: ignore[union-attr]
    assert len(open_tasks(review)) == 1


def test_a_preview_files_nothing(review: ReviewUnitOfWork, engine: Engine, kit: RoutingKit) -> None:
    add_cases(engine, PLANTED)
    result = run_review(review, kit, day=WEEK, now=AFTER_THE_WEEK, file_tasks=False)
    assert [f.task for f in result.findings] == [None]
    assert open_tasks(review) == []


def test_a_closed_task_stays_closed_until_the_repeat_comes_back(
    review: ReviewUnitOfWork, engine: Engine, kit: RoutingKit
) -> None:
    add_cases(engine, PLANTED)
    (found,) = run_review(review, kit, day=WEEK, now=AFTER_THE_WEEK).findings
    assert found.task is not None
    close_task(
        review, found.task.id, by="ops@northwind.example", note="Pick bins relabelled", now=AFTER_THE_WEEK
    )
    (rerun,) = run_review(review, kit, day=WEEK, now=AFTER_THE_WEEK + timedelta(hours=2)).findings
    assert rerun.task is not None
    assert (rerun.task.id, rerun.task.status, rerun.is_new) == (found.task.id, TaskStatus.CLOSED, False)
    assert open_tasks(review) == []
    # three more wrong colours after the close: the problem is back, a new task opens
    wrong = [row for row in PLANTED if row[1] == "wrong_item"]
    add_cases(engine, wrong, start=MONDAY + timedelta(days=5))
    later = AFTER_THE_WEEK + timedelta(days=5)
    (back,) = run_review(review, kit, day=later.date(), now=later.astimezone(UTC)).findings
    assert back.is_new
    assert back.task is not None
    assert back.task.id != found.task.id


def test_open_tasks_carry_over_to_the_next_week(
    review: ReviewUnitOfWork, engine: Engine, kit: RoutingKit
) -> None:
    add_cases(engine, PLANTED)
    (found,) = run_review(review, kit, day=WEEK, now=AFTER_THE_WEEK).findings
    quiet_week = AFTER_THE_WEEK + timedelta(days=14)
    later = run_review(review, kit, day=quiet_week.date(), now=quiet_week)
    assert later.findings == []
    assert found.task is not None
    assert [t.id for t in later.carried_over] == [found.task.id]


@pytest.mark.parametrize("note", ["", "   "])
def test_closing_needs_a_note(review: ReviewUnitOfWork, engine: Engine, kit: RoutingKit, note: str) -> None:
    add_cases(engine, PLANTED)
    (found,) = run_review(review, kit, day=WEEK, now=AFTER_THE_WEEK).findings
    assert found.task is not None
    with pytest.raises(InputError, match="needs a note"):
        close_task(review, found.task.id, by="x", note=note, now=AFTER_THE_WEEK)
    assert [t.id for t in open_tasks(review)] == [found.task.id]


# ----------------------------------------------------------------------------- intake sets the dimensions

ORDER_1062 = OrderFacts(
    number="1062",
    carrier="UPS",
    items=(
        LineItem(sku="MUG-12-WHT", title="12oz mug", variant="White", price=Decimal("22.00")),
        LineItem(sku="TMB-20-BLK", title="20oz tumbler", variant="Black", price=Decimal("34.00")),
    ),
)


@pytest.mark.parametrize(
    ("text", "sku", "variant"),
    [
        # the SKU the message names, with its line's variant
        ("Order 1062: I got TMB-20-BLK in white, not black.", "TMB-20-BLK", "Black"),
        # no SKU named: the order's first line
        ("Order 1062: the box had the wrong colour inside.", "MUG-12-WHT", "White"),
    ],
)
def test_intake_stores_what_the_review_counts_by(
    uow: SqlUnitOfWork, kit: RoutingKit, text: str, sku: str, variant: str
) -> None:
    with uow() as cases:
        cases.save_order(ORDER_1062, None, at(20, 9))
    result = take_in(uow, kit, Incoming(message(text), "test"), now=at(24, 10))
    row = case_row(uow, case_of(result))
    assert (row.sku, row.variant, row.carrier) == (sku, variant, "UPS")
    assert row.reason == row.decision["segment"]
    assert row.reason


def test_a_week_that_has_not_started_is_refused(review: ReviewUnitOfWork, kit: RoutingKit) -> None:
    with pytest.raises(InputError, match="has not started"):
        run_review(review, kit, day=date(2026, 12, 9), now=AFTER_THE_WEEK)

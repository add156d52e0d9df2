"""The review-request job on the real database: a request per delivered order, due after the
usage window; a buyer with a wrong-item case is deferred with the reason logged, and the first
run after the case is resolved sends it; running again changes nothing. Runs on SQLite, and on
PostgreSQL when configured."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine

from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.adapters.db.review_requests import review_requests_unit_of_work
from aftersales.domain.cases import CaseStatus
from aftersales.domain.orders import OrderFacts
from aftersales.domain.review_requests import RequestStatus, schedule
from aftersales.services.desk import change_status
from aftersales.services.intake import Incoming, take_in
from aftersales.services.review_requests import RunSummary, review_requests, schedule_and_send
from aftersales.services.routing import RoutingKit
from support.messages import NY, case_of, dump, message

DELIVERED = datetime(2026, 11, 2, 15, 0, tzinfo=NY)
WRONG_ITEM = "I ordered the black tumbler but received a white one instead, wrong item. Order #1043."
ORDERS = (  # number, buyer, delivered, cancelled
    ("1043", "ana@example.com", DELIVERED, None),
    ("1044", "bo@example.com", DELIVERED + timedelta(days=1), None),
    ("1045", "cy@example.com", None, None),  # not delivered yet: no request
    ("1046", "di@example.com", DELIVERED, DELIVERED + timedelta(days=2)),  # cancelled: none
)


def _store_orders(uow: SqlUnitOfWork) -> None:
    with uow() as cases:
        for number, email, delivered, cancelled in ORDERS:
            customer = cases.customer_id(email, email.split("@")[0].title(), DELIVERED - timedelta(days=5))
            order = OrderFacts(number=number, delivered_at=delivered, cancelled_at=cancelled)
            cases.save_order(order, customer, DELIVERED)


def _run(engine: Engine, day: int, hour: int = 12) -> RunSummary:
    now = datetime(2026, 11, day, hour, 0, tzinfo=NY)
    return schedule_and_send(review_requests_unit_of_work(engine), usage_days=14, now=now)


def _states(engine: Engine) -> dict[str, tuple[str, list[str]]]:
    return {
        r.order_number: (r.status.value, [e.action.value for e in r.log])
        for r in review_requests(review_requests_unit_of_work(engine, writes=False))
    }


def test_a_request_is_scheduled_for_each_delivered_order_and_sent_when_due(
    uow: SqlUnitOfWork, engine: Engine
) -> None:
    _store_orders(uow)

    first = _run(engine, day=10)
    due = _run(engine, day=16, hour=16)

    assert (first.scheduled, first.sent) == (2, 0)
    assert [(s.order_number, s.email, s.action) for s in first.steps] == [
        ("1043", "ana@example.com", "scheduled"),
        ("1044", "bo@example.com", "scheduled"),
    ]
    assert (due.scheduled, due.sent, due.deferred) == (0, 1, 0)
    assert _states(engine) == {
        "1043": ("sent", ["scheduled", "sent"]),
        "1044": ("scheduled", ["scheduled"]),
    }


def test_a_buyer_on_hold_is_deferred_then_sent_on_the_first_run_after_the_case_resolves(
    uow: SqlUnitOfWork, engine: Engine, kit: RoutingKit
) -> None:
    _store_orders(uow)
    complaint = message(WRONG_ITEM, sent=datetime(2026, 11, 12, 10, 0, tzinfo=NY))
    case_id = case_of(take_in(uow, kit, Incoming(complaint, "test"), now=complaint.sent_at))

    deferred = _run(engine, day=18)
    again = _run(engine, day=18, hour=13)
    change_status(uow, kit, case_id, CaseStatus.RESOLVED, by="Maya", at=datetime(2026, 11, 19, 9, tzinfo=NY))
    released = _run(engine, day=19)

    assert (deferred.scheduled, deferred.deferred, deferred.sent) == (2, 1, 1)  # bo is not on hold
    [held] = [s for s in deferred.steps if s.action == "deferred"]
    assert (held.order_number, held.email) == ("1043", "ana@example.com")
    assert held.reason.startswith(f"on hold: wrong_item: wrong_item_collect_proof (case {case_id}, since ")
    assert (again.deferred, again.still_deferred, again.sent) == (0, 1, 0)
    assert (released.sent, released.still_deferred) == (1, 0)
    assert _states(engine)["1043"] == ("sent", ["scheduled", "deferred", "sent"])
    [request] = review_requests(review_requests_unit_of_work(engine), RequestStatus.SENT)[:1]
    assert request.order_number == "1043"
    assert request.log[-1].reason == "no hold in force any more; sent 2.9 days after it was due"


def test_running_again_at_the_same_moment_changes_nothing(uow: SqlUnitOfWork, engine: Engine) -> None:
    _store_orders(uow)
    _run(engine, day=17)
    before = dump(uow)

    again = _run(engine, day=17)

    assert (again.scheduled, again.sent, again.deferred, again.steps) == (0, 0, 0, ())
    assert dump(uow) == before


def test_since_leaves_out_older_deliveries(uow: SqlUnitOfWork, engine: Engine) -> None:
    _store_orders(uow)

    summary = schedule_and_send(
        review_requests_unit_of_work(engine),
        usage_days=14,
        now=datetime(2026, 11, 10, tzinfo=NY),
        since=DELIVERED + timedelta(hours=12),
    )

    assert [s.order_number for s in summary.steps] == ["1044"]


def test_a_request_another_run_stored_meanwhile_is_not_stored_twice(
    uow: SqlUnitOfWork, engine: Engine
) -> None:
    _store_orders(uow)
    request = schedule("1043", None, DELIVERED, 14, now=DELIVERED)
    requests = review_requests_unit_of_work(engine)

    with requests() as first:
        assert first.add(request, DELIVERED) is True
    with requests() as second:
        assert second.add(request, DELIVERED) is False

    assert list(_states(engine)) == ["1043"]

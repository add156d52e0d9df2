"""The case repository round-trips on both databases (real SQLite and PostgreSQL, no mocks)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from aftersales.adapters.db import schema
from aftersales.adapters.db.migrate import HEAD_REVISION, head_revision, is_current
from aftersales.adapters.db.repository import BatchedUnitOfWork, SqlUnitOfWork
from aftersales.domain.cases import CaseStatus, Event, record_to_dict
from aftersales.domain.messages import Channel, Direction, InboundMessage
from aftersales.domain.orders import Address, LineItem, OrderFacts, Refund, ScanStatus
from aftersales.domain.routes import Route
from aftersales.domain.trust import SenderMark

AT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def _message(key: str = "m1|abc", message_id: str = "m1@example.com") -> InboundMessage:
    return InboundMessage(
        message_id=message_id,
        dedupe_key=key,
        channel=Channel.EMAIL,
        from_address="ana@example.com",
        from_name="Ana",
        to_addresses=("support@northwind.example",),
        subject="Where is #1043?",
        sent_at=AT,
        body="Where is my order #1043?",
        full_body="Where is my order #1043?",
        html="",
    )


def _case_fields(customer_id: int) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "order_number": "1043",
        "subject": "Where is #1043?",
        "route": Route.SHIPPING_DELAY.value,
        "secondary_routes": [],
        "confidence": 0.9,
        "status": CaseStatus.NEW.value,
        "lead_role": "operations",
        "lead_name": "Marcus Lee",
        "decision": {"segment": "inside_promise_window"},
        "write_back": ["Shipping Policy"],
        "clocks": [],
        "next_due_at": AT,
        "risk": 0,
        "opened_at": AT,
        "updated_at": AT,
    }


def test_migrations_reach_head(engine: Engine) -> None:
    assert head_revision() == HEAD_REVISION == "0024"
    assert is_current(engine)


def test_a_case_with_its_message_and_events_round_trips(uow: SqlUnitOfWork) -> None:
    with uow() as cases:
        customer = cases.customer_id("Ana@Example.com", "Ana", AT)
        case_id = cases.open_case(_case_fields(customer))
        cases.add_message(case_id, _message(), Direction.INBOUND)
        cases.add_event(case_id, Event("case_opened", AT, "system", {"route": "shipping_delay"}))

    with uow() as cases:
        row = cases.case_row(case_id)
        assert (row.route, row.customer, row.next_due_at) == (
            "shipping_delay",
            "ana@example.com",
            AT,
        )
        assert cases.has_message("m1|abc") is True
        assert cases.case_for_message_ids(["m1@example.com"]) == case_id
        assert cases.open_case_for(customer, "1043") == case_id
        assert [e["kind"] for e in cases.timeline(case_id)] == ["case_opened"]
        assert cases.customer_id("ana@example.com", "", AT) == customer


def test_a_case_reads_as_a_typed_record_locked_or_not(uow: SqlUnitOfWork) -> None:
    with uow() as cases:
        case_id = cases.open_case(_case_fields(cases.customer_id("ana@example.com", "Ana", AT)))

    with uow() as cases:
        record, locked = cases.case_row(case_id), cases.locked_case_row(case_id)
    assert (record.route, record.status, record.sender_mark) == (
        Route.SHIPPING_DELAY,
        CaseStatus.NEW,
        SenderMark.NONE,
    )
    assert (record.decision, record.write_back, record.assignee_email) == (
        {"segment": "inside_promise_window"},
        ["Shipping Policy"],
        None,
    )
    # the lock reads the case alone: the same record without what the read joins in
    assert locked == dataclasses.replace(record, customer=None)
    assert record_to_dict(record)["route"] == "shipping_delay"


def test_orders_keep_money_exact_and_times_aware(uow: SqlUnitOfWork) -> None:
    order = OrderFacts(
        number="1043",
        fulfilled_at=AT,
        last_scan_at=AT,
        last_scan_status=ScanStatus.IN_TRANSIT,
        items=(LineItem("TMB-20-BLK", "20oz tumbler", "Black", 2, Decimal("34.10")),),
        refunds=(Refund(Decimal("0.10"), AT, "goodwill"),),
        total=Decimal("68.20"),
        currency="USD",
    )
    with uow() as cases:
        cases.save_order(order, None, AT)
        cases.save_order(order, None, AT)  # saving again replaces, never duplicates

    with uow() as cases:
        assert cases.order("1043") == order


HOME = Address(
    name="Ana Silva", address1="12 Elm St", city="Memphis", province="TN", zip="38103", country="US"
)
OFFICE = Address(name="Ana Silva", company="Silva & Co", address1="1 Main St", zip="38104", country="US")


@pytest.mark.parametrize("write", ["save_order", "save_orders", "update_order_row"])
@pytest.mark.parametrize(("shipping", "billing"), [(HOME, OFFICE), (HOME, None), (None, None)])
def test_orders_keep_their_addresses_whichever_way_they_are_written(
    uow: SqlUnitOfWork, write: str, shipping: Address | None, billing: Address | None
) -> None:
    bare = OrderFacts(number="1043", billing_address=OFFICE)
    order = OrderFacts(number="1043", shipping_address=shipping, billing_address=billing)
    with uow() as cases:
        cases.save_order(bare, None, AT)
    with uow() as cases:
        if write == "save_order":
            cases.save_order(order, None, AT)
        elif write == "save_orders":
            cases.save_orders([(order, None)], AT)
        else:
            cases.update_order_row(order, AT)

    with uow() as cases:
        assert cases.order("1043") == order
        assert cases.orders(["1043"]) == {"1043": order}


def test_screened_and_quarantined_mail_is_recorded_once(uow: SqlUnitOfWork) -> None:
    with uow() as cases:
        assert cases.screen(_message("auto|1"), "inbox.mbox#3", AT) is True
        assert cases.screen(_message("auto|1"), "inbox.mbox#3", AT) is False
        cases.quarantine("inbox.mbox#4", "not a message", AT)
        cases.quarantine("inbox.mbox#4", "not a message", AT)


def test_the_queue_puts_breached_then_soonest_first(uow: SqlUnitOfWork) -> None:
    with uow() as cases:
        customer = cases.customer_id("ana@example.com", "Ana", AT)
        calm = cases.open_case(_case_fields(customer) | {"next_due_at": AT})
        breached = cases.open_case(_case_fields(customer) | {"risk": 2, "next_due_at": AT.replace(hour=20)})
        cases.open_case(_case_fields(customer) | {"status": "resolved"})

    with uow() as cases:
        queue = cases.list_cases([CaseStatus.NEW, CaseStatus.OPEN])
        assert [c.id for c in queue] == [breached, calm]
        assert [c.id for c in cases.list_cases([CaseStatus.NEW], breaching=True)] == [breached]


def test_a_batch_commits_every_n_blocks_and_a_failure_drops_only_the_open_batch(
    engine: Engine, uow: SqlUnitOfWork, tmp_path: Path
) -> None:
    def customers() -> int:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(schema.customers)).scalar_one())

    batch = BatchedUnitOfWork(engine, tmp_path, size=2)
    for n in range(3):  # the first two are committed together; the third waits in the open batch
        with batch() as cases:
            cases.customer_id(f"c{n}@example.com", "", AT)
    assert customers() == 2

    def killed_mid_batch() -> None:
        with batch() as cases:
            cases.customer_id("c3@example.com", "", AT)
            raise RuntimeError("intake killed")

    with pytest.raises(RuntimeError):
        killed_mid_batch()

    assert customers() == 2  # the open batch (c2, c3) is gone; a rerun takes it in again
    with batch() as cases:
        cases.customer_id("c2@example.com", "", AT)
    batch.flush()
    assert customers() == 3

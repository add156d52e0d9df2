"""Carrier scans move an order's last scan forward only; a dispute's evidence deadline runs
in calendar time, is met by sending evidence and stops when the dispute closes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aftersales.domain.orders import (
    OrderFacts,
    ScanStatus,
    TrackingEvent,
    linked_to_policy,
    with_stored_tracking,
    with_tracking_event,
)
from aftersales.domain.sla.clocks import ClockName, ClockState, Deadline, deadline_clock

DAY = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def scan(status: ScanStatus, days: int, where: str = "Memphis") -> TrackingEvent:
    return TrackingEvent(
        event_id=f"{status}-{days}", status=status, happened_at=DAY + timedelta(days=days), location=where
    )


@pytest.mark.parametrize(
    ("scans", "last_status", "delivered"),
    [
        ([scan(ScanStatus.IN_TRANSIT, 1)], ScanStatus.IN_TRANSIT, None),
        ([scan(ScanStatus.IN_TRANSIT, 2), scan(ScanStatus.CONFIRMED, 1)], ScanStatus.IN_TRANSIT, None),
        (
            [scan(ScanStatus.IN_TRANSIT, 1), scan(ScanStatus.DELIVERED, 3)],
            ScanStatus.DELIVERED,
            DAY + timedelta(days=3),
        ),
        (
            [scan(ScanStatus.DELIVERED, 3), scan(ScanStatus.OUT_FOR_DELIVERY, 2)],
            ScanStatus.DELIVERED,
            DAY + timedelta(days=3),
        ),
    ],
    ids=["one scan", "late older scan", "delivered", "delivered then a late scan"],
)
def test_the_newest_scan_is_the_last_scan(
    scans: list[TrackingEvent], last_status: ScanStatus, delivered: datetime | None
) -> None:
    order = OrderFacts(number="1043")
    for event in scans:
        order = with_tracking_event(order, event)
    assert (order.last_scan_status, order.delivered_at) == (last_status, delivered)


def test_an_order_update_keeps_the_scans_it_does_not_carry() -> None:
    stored = with_tracking_event(OrderFacts(number="1043", carrier="UPS"), scan(ScanStatus.IN_TRANSIT, 1))
    incoming = OrderFacts(number="1043", financial_status="refunded")
    merged = with_stored_tracking(incoming, stored)
    assert (merged.financial_status, merged.last_scan_status, merged.carrier) == (
        "refunded",
        ScanStatus.IN_TRANSIT,
        "UPS",
    )
    assert with_stored_tracking(incoming, None) is incoming


NOW = DAY + timedelta(days=4)


@pytest.mark.parametrize(
    ("deadline", "state"),
    [
        (Deadline(started_at=DAY, due=DAY + timedelta(days=10)), ClockState.ON_TRACK),
        (Deadline(started_at=DAY, due=DAY + timedelta(days=5)), ClockState.AT_RISK),
        (Deadline(started_at=DAY, due=DAY + timedelta(days=3)), ClockState.BREACHED),
        (
            Deadline(started_at=DAY, due=DAY + timedelta(days=5), met_at=DAY + timedelta(days=2)),
            ClockState.MET,
        ),
        (
            Deadline(started_at=DAY, due=DAY + timedelta(days=1), met_at=DAY + timedelta(days=2)),
            ClockState.BREACHED,
        ),
        (Deadline(started_at=DAY, due=DAY + timedelta(days=5), stopped=True), ClockState.STOPPED),
    ],
    ids=["on track", "at risk", "breached", "met", "met late", "closed"],
)
def test_a_deadline_clock(deadline: Deadline, state: ClockState) -> None:
    clock = deadline_clock(ClockName.DISPUTE_EVIDENCE, deadline, NOW, 0.75, UTC)
    assert clock.state is state
    assert (clock.due_at is not None) == (
        state in (ClockState.ON_TRACK, ClockState.AT_RISK, ClockState.BREACHED) and deadline.met_at is None
    )


VERSIONS = [(DAY, "v1"), (DAY + timedelta(days=5), "v2"), (DAY + timedelta(days=5), "v3")]


@pytest.mark.parametrize(
    ("placed", "given", "linked"),
    [
        (DAY - timedelta(days=1), "", ""),
        (DAY, "", "v1"),
        (DAY + timedelta(days=4), "", "v1"),
        (DAY + timedelta(days=5), "", "v3"),  # two versions at one moment: the later one
        (DAY + timedelta(days=9), "2026-10-01", "2026-10-01"),  # the source named its own
        (None, "", ""),
    ],
)
def test_an_order_links_to_the_policy_version_in_force_when_placed(
    placed: datetime | None, given: str, linked: str
) -> None:
    order = OrderFacts(number="1043", placed_at=placed, policy_version=given)
    assert linked_to_policy(order, VERSIONS).policy_version == linked

"""Fair review timing: due after the usage window, deferred while the buyer is on hold, sent on
the first run after the hold is lifted, never skipped, every deferral logged."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from aftersales.domain.review_requests import (
    BuyerState,
    Hold,
    LogAction,
    RequestStatus,
    ReviewRequest,
    advance,
    deferred_days,
    log_from_json,
    log_to_json,
    request_due_at,
    request_to_dict,
    schedule,
)

DELIVERED = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
WRONG_ITEM = Hold("wrong_item: collect_proof", datetime(2026, 11, 10, 9, 0, tzinfo=UTC), 4)
LOW_REVIEW = Hold("review: 2 stars (judgeme)", datetime(2026, 11, 12, 9, 0, tzinfo=UTC), 7)


def day(n: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, n, hour, 0, tzinfo=UTC)


def _request(days: int = 14) -> ReviewRequest:
    return schedule("1043", 1, DELIVERED, days, now=day(3))


@pytest.mark.parametrize(
    ("usage_days", "due"),
    [
        pytest.param(14, datetime(2026, 11, 16, 15, 0, tzinfo=UTC), id="the_default_two_weeks"),
        pytest.param(0, DELIVERED, id="right_at_delivery"),
        pytest.param(30, datetime(2026, 12, 2, 15, 0, tzinfo=UTC), id="a_month_crosses_the_month_end"),
    ],
)
def test_a_request_is_due_the_usage_window_after_delivery(usage_days: int, due: datetime) -> None:
    assert request_due_at(DELIVERED, usage_days) == due
    request = schedule("1043", 1, DELIVERED, usage_days, now=day(3))
    assert (request.due_at, request.status) == (due, RequestStatus.SCHEDULED)
    assert [(e.action, e.reason) for e in request.log] == [
        (LogAction.SCHEDULED, f"delivered 2026-11-02T15:00:00+00:00 + {usage_days} days")
    ]


@pytest.mark.parametrize(
    ("now", "holds", "status"),
    [
        pytest.param(day(16, 14), [], RequestStatus.SCHEDULED, id="an_hour_before_due_waits"),
        pytest.param(day(16, 15), [], RequestStatus.SENT, id="due_without_hold_is_sent"),
        pytest.param(day(16, 15), [WRONG_ITEM], RequestStatus.DEFERRED, id="due_on_hold_is_deferred"),
        pytest.param(day(14), [WRONG_ITEM], RequestStatus.SCHEDULED, id="a_hold_before_due_changes_nothing"),
    ],
)
def test_a_run_waits_sends_or_defers(now: datetime, holds: list[Hold], status: RequestStatus) -> None:
    assert advance(_request(), holds, now=now).status is status


def test_a_deferred_request_is_sent_on_the_first_run_after_the_hold_is_lifted() -> None:
    deferred = advance(_request(), [WRONG_ITEM], now=day(17))
    still = advance(deferred, [WRONG_ITEM], now=day(18))
    sent = advance(still, [], now=day(20))

    assert still == deferred  # same hold, same reason: no second log line
    assert (sent.status, sent.sent_at) == (RequestStatus.SENT, day(20))
    assert [(e.at, e.action) for e in sent.log] == [
        (day(3), LogAction.SCHEDULED),
        (day(17), LogAction.DEFERRED),
        (day(20), LogAction.SENT),
    ]
    assert sent.log[1].reason == (
        "on hold: wrong_item: collect_proof (case 4, since 2026-11-10T09:00:00+00:00)"
    )
    assert sent.log[2].reason == "no hold in force any more; sent 3.9 days after it was due"
    assert deferred_days(sent) == 3.88


def test_a_new_hold_while_deferred_is_logged_as_another_deferral() -> None:
    first = advance(_request(), [WRONG_ITEM], now=day(17))
    second = advance(first, [WRONG_ITEM, LOW_REVIEW], now=day(18))
    third = advance(second, [LOW_REVIEW], now=day(19))

    deferrals = [e.reason for e in third.log if e.action is LogAction.DEFERRED]
    assert deferrals == [
        "on hold: wrong_item: collect_proof (case 4, since 2026-11-10T09:00:00+00:00)",
        "on hold: wrong_item: collect_proof (case 4, since 2026-11-10T09:00:00+00:00); "
        "review: 2 stars (judgeme) (case 7, since 2026-11-12T09:00:00+00:00)",
        "on hold: review: 2 stars (judgeme) (case 7, since 2026-11-12T09:00:00+00:00)",
    ]
    assert third.status is RequestStatus.DEFERRED


def test_a_sent_request_is_final_and_never_dropped() -> None:
    sent = advance(_request(), [], now=day(17))

    assert advance(sent, [WRONG_ITEM], now=day(30)) == sent
    assert advance(sent, [], now=day(30)) == sent
    assert deferred_days(sent) == 0.0


def test_every_request_is_eventually_sent_however_long_the_hold() -> None:
    request = _request()
    for n in range(17, 31):
        request = advance(request, [WRONG_ITEM], now=day(n))
    assert request.status is RequestStatus.DEFERRED
    assert advance(request, [], now=day(30, 13)).status is RequestStatus.SENT


def test_the_log_round_trips_through_json() -> None:
    sent = advance(advance(_request(), [WRONG_ITEM], now=day(17)), [], now=day(20))

    assert log_from_json(log_to_json(sent.log)) == sent.log
    shown = request_to_dict(sent)
    assert (shown["status"], shown["sent_at"], shown["deferred_days"]) == ("sent", day(20).isoformat(), 3.88)
    assert [entry["action"] for entry in shown["log"]] == ["scheduled", "deferred", "sent"]


def test_a_buyer_state_joins_the_reasons_of_their_holds_oldest_first() -> None:
    buyer = BuyerState(
        email="ana@example.com", open_cases=2, holds=(LOW_REVIEW, WRONG_ITEM), updated_at=day(12)
    )
    calm = replace(buyer, open_cases=0, holds=())

    assert (buyer.has_open_case, buyer.on_hold, buyer.on_hold_since) == (True, True, WRONG_ITEM.since)
    assert buyer.hold_reason == "wrong_item: collect_proof; review: 2 stars (judgeme)"
    assert (calm.has_open_case, calm.on_hold, calm.hold_reason, calm.on_hold_since) == (
        False,
        False,
        "",
        None,
    )
    assert timedelta(0) < day(12) - WRONG_ITEM.since

"""The weekly review's pure rules: the week, the repeat rule, targets, SLA attainment."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from aftersales.domain.policy import Interval
from aftersales.domain.sla.calendar import BusinessCalendar
from aftersales.domain.weekly_review import (
    ClockTally,
    Dimension,
    Owner,
    RepeatGroup,
    RouteBook,
    attainment,
    findings,
    review_week,
    target_of_label,
    targets_for,
    task_draft,
    task_due,
)
from aftersales.domain.writeback import Target

NY = ZoneInfo("America/New_York")
LATE = datetime(2027, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "now", "start", "end", "until", "label"),
    [
        # any day of the week picks its Monday; a past week ends on the next Monday
        (
            date(2026, 11, 29),
            LATE,
            "2026-11-23T00:00:00-05:00",
            "2026-11-30T00:00:00-05:00",
            "end",
            "2026-W48",
        ),
        (
            date(2026, 11, 23),
            LATE,
            "2026-11-23T00:00:00-05:00",
            "2026-11-30T00:00:00-05:00",
            "end",
            "2026-W48",
        ),
        # the week still running stops at now
        (
            date(2026, 11, 25),
            datetime(2026, 11, 25, 15, tzinfo=UTC),
            "2026-11-23T00:00:00-05:00",
            "2026-11-30T00:00:00-05:00",
            "2026-11-25T10:00:00-05:00",
            "2026-W48",
        ),
        # the week the clocks go back is 7 days of 24 h plus one hour
        (
            date(2026, 11, 4),
            LATE,
            "2026-11-02T00:00:00-05:00",
            "2026-11-09T00:00:00-05:00",
            "end",
            "2026-W45",
        ),
        (
            date(2026, 10, 28),
            LATE,
            "2026-10-26T00:00:00-04:00",
            "2026-11-02T00:00:00-05:00",
            "end",
            "2026-W44",
        ),
    ],
)
def test_the_week_runs_monday_to_monday_in_store_time(
    day: date, now: datetime, start: str, end: str, until: str, label: str
) -> None:
    week = review_week(day, now=now, zone="America/New_York", repeat_window_days=7)
    assert week.start.isoformat() == start
    assert week.end.isoformat() == end
    assert week.until.isoformat() == (end if until == "end" else until)
    assert week.label == label
    assert week.is_complete is (until == "end")
    assert (week.until - week.repeat_since).days == 7


def group(
    route: str, dimension: Dimension, value: str, ids: tuple[int, ...], count: int | None = None
) -> RepeatGroup:
    return RepeatGroup(
        route=route,
        dimension=dimension,
        value=value,
        count=len(ids) if count is None else count,
        case_ids=ids,
        last_opened_at=LATE,
    )


BOOK = RouteBook(
    write_back={
        "wrong_item": ["warehouse pick rules", "SKU naming", "variant images", "QA sampling"],
        "shipping_delay": [
            "Shipping Policy",
            "shipping notification",
            "order-status copy",
            "delay-case snippet",
        ],
        "refund_return": ["return policy", "product-page size/material notes", "refund review table"],
    },
    owners={"wrong_item": Owner(role="operations", name="Marcus Lee")},
)


@pytest.mark.parametrize(
    ("groups", "keys"),
    [
        # three wrong-colour cases on one SKU: one finding; their reason names no cause
        (
            [
                group("wrong_item", Dimension.SKU, "TMB-20-BLK", (6, 7, 10)),
                group("wrong_item", Dimension.REASON, "wrong_item_collect_proof", (6, 7, 10)),
            ],
            ["repeat|wrong_item|sku|TMB-20-BLK"],
        ),
        # three dented tumblers of one SKU share their reason too: that says nothing new
        (
            [
                group("damaged_item", Dimension.SKU, "TMB-20-SLV", (4, 5, 8)),
                group("damaged_item", Dimension.REASON, "damaged_store_fault", (4, 5, 8)),
            ],
            ["repeat|damaged_item|sku|TMB-20-SLV"],
        ),
        # three unrelated questions all get "answer": the route's volume, not a repeat
        ([group("pre_purchase", Dimension.REASON, "answer", (1, 8, 13))], []),
        ([group("chargeback_risk", Dimension.REASON, "same_day_lead_review", (2, 3, 9))], []),
        # parcels past the promise window on different SKUs and carriers: a cause, a finding
        (
            [group("shipping_delay", Dimension.REASON, "past_promise_window", (3, 4, 9))],
            ["repeat|shipping_delay|reason|past_promise_window"],
        ),
        # below the threshold, or without a value: nothing
        ([group("shipping_delay", Dimension.CARRIER, "UPS", (3, 4))], []),
        ([group("shipping_delay", Dimension.CARRIER, "", (3, 4, 5))], []),
        # a reason over cases no specific repeat explains is a finding of its own
        (
            [
                group("refund_return", Dimension.SKU, "A", (1, 2, 3)),
                group("refund_return", Dimension.REASON, "preference_return", (1, 2, 3, 4)),
            ],
            ["repeat|refund_return|reason|preference_return", "repeat|refund_return|sku|A"],
        ),
        # a reason group too big to list every case is kept (it cannot be shown explained)
        (
            [
                group("wrong_item", Dimension.SKU, "A", (1, 2, 3), count=30),
                group("wrong_item", Dimension.REASON, "r", (1, 2, 3), count=30),
            ],
            ["repeat|wrong_item|reason|r", "repeat|wrong_item|sku|A"],
        ),
    ],
)
def test_repeats_become_findings(groups: list[RepeatGroup], keys: list[str]) -> None:
    assert sorted(f.key for f in findings(groups, 3, BOOK)) == keys


@pytest.mark.parametrize(
    ("route", "dimension", "expected"),
    [
        (
            "wrong_item",
            Dimension.SKU,
            (Target.WAREHOUSE_PICK_RULES, Target.SKU_NAMING, Target.VARIANT_IMAGES, Target.QA_SAMPLING),
        ),
        (
            "shipping_delay",
            Dimension.CARRIER,
            (Target.SHIPPING_POLICY, Target.SHIPPING_NOTIFICATION, Target.REPLY_SNIPPETS),
        ),
        ("refund_return", Dimension.REASON, (Target.RETURN_POLICY, Target.PRODUCT_PAGE)),
        ("wrong_item", Dimension.CARRIER, (Target.SHIPPING_NOTIFICATION,)),  # nothing fits: the fallback
        ("review", Dimension.REASON, (Target.REVIEW_REQUEST_TIMING, Target.PRODUCT_PAGE, Target.FAQ)),
        ("review", Dimension.SKU, (Target.REVIEW_REQUEST_TIMING, Target.PRODUCT_PAGE, Target.FAQ)),
    ],
)
def test_targets_come_from_the_route_table(
    route: str, dimension: Dimension, expected: tuple[Target, ...]
) -> None:
    write_back = {
        **BOOK.write_back,
        "review": ["review handling table", "product-page trust assets", "FAQ", "weekly review"],
    }
    assert targets_for(route, dimension, write_back.get(route, ())) == expected


@pytest.mark.parametrize(
    ("label", "target"),
    [
        ("variant_images", Target.VARIANT_IMAGES),
        ("lifecycle-email pause rule", Target.LIFECYCLE_EMAIL),
        ("weekly review", None),
    ],
)
def test_write_back_labels(label: str, target: Target | None) -> None:
    assert target_of_label(label) is target


def test_a_finding_files_a_task_owned_by_the_route_lead_due_before_the_next_review() -> None:
    week = review_week(date(2026, 11, 25), now=LATE, zone="America/New_York", repeat_window_days=7)
    hours = {d: (Interval(time(9), time(17)),) for d in range(5)}
    calendar = BusinessCalendar(tz=NY, weekly=hours)
    (finding,) = findings([group("wrong_item", Dimension.SKU, "TMB-20-BLK", (6, 7, 10))], 3, BOOK)
    draft = task_draft(finding, week=week, due_at=task_due(week, calendar))
    assert draft.key == "repeat|wrong_item|sku|TMB-20-BLK"
    assert draft.target is Target.WAREHOUSE_PICK_RULES
    assert (draft.owner_role, draft.owner_name) == ("operations", "Marcus Lee")
    assert draft.due_at == datetime(2026, 12, 2, 17, tzinfo=NY)
    assert draft.next_review_at == datetime(2026, 12, 7, tzinfo=NY)
    assert draft.evidence["case_ids"] == [6, 7, 10]


def test_sla_attainment_counts_met_breached_and_running_per_route_and_overall() -> None:
    tallies = [
        ClockTally(route="wrong_item", clock="first_response", state="met", count=3),
        ClockTally(route="wrong_item", clock="first_response", state="breached", count=1),
        ClockTally(route="review", clock="first_response", state="at_risk", count=2),
        ClockTally(route="review", clock="escalation", state="stopped", count=5),
    ]
    rows = {(a.route, a.clock): (a.met, a.breached, a.running, a.share_met) for a in attainment(tallies)}
    assert rows == {
        ("review", "first_response"): (0, 0, 2, None),
        ("wrong_item", "first_response"): (3, 1, 0, 0.75),
        ("all", "first_response"): (3, 1, 2, 0.75),
    }

"""The first-order incident rules: `decide()` over the demo store's policy, as a table.

Given a route, the order facts, the flags and the evidence in hand, when `decide()` runs,
then the segment, the stop line, whether it clears, the escalation and the automation pause
are exactly these. Time: Tuesday 2026-11-24 10:00 New York; the demo policy has a 30-day
return window, a 50.00 USD frontline refund limit and a 4-day stalled-scan rule.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales.adapters.files.packaged import builtin_route_specs
from aftersales.adapters.policy.file import default_policy
from aftersales.domain.decisions import Decision, Situation, decide
from aftersales.domain.evidence import check_evidence
from aftersales.domain.orders import LineItem, OrderFacts, ScanStatus
from aftersales.domain.routes import Route
from aftersales.domain.signals import FLAG_NAMES, Attachment, image_attachments, order_numbers

NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=NEW_YORK)
POLICY = default_policy()
SPECS = builtin_route_specs()
DEFAULT_STOP = "DEFAULT STOP LINE OF THE ROUTE"
PHOTO = Attachment("dent.jpg", "image/jpeg")
# Promise windows end at local midnight: this one promises delivery by Thursday 26 November.
WINDOW_ENDS = datetime(2026, 11, 27, tzinfo=NEW_YORK)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def order(**facts: Any) -> OrderFacts:
    return OrderFacts(number="1043", items=(LineItem("TMB-20-BLK", price=Decimal("34.00")),), **facts)


IN_TRANSIT = order(
    fulfilled_at=days_ago(3),
    last_scan_at=days_ago(1),
    last_scan_status=ScanStatus.IN_TRANSIT,
    last_scan_location="Memphis, TN",
)
STALLED = order(fulfilled_at=days_ago(8), last_scan_at=days_ago(6), last_scan_status=ScanStatus.IN_TRANSIT)
DELIVERED_5_DAYS_AGO = order(
    fulfilled_at=days_ago(9), delivered_at=days_ago(5), last_scan_status=ScanStatus.DELIVERED
)
DELIVERED_40_DAYS_AGO = order(
    fulfilled_at=days_ago(44), delivered_at=days_ago(40), last_scan_status=ScanStatus.DELIVERED
)
UNFULFILLED = order(placed_at=days_ago(0.5))


@dataclass(frozen=True)
class Given:
    route: Route
    text: str = ""
    order: OrderFacts | None = None
    flags: frozenset[str] = field(default_factory=frozenset)
    photos: bool = False
    promise_window_end: datetime | None = None
    claimed_amount: Decimal | None = None


@dataclass(frozen=True)
class Then:
    segment: str
    _: KW_ONLY
    stop_line_clear: bool
    escalate: bool
    escalation_reason: str = ""
    pause_automation: bool = False
    stop_line: str = DEFAULT_STOP  # a fragment of the stop line, or the route's default exactly


def situation(given: Given) -> Situation:
    signals = [*order_numbers(given.text), *image_attachments([PHOTO] if given.photos else [])]
    evidence = check_evidence(SPECS[given.route].evidence, signals, given.text, given.order)
    return Situation(
        route=given.route,
        flags=given.flags,
        evidence=evidence,
        order=given.order,
        policy=POLICY,
        now=NOW,
        promise_window_end=given.promise_window_end,
        claimed_amount=given.claimed_amount,
    )


def case(name: str, given: Given, then: Then) -> object:
    return pytest.param(given, then, id=name)


CASES = [
    # shipping delay
    case(
        "shipping: inside the promise window",
        Given(Route.SHIPPING_DELAY, "order 1043", IN_TRANSIT, promise_window_end=WINDOW_ENDS),
        Then("inside_promise_window", stop_line_clear=False, escalate=False),
    ),
    case(
        "shipping: inside the window but the scan is stalled",
        Given(Route.SHIPPING_DELAY, "order 1043", STALLED, promise_window_end=NOW + timedelta(days=1)),
        Then("inside_promise_window", stop_line_clear=False, escalate=False),
    ),
    case(
        "shipping: past the promise window escalates",
        Given(Route.SHIPPING_DELAY, "order 1043", STALLED, promise_window_end=days_ago(1)),
        Then(
            "past_promise_window",
            stop_line_clear=True,
            escalate=True,
            escalation_reason="the promise window is missed",
            stop_line="Do not only send the tracking link",
        ),
    ),
    case(
        "shipping: carrier says lost",
        Given(
            Route.SHIPPING_DELAY, "#1043", order(last_scan_at=days_ago(1), last_scan_status=ScanStatus.LOST)
        ),
        Then(
            "loss_confirmed",
            stop_line_clear=True,
            escalate=True,
            escalation_reason="loss confirmed by the carrier",
            stop_line="Do not make the buyer wait for a further carrier check.",
        ),
    ),
    case(
        "shipping: carrier reports a delivery failure",
        Given(Route.SHIPPING_DELAY, "", order(last_scan_at=days_ago(2), last_scan_status=ScanStatus.FAILURE)),
        Then(
            "loss_confirmed",
            stop_line_clear=True,
            escalate=True,
            escalation_reason="loss confirmed by the carrier",
            stop_line="Do not make the buyer wait for a further carrier check.",
        ),
    ),
    case(
        "shipping: marked delivered but not received",
        Given(
            Route.SHIPPING_DELAY, "", order(delivered_at=days_ago(1), last_scan_status=ScanStatus.DELIVERED)
        ),
        Then(
            "delivered_not_received",
            stop_line_clear=False,
            escalate=False,
            stop_line="Do not refund or reship before the carrier's delivery proof is checked.",
        ),
    ),
    case(
        "shipping: returned to sender",
        Given(
            Route.SHIPPING_DELAY,
            "",
            order(last_scan_at=days_ago(1), last_scan_status=ScanStatus.RETURNED_TO_SENDER),
        ),
        Then(
            "refused_parcel",
            stop_line_clear=False,
            escalate=False,
            stop_line="Do not refund before the parcel is scanned back in.",
        ),
    ),
    case(
        "shipping: no order facts yet",
        Given(Route.SHIPPING_DELAY, "where is it"),
        Then("collect_order_facts", stop_line_clear=False, escalate=False),
    ),
    # refund or return
    case(
        "refund: not shipped yet is a pre-shipment cancel",
        Given(Route.REFUND_RETURN, "order 1043", UNFULFILLED),
        Then(
            "pre_shipment_cancel",
            stop_line_clear=True,
            escalate=False,
            stop_line="Do not let the warehouse ship it while the refund is pending.",
        ),
    ),
    case(
        "refund: photos missing means collect proof",
        Given(Route.REFUND_RETURN, "order 1043", DELIVERED_5_DAYS_AGO),
        Then(
            "collect_proof",
            stop_line_clear=False,
            escalate=False,
            stop_line="Collect proof first: no refund, no reship and no rejection yet.",
        ),
    ),
    case(
        "refund: order number missing means collect proof",
        Given(Route.REFUND_RETURN, "see photos", None, photos=True),
        Then(
            "collect_proof",
            stop_line_clear=False,
            escalate=False,
            stop_line="Collect proof first: no refund, no reship and no rejection yet.",
        ),
    ),
    case(
        "refund: preference return inside the window clears the stop line",
        Given(Route.REFUND_RETURN, "order 1043", DELIVERED_5_DAYS_AGO, photos=True),
        Then(
            "preference_return",
            stop_line_clear=True,
            escalate=False,
            stop_line="Refund only once the item is back and in the stated condition.",
        ),
    ),
    case(
        "refund: preference return outside the window escalates",
        Given(Route.REFUND_RETURN, "order 1043", DELIVERED_40_DAYS_AGO, photos=True),
        Then(
            "outside_return_window",
            stop_line_clear=False,
            escalate=True,
            escalation_reason="outside the return window",
            stop_line="Do not refuse or grant an exception on the frontline.",
        ),
    ),
    case(
        "refund: no delivery date yet keeps the stop line",
        Given(Route.REFUND_RETURN, "#1043", None, photos=True),
        Then(
            "preference_return",
            stop_line_clear=False,
            escalate=False,
            stop_line="Do not refund before the item is back and inspected",
        ),
    ),
    case(
        "refund: a refused parcel waits for the warehouse scan",
        Given(Route.REFUND_RETURN, "", order(last_scan_at=days_ago(1), last_scan_status=ScanStatus.REFUSED)),
        Then(
            "refused_parcel",
            stop_line_clear=False,
            escalate=False,
            stop_line="Do not refund before the parcel is scanned back in.",
        ),
    ),
    # store faults
    case(
        "damaged: with a photo the store owns it",
        Given(Route.DAMAGED_ITEM, "order 1043", DELIVERED_5_DAYS_AGO, photos=True),
        Then(
            "damaged_store_fault",
            stop_line_clear=True,
            escalate=True,
            escalation_reason="a replacement or refund is needed",
            pause_automation=True,
            stop_line="Do not charge the buyer return shipping or ask them to prove it again.",
        ),
    ),
    case(
        "damaged: without a photo collect proof first",
        Given(Route.DAMAGED_ITEM, "order 1043", DELIVERED_5_DAYS_AGO),
        Then("damaged_collect_proof", stop_line_clear=False, escalate=False, pause_automation=True),
    ),
    case(
        "wrong item: with a photo the store owns it",
        Given(Route.WRONG_ITEM, "#1043", DELIVERED_5_DAYS_AGO, photos=True),
        Then(
            "wrong_item_store_fault",
            stop_line_clear=True,
            escalate=True,
            escalation_reason="a replacement or refund is needed",
            pause_automation=True,
            stop_line="Do not charge the buyer return shipping or ask them to prove it again.",
        ),
    ),
    case(
        "wrong item: without a photo collect proof first",
        Given(Route.WRONG_ITEM, "#1043"),
        Then("wrong_item_collect_proof", stop_line_clear=False, escalate=False, pause_automation=True),
    ),
    # chargeback risk
    case(
        "chargeback: always escalates and pauses automation",
        Given(Route.CHARGEBACK_RISK, "#1043", IN_TRANSIT),
        Then(
            "same_day_lead_review",
            stop_line_clear=False,
            escalate=True,
            escalation_reason="chargeback risk always escalates the same business day",
            pause_automation=True,
        ),
    ),
    case(
        "chargeback: even with no order and a small amount",
        Given(Route.CHARGEBACK_RISK, "", None, frozenset({"asks_refund"}), claimed_amount=Decimal("5")),
        Then(
            "same_day_lead_review",
            stop_line_clear=False,
            escalate=True,
            escalation_reason="chargeback risk always escalates the same business day",
            pause_automation=True,
        ),
    ),
    # cancel or change
    case(
        "cancel: already fulfilled offers the return path",
        Given(Route.CANCEL_OR_CHANGE, "order 1043", IN_TRANSIT),
        Then(
            "already_fulfilled",
            stop_line_clear=False,
            escalate=True,
            escalation_reason="the order is already fulfilled",
            stop_line="Do not promise a cancellation the warehouse can no longer make.",
        ),
    ),
    case(
        "cancel: not fulfilled acts now",
        Given(Route.CANCEL_OR_CHANGE, "order 1043", UNFULFILLED),
        Then(
            "act_before_fulfilment",
            stop_line_clear=True,
            escalate=False,
            stop_line="Do not wait for the normal queue while the warehouse ships it.",
        ),
    ),
    case(
        "cancel: no order facts checks fulfilment first",
        Given(Route.CANCEL_OR_CHANGE, "please cancel"),
        Then("check_fulfilment", stop_line_clear=False, escalate=False),
    ),
    # the common boundaries
    case(
        "refund limit: a claimed amount above it escalates",
        Given(
            Route.REFUND_RETURN,
            "order 1043",
            DELIVERED_5_DAYS_AGO,
            frozenset({"asks_refund"}),
            photos=True,
            claimed_amount=Decimal("120.00"),
        ),
        Then(
            "preference_return",
            stop_line_clear=True,
            escalate=True,
            escalation_reason="the amount (120.00 USD) is above the frontline refund limit (50.00 USD)",
            stop_line="Refund only once the item is back and in the stated condition.",
        ),
    ),
    case(
        "refund limit: the order value counts when no amount was written",
        Given(
            Route.REFUND_RETURN,
            "order 1043",
            order(
                fulfilled_at=days_ago(9),
                delivered_at=days_ago(5),
                last_scan_status=ScanStatus.DELIVERED,
                total=Decimal("89.90"),
            ),
            frozenset({"asks_refund"}),
        ),
        Then(
            "collect_proof",
            stop_line_clear=False,
            escalate=True,
            escalation_reason="the amount (89.90 USD) is above the frontline refund limit (50.00 USD)",
            stop_line="Collect proof first",
        ),
    ),
    case(
        "refund limit: an amount at the limit stays on the frontline",
        Given(
            Route.REFUND_RETURN,
            "order 1043",
            DELIVERED_5_DAYS_AGO,
            frozenset({"asks_refund"}),
            photos=True,
            claimed_amount=Decimal("50.00"),
        ),
        Then(
            "preference_return",
            stop_line_clear=True,
            escalate=False,
            stop_line="Refund only once the item is back",
        ),
    ),
    case(
        "refund limit: a large amount without a refund request does not escalate",
        Given(
            Route.SHIPPING_DELAY,
            "order 1043",
            IN_TRANSIT,
            promise_window_end=WINDOW_ENDS,
            claimed_amount=Decimal("900"),
        ),
        Then("inside_promise_window", stop_line_clear=False, escalate=False),
    ),
    case(
        "angry: pauses automation without escalating",
        Given(
            Route.SHIPPING_DELAY,
            "order 1043",
            IN_TRANSIT,
            frozenset({"angry"}),
            promise_window_end=WINDOW_ENDS,
        ),
        Then("inside_promise_window", stop_line_clear=False, escalate=False, pause_automation=True),
    ),
    case(
        "dispute threat: escalates any route the same day",
        Given(
            Route.SHIPPING_DELAY,
            "order 1043",
            IN_TRANSIT,
            frozenset({"threatens_dispute"}),
            promise_window_end=WINDOW_ENDS,
        ),
        Then(
            "inside_promise_window",
            stop_line_clear=False,
            escalate=True,
            escalation_reason="the buyer threatens a dispute: the lead handles it the same day",
        ),
    ),
    case(
        "review: pauses review requests and marketing",
        Given(Route.REVIEW, "two stars"),
        Then("pause_and_follow_up", stop_line_clear=False, escalate=False, pause_automation=True),
    ),
    case(
        "pre-purchase: answer with its time",
        Given(Route.PRE_PURCHASE, "does it fit a cup holder"),
        Then("answer", stop_line_clear=False, escalate=False),
    ),
]


@pytest.mark.parametrize(("given", "then"), CASES)
def test_decide(given: Given, then: Then) -> None:
    # when
    decision = decide(situation(given), DEFAULT_STOP)

    # then
    assert (
        decision.segment,
        decision.stop_line_clear,
        decision.escalate,
        decision.escalation_reason,
        decision.pause_automation,
    ) == (then.segment, then.stop_line_clear, then.escalate, then.escalation_reason, then.pause_automation)
    if then.stop_line == DEFAULT_STOP:
        assert decision.stop_line == DEFAULT_STOP
    else:
        assert decision.stop_line.startswith(then.stop_line), decision.stop_line


def test_inside_the_window_the_facts_name_the_scan_and_the_promise() -> None:
    given = Given(Route.SHIPPING_DELAY, "order 1043", IN_TRANSIT, promise_window_end=WINDOW_ENDS)

    decision = decide(situation(given), DEFAULT_STOP)

    assert decision.facts == (
        "last scan 2026-11-23 10:00 (1 day ago): in_transit, Memphis, TN",
        "promise window: delivery promised by 2026-11-26",
    )
    assert decision.action.startswith("Inside the promise window: state the last scan")


def test_a_stalled_scan_is_named_and_the_carrier_check_is_due_within_a_day() -> None:
    given = Given(Route.SHIPPING_DELAY, "order 1043", STALLED, promise_window_end=NOW + timedelta(days=1))

    decision = decide(situation(given), DEFAULT_STOP)

    assert decision.facts[-1] == "no scan for more than 4 days: stalled"
    assert "open a carrier check within 24 hours" in decision.action


def test_the_return_window_dates_are_in_the_facts() -> None:
    inside = decide(
        situation(Given(Route.REFUND_RETURN, "order 1043", DELIVERED_5_DAYS_AGO, photos=True)), DEFAULT_STOP
    )
    outside = decide(
        situation(Given(Route.REFUND_RETURN, "order 1043", DELIVERED_40_DAYS_AGO, photos=True)), DEFAULT_STOP
    )

    assert inside.facts == ("delivered 2026-11-19; return window closes 2026-12-19",)
    assert outside.facts == ("delivered 2026-10-15; return window closes 2026-11-14",)
    assert "return shipping is paid by the customer" in inside.action


def test_a_refused_parcel_is_refunded_less_the_return_shipping_the_buyer_pays() -> None:
    given = Given(Route.SHIPPING_DELAY, "", order(last_scan_status=ScanStatus.REFUSED))

    decision = decide(situation(given), DEFAULT_STOP)

    assert decision.action.startswith("Refused or returned parcel: refund less the return shipping")


@settings(max_examples=150, deadline=None)
@given(
    flags=st.frozensets(st.sampled_from(FLAG_NAMES)),
    amount=st.none() | st.decimals(min_value=0, max_value=10_000, places=2),
    with_order=st.booleans(),
)
def test_a_chargeback_always_escalates_and_pauses_automation(
    flags: frozenset[str], amount: Decimal | None, with_order: bool
) -> None:
    given = Given(
        Route.CHARGEBACK_RISK, "#1043", IN_TRANSIT if with_order else None, flags, claimed_amount=amount
    )

    decision: Decision = decide(situation(given), DEFAULT_STOP)

    assert (decision.segment, decision.escalate, decision.pause_automation) == (
        "same_day_lead_review",
        True,
        True,
    )
    assert decision.escalation_reason == "chargeback risk always escalates the same business day"
    assert decision.stop_line_clear is False

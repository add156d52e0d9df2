"""The first-order incident router: the safe path and the stop line, from order facts and policy.

Shipping delay: inside the promise window give the update time; past it compensate or
reship; confirmed loss goes to refund/reship review. Refunds are segmented (pre-shipment
cancel, shipping exception, quality issue, wrong item, preference return, refused parcel)
and each segment has its own boundary. Chargebacks are handled the same day by the lead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from aftersales.domain.evidence import EvidenceChecklist
from aftersales.domain.orders import BOUNCED_STATUSES, LOSS_STATUSES, OrderFacts, ScanStatus
from aftersales.domain.policy import Payer, ReturnReason, StorePolicy
from aftersales.domain.routes import Route
from aftersales.domain.sla.delivery_window import last_promised_day

AUTOMATION_PAUSE_ROUTES = frozenset(
    {Route.DAMAGED_ITEM, Route.WRONG_ITEM, Route.CHARGEBACK_RISK, Route.REVIEW}
)


@dataclass(frozen=True, slots=True)
class Situation:
    """Everything a decision may read; built by the service from the routing and the order."""

    route: Route
    flags: frozenset[str]
    evidence: EvidenceChecklist
    order: OrderFacts | None
    policy: StorePolicy
    now: datetime
    promise_window_end: datetime | None = None
    claimed_amount: Decimal | None = None  # the largest amount the buyer wrote


@dataclass(frozen=True, slots=True)
class Decision:
    segment: str  # a stable slug: inside_promise_window, preference_return, collect_proof ...
    action: str  # the safe next step, one sentence
    stop_line: str  # what must not happen yet
    _: KW_ONLY
    stop_line_clear: bool  # True once the evidence allows a refund or reship
    escalate: bool
    escalation_reason: str = ""
    pause_automation: bool = False
    facts: tuple[str, ...] = field(default_factory=tuple)  # order facts the decision used


def decide(situation: Situation, default_stop_line: str) -> Decision:
    rule = _RULES.get(situation.route, _answer_or_close)
    decision = rule(situation, default_stop_line)
    return _with_common_boundaries(decision, situation)


def _with_common_boundaries(decision: Decision, s: Situation) -> Decision:
    escalate, reason = decision.escalate, decision.escalation_reason
    if "threatens_dispute" in s.flags and not escalate:
        escalate, reason = True, "the buyer threatens a dispute: the lead handles it the same day"
    amount = s.claimed_amount or (s.order.order_value if s.order else None)
    if "asks_refund" in s.flags and amount and amount > s.policy.frontline_refund_limit and not escalate:
        escalate = True
        reason = (
            f"the amount ({amount} {s.policy.currency}) is above the frontline refund limit "
            f"({s.policy.frontline_refund_limit} {s.policy.currency})"
        )
    pause = decision.pause_automation or s.route in AUTOMATION_PAUSE_ROUTES or "angry" in s.flags
    return Decision(
        decision.segment,
        decision.action,
        decision.stop_line,
        stop_line_clear=decision.stop_line_clear,
        escalate=escalate,
        escalation_reason=reason,
        pause_automation=pause,
        facts=decision.facts,
    )


def _fmt(moment: datetime, now: datetime) -> str:
    days = (now - moment).days
    when = "today" if days == 0 else f"{days} day{'s' if days != 1 else ''} ago"
    return f"{moment:%Y-%m-%d %H:%M} ({when})"


def _scan_facts(order: OrderFacts, now: datetime) -> tuple[str, ...]:
    facts = []
    if order.last_scan_at:
        status = order.last_scan_status.value if order.last_scan_status else "unknown"
        where = f", {order.last_scan_location}" if order.last_scan_location else ""
        facts.append(f"last scan {_fmt(order.last_scan_at, now)}: {status}{where}")
    if order.delivered_at:
        facts.append(f"delivered {_fmt(order.delivered_at, now)}")
    return tuple(facts)


def _shipping_delay(s: Situation, default_stop: str) -> Decision:
    order = s.order
    if order is None:
        return Decision(
            "collect_order_facts",
            "Find the order and its last tracking scan, then state the promise window and the next update time.",
            default_stop,
            stop_line_clear=False,
            escalate=False,
        )
    facts = _scan_facts(order, s.now)
    if s.promise_window_end:
        facts += (f"promise window: delivery promised by {last_promised_day(s.promise_window_end):%Y-%m-%d}",)
    status = order.last_scan_status
    if status in LOSS_STATUSES:
        return Decision(
            "loss_confirmed",
            "The carrier confirms the loss: move into refund/reship review now.",
            "Do not make the buyer wait for a further carrier check.",
            stop_line_clear=True,
            escalate=True,
            escalation_reason="loss confirmed by the carrier",
            facts=facts,
        )
    if status in BOUNCED_STATUSES:
        return _refused_parcel(s, facts)
    if order.delivered_at or status is ScanStatus.DELIVERED:
        return Decision(
            "delivered_not_received",
            "Marked delivered but not received: check the delivery proof (photo, GPS, signature) with the carrier and ask the buyer to check neighbours and safe places; set the next update time.",
            "Do not refund or reship before the carrier's delivery proof is checked.",
            stop_line_clear=False,
            escalate=False,
            facts=facts,
        )
    stalled = _is_stalled(order, s.now, s.policy.stalled_scan_days)
    if stalled:
        facts += (f"no scan for more than {s.policy.stalled_scan_days} days: stalled",)
    if s.promise_window_end and s.now > s.promise_window_end:
        return Decision(
            "past_promise_window",
            "The promise window is missed: offer compensation or a reship per policy, and open a carrier trace.",
            "Do not only send the tracking link; do not refund in full before the reship/compensation option is offered.",
            stop_line_clear=True,
            escalate=True,
            escalation_reason="the promise window is missed",
            facts=facts,
        )
    action = "Inside the promise window: state the last scan and the window, open a carrier check, and give the next update time."
    if stalled:
        action = "Inside the promise window but the scan is stalled: open a carrier check within 24 hours and give the next update time."
    return Decision(
        "inside_promise_window", action, default_stop, stop_line_clear=False, escalate=False, facts=facts
    )


def _is_stalled(order: OrderFacts, now: datetime, stalled_days: int) -> bool:
    return order.last_scan_at is not None and now - order.last_scan_at > timedelta(days=stalled_days)


def _refused_parcel(s: Situation, facts: tuple[str, ...]) -> Decision:
    payer = s.policy.return_shipping_payer.get(ReturnReason.PREFERENCE, Payer.CUSTOMER)
    cost = "less the return shipping" if payer is Payer.CUSTOMER else "in full"
    return Decision(
        "refused_parcel",
        f"Refused or returned parcel: refund {cost} once it is back at the warehouse, or reship if the buyer still wants it.",
        "Do not refund before the parcel is scanned back in.",
        stop_line_clear=False,
        escalate=False,
        facts=facts,
    )


def _refund_return(s: Situation, default_stop: str) -> Decision:
    order = s.order
    if order is not None and not order.is_fulfilled and order.cancelled_at is None:
        return Decision(
            "pre_shipment_cancel",
            "Not shipped yet: cancel and refund now, before fulfilment.",
            "Do not let the warehouse ship it while the refund is pending.",
            stop_line_clear=True,
            escalate=False,
        )
    if order is not None and order.last_scan_status in BOUNCED_STATUSES:
        return _refused_parcel(s, _scan_facts(order, s.now))
    # a typed order number is enough to go on; a photo only counts when one came
    if not (s.evidence.given("order_number") and s.evidence.has("photos")):
        return Decision(
            "collect_proof",
            "Ask once for the order number, the reason, photos, the item state and the package state.",
            "Collect proof first: no refund, no reship and no rejection yet.",
            stop_line_clear=False,
            escalate=False,
        )
    return _preference_return(s)


def _preference_return(s: Situation) -> Decision:
    order, policy = s.order, s.policy
    payer = policy.return_shipping_payer.get(ReturnReason.PREFERENCE, Payer.CUSTOMER)
    if order is None or order.delivered_at is None:
        return Decision(
            "preference_return",
            f"Preference return: check the delivery date against the {policy.return_window_days}-day window and the item state; return shipping is paid by the {payer}.",
            "Do not refund before the item is back and inspected, unless the policy says otherwise.",
            stop_line_clear=False,
            escalate=False,
        )
    closes = order.delivered_at + timedelta(days=policy.return_window_days)
    facts = (f"delivered {order.delivered_at:%Y-%m-%d}; return window closes {closes:%Y-%m-%d}",)
    if s.now > closes:
        return Decision(
            "outside_return_window",
            "Outside the return window: explain the policy kindly and hand any exception to the lead.",
            "Do not refuse or grant an exception on the frontline.",
            stop_line_clear=False,
            escalate=True,
            escalation_reason="outside the return window",
            facts=facts,
        )
    return Decision(
        "preference_return",
        f"Inside the {policy.return_window_days}-day window: send the return instructions; return shipping is paid by the {payer}; refund after inspection.",
        "Refund only once the item is back and in the stated condition.",
        stop_line_clear=True,
        escalate=False,
        facts=facts,
    )


def _store_fault(kind: str, write_back: str) -> Callable[[Situation, str], Decision]:
    def rule(s: Situation, default_stop: str) -> Decision:
        has_photo = s.evidence.has("damage_photo") or s.evidence.has("received_item_photo")
        facts = _scan_facts(s.order, s.now) if s.order else ()
        if not has_photo:
            return Decision(
                f"{kind}_collect_proof",
                "Collect the photos, the order number and the SKU first; then decide reship, partial refund or return/refund.",
                default_stop,
                stop_line_clear=False,
                escalate=False,
                facts=facts,
            )
        return Decision(
            f"{kind}_store_fault",
            f"Store fault with proof in hand: reship or refund first, at the store's cost; then {write_back}.",
            "Do not charge the buyer return shipping or ask them to prove it again.",
            stop_line_clear=True,
            escalate=True,
            escalation_reason="a replacement or refund is needed",
            facts=facts,
        )

    return rule


def _chargeback(s: Situation, default_stop: str) -> Decision:
    facts = _scan_facts(s.order, s.now) if s.order else ()
    return Decision(
        "same_day_lead_review",
        "Same business day: the lead reviews the order timeline and preserves order, payment, tracking, delivery proof, conversation, policy version and refund records.",
        default_stop,
        stop_line_clear=False,
        escalate=True,
        escalation_reason="chargeback risk always escalates the same business day",
        pause_automation=True,
        facts=facts,
    )


def _cancel_or_change(s: Situation, default_stop: str) -> Decision:
    order = s.order
    if order is None:
        return Decision(
            "check_fulfilment",
            "Check the fulfilment status before promising the cancel or change.",
            default_stop,
            stop_line_clear=False,
            escalate=False,
        )
    if order.is_fulfilled:
        return Decision(
            "already_fulfilled",
            "Already shipped: offer the return path (or refusing the delivery) instead of a cancel.",
            "Do not promise a cancellation the warehouse can no longer make.",
            stop_line_clear=False,
            escalate=True,
            escalation_reason="the order is already fulfilled",
            facts=_scan_facts(order, s.now),
        )
    return Decision(
        "act_before_fulfilment",
        "Not shipped yet: make the cancel or change now and confirm it in writing.",
        "Do not wait for the normal queue while the warehouse ships it.",
        stop_line_clear=True,
        escalate=False,
    )


def _review(s: Situation, default_stop: str) -> Decision:
    return Decision(
        "pause_and_follow_up",
        "Pause review requests and marketing for this buyer; reply publicly with the support entry; check the order, shipping, product and refund state privately.",
        default_stop,
        stop_line_clear=False,
        escalate=False,
        pause_automation=True,
    )


def _answer_or_close(s: Situation, default_stop: str) -> Decision:
    return Decision(
        "answer", "Answer what was asked, with its time.", default_stop, stop_line_clear=False, escalate=False
    )


_RULES: Mapping[Route, Callable[[Situation, str], Decision]] = {
    Route.SHIPPING_DELAY: _shipping_delay,
    Route.REFUND_RETURN: _refund_return,
    Route.DAMAGED_ITEM: _store_fault("damaged", "check the SKU and batch for a supplier review"),
    Route.WRONG_ITEM: _store_fault("wrong_item", "check the pick record and SKU naming"),
    Route.CHARGEBACK_RISK: _chargeback,
    Route.CANCEL_OR_CHANGE: _cancel_or_change,
    Route.REVIEW: _review,
}

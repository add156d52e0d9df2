"""Apply what the shop reports (webhooks, an Admin API snapshot) to the desk's orders and cases.

A webhook delivery is one unit of work: its X-Shopify-Webhook-Id is recorded with its effects,
so a delivery Shopify retries, or sends twice, has one effect. Deliveries come out of order: an
order or dispute keeps the shop's updated_at it was written from, and an older payload is
recorded as received but changes nothing; refunds are kept by their own id, so an order payload
that leaves one out does not remove it. A dispute opens a chargeback-risk case for the order's
buyer, or turns their open case on that order into one, and runs a clock to the dispute's
evidence due date.
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from aftersales.domain.cases import Event
from aftersales.domain.messages import Channel, InboundMessage
from aftersales.domain.orders import (
    Dispute,
    OrderFacts,
    OrderSnapshot,
    linked_to_policy,
    with_stored_tracking,
    with_tracking_event,
)
from aftersales.domain.outgoing import mail_domain, unguessable_message_id
from aftersales.domain.routes import Route
from aftersales.domain.shop_events import (
    ConflictingOrder,
    FulfillmentUpdate,
    OrderWriteConflict,
    RefundRecord,
    ScanReport,
    ShopEvent,
    ShopOrder,
    is_stale,
    latest,
    with_stored_refunds,
)
from aftersales.ports import CaseRepository, CustomerStore, OrderStore, UnitOfWork
from aftersales.services.clocks import refresh_clocks
from aftersales.services.intake import Incoming, receive
from aftersales.services.routing import RoutingKit


class _CustomersAndOrders(CustomerStore, OrderStore, Protocol):
    """What saving a shop order touches: the order and its buyer."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One webhook delivery, its signature already checked and its payload read."""

    webhook_id: str
    topic: str
    shop: str
    event: ShopEvent | None  # None: a topic the desk records but does not act on


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    duplicate: bool
    outcome: str  # what it did, in a few words ("order #1043 saved", "dispute 77 opened case 12")
    case_id: int | None = None


def handle_delivery(uow: UnitOfWork, kit: RoutingKit, delivery: Delivery, *, now: datetime) -> DeliveryResult:
    """Apply the delivery once. Two deliveries that make the same new order at once: the one
    that loses the race is applied again over the winner's order. A payload that contradicts
    the stored orders raises `ConflictingOrder` and records nothing."""
    try:
        return _handle_once(uow, kit, delivery, now)
    except OrderWriteConflict:
        return _handle_once(uow, kit, delivery, now)


def _handle_once(uow: UnitOfWork, kit: RoutingKit, delivery: Delivery, now: datetime) -> DeliveryResult:
    with uow() as cases:
        if not cases.record_delivery(delivery.webhook_id, delivery.topic, delivery.shop, now):
            return DeliveryResult(duplicate=True, outcome="already received")
        if delivery.event is None:
            outcome, case_id = f"ignored: the desk does not act on {delivery.topic}", None
        else:
            outcome, case_id = apply_event(cases, kit, delivery.event, now=now, shop=delivery.shop)
        cases.set_delivery_outcome(delivery.webhook_id, outcome)
        return DeliveryResult(duplicate=False, outcome=outcome, case_id=case_id)


def apply_snapshot(uow: UnitOfWork, kit: RoutingKit, snapshot: OrderSnapshot, *, now: datetime) -> list[str]:
    """Store an order as the Admin API describes it: facts, every scan, every dispute."""
    # the answer is the order as it stands now: its updatedAt, else the time it was asked
    order = snapshot.order
    order = dataclasses.replace(order, shopify_updated_at=order.shopify_updated_at or now)
    with uow() as cases:
        outcomes = [apply_event(cases, kit, ShopOrder(order, snapshot.email, snapshot.name), now=now)[0]]
        shopify_id = snapshot.order.shopify_id or ""
        for scan in snapshot.tracking_events:
            outcomes.append(_apply_scan(cases, ScanReport(shopify_id, scan), now, snapshot.order.number))
        for dispute in snapshot.disputes:
            with_order = dataclasses.replace(dispute, order_number=snapshot.order.number)
            outcomes.append(_apply_dispute(cases, kit, with_order, now, shop="")[0])
        return outcomes


def apply_event(
    cases: CaseRepository, kit: RoutingKit, event: ShopEvent, *, now: datetime, shop: str = ""
) -> tuple[str, int | None]:
    """Apply one change inside the caller's unit of work: what it did, and the case it touched."""
    match event:
        case ShopOrder():
            return _apply_order(cases, event, now), None
        case FulfillmentUpdate():
            return _apply_fulfillment(cases, event, now), None
        case ScanReport():
            return _apply_scan(cases, event, now), None
        case RefundRecord():
            return _apply_refund(cases, event, now), None
        case Dispute():
            return _apply_dispute(cases, kit, event, now, shop)


def _apply_order(cases: _CustomersAndOrders, shop_order: ShopOrder, now: datetime) -> str:
    incoming = shop_order.order
    cases.lock_order(incoming.number)
    stored = cases.order(incoming.number)
    _refuse_conflicts(cases, incoming, stored)
    if stored is not None and is_stale(incoming.shopify_updated_at, stored.shopify_updated_at):
        return f"order {incoming.number} unchanged: the payload is older than the stored order"
    merged = with_stored_refunds(with_stored_tracking(incoming, stored), stored)
    order = linked_to_policy(merged, cases.policy_versions())
    if order == stored:
        return f"order {order.number} unchanged"
    email = shop_order.email
    customer = cases.customer_id(email, shop_order.name, order.placed_at or now) if email else None
    cases.save_order(order, customer, now)
    return f"order {order.number} {'saved' if stored is None else 'updated'}"


def _refuse_conflicts(cases: OrderStore, incoming: OrderFacts, stored: OrderFacts | None) -> None:
    """An order keeps its number and its Admin API id: a payload pairing them otherwise is
    refused (storing it would merge two orders, or fail on their unique keys)."""
    number, shopify_id = incoming.number, incoming.shopify_id
    if not shopify_id:
        return
    holder = cases.order_number_for(shopify_id)
    if holder is not None and holder != number:
        raise ConflictingOrder(f"order id {shopify_id} is order {holder} here, not order {number}", "name")
    if stored is not None and stored.shopify_id and stored.shopify_id != shopify_id:
        raise ConflictingOrder(f"order {number} has id {stored.shopify_id} here, not {shopify_id}", "id")


def _stored_order(cases: OrderStore, shopify_id: str, number: str | None = None) -> OrderFacts | None:
    """The stored order, locked for the rest of the unit of work: it is about to change."""
    number = number or (cases.order_number_for(shopify_id) if shopify_id else None)
    if not number:
        return None
    cases.lock_order(number)
    return cases.order(number)


def _apply_fulfillment(cases: OrderStore, update: FulfillmentUpdate, now: datetime) -> str:
    order = _stored_order(cases, update.order_shopify_id)
    if order is None:
        return f"unknown order {update.order_shopify_id}: fulfilment not stored"
    numbers = tuple(dict.fromkeys((*order.tracking_numbers, *update.tracking_numbers)))
    # an order payload newer than the fulfilment already told its carrier: a late fulfilment
    # only fills in what is missing (its scan, keyed, is added either way)
    late = is_stale(update.updated_at, order.shopify_updated_at)
    changed = dataclasses.replace(
        order,
        fulfilled_at=order.fulfilled_at or update.fulfilled_at,
        carrier=(order.carrier or update.carrier) if late else (update.carrier or order.carrier),
        tracking_numbers=numbers,
    )
    if update.scan is not None and cases.add_tracking_event(order.number, update.scan):
        changed = with_tracking_event(changed, update.scan)
    if changed != order:
        cases.update_order_row(changed, now)
    return f"fulfilment of order {order.number} stored"


def _apply_scan(cases: OrderStore, report: ScanReport, now: datetime, number: str | None = None) -> str:
    order = _stored_order(cases, report.order_shopify_id, number)
    if order is None:
        return f"unknown order {report.order_shopify_id}: scan not stored"
    if not cases.add_tracking_event(order.number, report.scan):
        return f"scan {report.scan.event_id} of order {order.number} already stored"
    changed = with_tracking_event(order, report.scan)
    if changed != order:
        cases.update_order_row(changed, now)
    return f"scan {report.scan.status.value} of order {order.number} stored"


def _apply_refund(cases: OrderStore, record: RefundRecord, now: datetime) -> str:
    order = _stored_order(cases, record.order_shopify_id)
    if order is None:
        return f"unknown order {record.order_shopify_id}: refund not stored"
    refund = record.refund
    if refund in order.refunds or (
        refund.shopify_id and refund.shopify_id in {r.shopify_id for r in order.refunds}
    ):
        return f"refund of order {order.number} already stored"
    if refund.shopify_id:  # by id: it replaces a refunded total an export gave
        changed = with_stored_refunds(dataclasses.replace(order, refunds=(refund,)), order)
    else:
        changed = dataclasses.replace(order, refunds=(*order.refunds, refund))
    cases.save_order(changed, None, now)
    return f"refund of {record.refund.amount} on order {order.number} stored"


def _apply_dispute(
    cases: CaseRepository, kit: RoutingKit, dispute: Dispute, now: datetime, shop: str
) -> tuple[str, int | None]:
    number = dispute.order_number or cases.order_number_for(dispute.order_shopify_id) or ""
    dispute = dataclasses.replace(dispute, order_number=number)
    stored = cases.dispute(dispute.dispute_id)
    case_id = stored[1] if stored is not None else None
    if stored is not None:
        if is_stale(dispute.shopify_updated_at, stored[0].shopify_updated_at):
            return (
                f"dispute {dispute.dispute_id} unchanged: the payload is older than the stored one",
                case_id,
            )
        version = latest(dispute.shopify_updated_at, stored[0].shopify_updated_at)
        dispute = dataclasses.replace(dispute, shopify_updated_at=version)
    if stored is not None and stored[0] == dataclasses.replace(dispute, order_shopify_id=""):
        return f"dispute {dispute.dispute_id} unchanged", case_id
    if case_id is None:
        case_id = receive(
            cases,
            kit,
            Incoming(_dispute_message(cases, dispute, now, kit.policy.support_email), "shopify"),
            now=now,
        ).case_id
        kind, verb = "dispute_opened", "opened"
    else:
        kind, verb = "dispute_updated", "updated"
    cases.save_dispute(dispute, case_id, now)
    if case_id is None:
        return f"dispute {dispute.dispute_id} stored", None
    cases.add_event(case_id, Event(kind, now, "shopify", _dispute_data(dispute)))
    cases.update_case(case_id, {"updated_at": now})
    refresh_clocks(cases, kit, case_id, now)
    return f"dispute {dispute.dispute_id} {verb} case {case_id}", case_id


def _dispute_message(
    cases: OrderStore, dispute: Dispute, now: datetime, support_email: str
) -> InboundMessage:
    """The dispute as a message on the buyer's case, so it threads into the case they may
    already have open on the order and moves it to the chargeback route."""
    buyer = cases.order_customer(dispute.order_number) if dispute.order_number else None
    email, name = buyer or ("", "")
    amount = f"{dispute.amount} {dispute.currency}".strip() if dispute.amount is not None else "an amount"
    due = dispute.evidence_due_by.isoformat() if dispute.evidence_due_by else "not given"
    order = (
        f"order {dispute.order_number}" if dispute.order_number else f"order id {dispute.order_shopify_id}"
    )
    body = (
        f"Shopify Payments reports a {dispute.kind or 'dispute'} on {order}: reason "
        f"{dispute.reason or 'not given'}, {amount}, status {dispute.status or 'unknown'}. "
        f"Evidence is due by {due}."
    )
    return InboundMessage(
        # random: a guessable id ("dispute-<id>@<shop>") let a stranger's In-Reply-To thread in
        message_id=unguessable_message_id(mail_domain(support_email), "dispute", secrets.token_hex(16)),
        dedupe_key=f"shopify-dispute|{dispute.dispute_id}",
        channel=Channel.API,
        from_address=email,
        from_name=name or "Shopify Payments",
        to_addresses=(),
        subject=f"Payment dispute ({dispute.reason or dispute.kind or 'chargeback'}) on {order}",
        sent_at=dispute.initiated_at or now,
        body=body,
        full_body=body,
        html="",
        order_hint=dispute.order_number,
        route_hint=Route.CHARGEBACK_RISK,
    )


def _dispute_data(dispute: Dispute) -> dict[str, Any]:
    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment is not None else None

    return {
        "dispute_id": dispute.dispute_id,
        "kind": dispute.kind,
        "reason": dispute.reason,
        "status": dispute.status,
        "amount": str(dispute.amount) if dispute.amount is not None else None,
        "currency": dispute.currency,
        "evidence_due_by": iso(dispute.evidence_due_by),
        "evidence_sent_on": iso(dispute.evidence_sent_on),
        "finalized_on": iso(dispute.finalized_on),
    }

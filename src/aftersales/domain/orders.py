"""Order facts: the snapshot of a shop order that decisions read (mirrored, never edited here)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


class ScanStatus(StrEnum):
    """Carrier scan states, after Shopify's FulfillmentEventStatus, lower-cased."""

    LABEL_PURCHASED = "label_purchased"
    LABEL_PRINTED = "label_printed"
    CONFIRMED = "confirmed"
    CARRIER_PICKED_UP = "carrier_picked_up"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    ATTEMPTED_DELIVERY = "attempted_delivery"
    READY_FOR_PICKUP = "ready_for_pickup"
    DELAYED = "delayed"
    DELIVERED = "delivered"
    FAILURE = "failure"
    LOST = "lost"
    RETURNED_TO_SENDER = "returned_to_sender"
    REFUSED = "refused"


LOSS_STATUSES = frozenset({ScanStatus.FAILURE, ScanStatus.LOST})
BOUNCED_STATUSES = frozenset({ScanStatus.RETURNED_TO_SENDER, ScanStatus.REFUSED})


@dataclass(frozen=True, slots=True)
class LineItem:
    sku: str
    title: str = ""
    variant: str = ""
    quantity: int = 1
    price: Decimal = Decimal("0")
    gtin: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Address:
    """A postal address as the shop holds it (Shopify's MailingAddress); ``country`` is the
    ISO code and ``province`` the code where the source gives one ("TN")."""

    name: str = ""
    company: str = ""
    address1: str = ""
    address2: str = ""
    city: str = ""
    province: str = ""
    zip: str = ""
    country: str = ""
    phone: str = ""

    def __str__(self) -> str:
        return self.formatted()

    def formatted(self) -> str:
        """One line: "Ana Silva, 12 Elm St, Apt 4, Memphis TN 38103, US"."""
        place = " ".join(p for p in (self.city, self.province, self.zip) if p)
        parts = (self.name, self.company, self.address1, self.address2, place, self.country)
        return ", ".join(p for p in parts if p)

    @property
    def is_empty(self) -> bool:
        return not (self.formatted() or self.phone)

    def is_same_place(self, other: Address) -> bool:
        """Whether both name the same door: street line, postcode and country, compared
        without case, spaces or punctuation (names and phone numbers may differ)."""
        return bool(self.address1 and other.address1) and _place_key(self) == _place_key(other)


def _place_key(address: Address) -> tuple[str, str, str]:
    return (_folded(address.address1), _folded(address.zip), _folded(address.country))


def _folded(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalnum())


@dataclass(frozen=True, slots=True)
class Refund:
    amount: Decimal
    at: datetime
    reason: str = ""
    shopify_id: str = ""  # Shopify's refund id; "" for a refunded total (an export's)


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderFacts:
    number: str
    placed_at: datetime | None = None
    fulfilled_at: datetime | None = None
    delivered_at: datetime | None = None
    cancelled_at: datetime | None = None
    last_scan_at: datetime | None = None
    last_scan_status: ScanStatus | None = None
    last_scan_location: str = ""
    carrier: str = ""
    tracking_numbers: tuple[str, ...] = ()
    promise_window_end: datetime | None = None  # when the shop's promised delivery window closes
    destination: str = ""  # ISO country code
    items: tuple[LineItem, ...] = ()
    refunds: tuple[Refund, ...] = ()
    currency: str = ""
    total: Decimal | None = None
    policy_version: str = ""  # the policy page version in force when the order was placed
    shopify_id: str | None = None  # the Admin API's numeric id: webhooks name orders by it
    financial_status: str = ""  # Shopify's: paid, pending, refunded, partially_refunded …
    shipping_address: Address | None = None
    billing_address: Address | None = None
    # the shop's updated_at of what these facts were read from: an older payload changes nothing
    shopify_updated_at: datetime | None = None

    @property
    def is_fulfilled(self) -> bool:
        return self.fulfilled_at is not None or self.last_scan_status is not None

    @property
    def refunded(self) -> Decimal:
        return sum((r.amount for r in self.refunds), Decimal("0"))

    @property
    def order_value(self) -> Decimal:
        if self.total is not None:
            return self.total
        return sum((i.price * i.quantity for i in self.items), Decimal("0"))


@dataclass(frozen=True, slots=True)
class ImportedOrder:
    """An order read from a shop export, with the customer it belongs to and where it began."""

    order: OrderFacts
    email: str = ""
    name: str = ""
    line: int = 0


@dataclass(frozen=True, slots=True)
class OrderProblem:
    """An order (or a row) of a shop export that cannot be used: where, and why."""

    line: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackingEvent:
    """One carrier scan of a fulfilment (Shopify's FulfillmentEvent), kept for the timeline
    and the dispute packet; the newest one also moves the order's last scan."""

    event_id: str  # Shopify's id; events without one are keyed by fulfilment and status
    status: ScanStatus
    happened_at: datetime
    message: str = ""
    location: str = ""
    carrier: str = ""
    tracking_number: str = ""


# Shopify's dispute statuses while the merchant can still act; won, lost, accepted and
# charge_refunded close a dispute.
DISPUTE_OPEN_STATUSES = frozenset({"needs_response", "under_review", ""})


@dataclass(frozen=True, slots=True, kw_only=True)
class Dispute:
    """A Shopify Payments dispute (chargeback or inquiry) on an order."""

    dispute_id: str
    order_shopify_id: str = ""  # the order's Admin API id, as webhooks give it
    order_number: str = ""  # the order's name ("#1043"), when known
    kind: str = ""  # chargeback | inquiry
    reason: str = ""  # lower case: fraudulent, product_not_received …
    network_reason_code: str = ""
    status: str = ""  # needs_response, under_review, won, lost, accepted, charge_refunded
    amount: Decimal | None = None
    currency: str = ""
    evidence_due_by: datetime | None = None
    evidence_sent_on: datetime | None = None
    initiated_at: datetime | None = None
    finalized_on: datetime | None = None
    # the payload's updated_at, else its latest time: an older payload changes nothing
    shopify_updated_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status in DISPUTE_OPEN_STATUSES


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderSnapshot:
    """Everything the shop says about one order at one moment (the Admin API's answer):
    the order's facts, its buyer, every carrier scan and its disputes."""

    order: OrderFacts
    email: str = ""
    name: str = ""
    tracking_events: tuple[TrackingEvent, ...] = ()
    disputes: tuple[Dispute, ...] = ()


def with_tracking_event(order: OrderFacts, event: TrackingEvent) -> OrderFacts:
    """The order after a carrier scan: the newest scan is the last scan (an older one arriving
    late changes nothing), and a delivery scan sets the delivery time."""
    changes: dict[str, object] = {}
    if order.last_scan_at is None or event.happened_at >= order.last_scan_at:
        changes |= {
            "last_scan_at": event.happened_at,
            "last_scan_status": event.status,
            "last_scan_location": event.location,
        }
    if event.status is ScanStatus.DELIVERED and order.delivered_at is None:
        changes["delivered_at"] = event.happened_at
    if event.carrier and not order.carrier:
        changes["carrier"] = event.carrier
    if event.tracking_number and event.tracking_number not in order.tracking_numbers:
        changes["tracking_numbers"] = (*order.tracking_numbers, event.tracking_number)
    return replace(order, **changes) if changes else order  # type: ignore[arg-type]


def with_stored_tracking(incoming: OrderFacts, stored: OrderFacts | None) -> OrderFacts:
    """An order as the shop sends it now, keeping what only carrier scans told us: an order
    payload carries no scan history, so the stored last scan and delivery time stand unless
    the payload has newer ones; stored addresses stand when the payload has none."""
    if stored is None:
        return incoming
    keep_scan = stored.last_scan_at is not None and (
        incoming.last_scan_at is None or stored.last_scan_at > incoming.last_scan_at
    )
    return replace(
        incoming,
        last_scan_at=stored.last_scan_at if keep_scan else incoming.last_scan_at,
        last_scan_status=stored.last_scan_status if keep_scan else incoming.last_scan_status,
        last_scan_location=stored.last_scan_location if keep_scan else incoming.last_scan_location,
        delivered_at=incoming.delivered_at or stored.delivered_at,
        promise_window_end=incoming.promise_window_end or stored.promise_window_end,
        carrier=incoming.carrier or stored.carrier,
        tracking_numbers=incoming.tracking_numbers or stored.tracking_numbers,
        policy_version=incoming.policy_version or stored.policy_version,
        shipping_address=incoming.shipping_address or stored.shipping_address,
        billing_address=incoming.billing_address or stored.billing_address,
    )


def address_or_none(address: Address) -> Address | None:
    """The address, or None when every field is blank (a source with no address)."""
    return None if address.is_empty else address


def linked_to_policy(order: OrderFacts, versions: Sequence[tuple[datetime, str]]) -> OrderFacts:
    """The order linked to the store policy texts in force when it was placed (the seed's
    "policy page version" evidence), unless its source already named a version. ``versions``
    is every version as (effective time, label), oldest first."""
    if order.policy_version or order.placed_at is None:
        return order
    placed = order.placed_at
    in_force = [label for effective, label in versions if effective <= placed]
    return replace(order, policy_version=in_force[-1]) if in_force else order

"""What the shop tells the desk about its orders, one change at a time (a webhook's payload
read into plain records): an order as it now stands, a fulfilment, a carrier scan, a refund
or a payment dispute."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aftersales.domain.orders import Dispute, OrderFacts, Refund, TrackingEvent


@dataclass(frozen=True, slots=True)
class ShopOrder:
    """An order as the shop sends it, and the buyer it belongs to."""

    order: OrderFacts
    email: str = ""
    name: str = ""


@dataclass(frozen=True, slots=True)
class FulfillmentUpdate:
    """A fulfilment of an order: carrier, tracking numbers, and the scan it reports, if any."""

    order_shopify_id: str
    fulfilled_at: datetime | None
    carrier: str = ""
    tracking_numbers: tuple[str, ...] = ()
    scan: TrackingEvent | None = None


@dataclass(frozen=True, slots=True)
class ScanReport:
    """One carrier scan of an order's fulfilment (a fulfilment event)."""

    order_shopify_id: str
    scan: TrackingEvent


@dataclass(frozen=True, slots=True)
class RefundRecord:
    order_shopify_id: str
    refund: Refund


ShopEvent = ShopOrder | FulfillmentUpdate | ScanReport | RefundRecord | Dispute

"""What the shop tells the desk about its orders, one change at a time (a webhook's payload
read into plain records): an order as it now stands, a fulfilment, a carrier scan, a refund
or a payment dispute."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from aftersales.domain.errors import AftersalesError, InputError
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
    updated_at: datetime | None = None  # the shop's, when the payload gives it


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


# --- keeping the shop's order of changes ------------------------------------------------------
# Shopify does not deliver webhooks in order, and retries a failed one hours later: each
# object keeps the shop's updated_at it was last written from, and a payload older than that
# changes nothing.


class ConflictingOrder(InputError):
    """An order payload whose number and Admin API id belong to two different stored orders."""


class OrderWriteConflict(AftersalesError):
    """Another transaction wrote the same new order meanwhile: the change is tried again."""


def latest(*moments: datetime | None) -> datetime | None:
    """The latest of the moments given; None when none is."""
    return max((m for m in moments if m is not None), default=None)


def order_version(order: OrderFacts) -> datetime | None:
    """When the shop last changed ``order`` as far as its facts tell: its updated_at, else the
    latest time it names (an export has no updated_at: placed, fulfilled, cancelled, refunded)."""
    return order.shopify_updated_at or latest(
        order.placed_at, order.fulfilled_at, order.cancelled_at, *(r.at for r in order.refunds)
    )


def is_stale(version: datetime | None, stored_version: datetime | None) -> bool:
    """Whether a payload of ``version`` is older than what is stored. A payload without a
    version, or of the same one, is applied (the last one wins, as Shopify's own retries do)."""
    return version is not None and stored_version is not None and version < stored_version


def with_stored_refunds(incoming: OrderFacts, stored: OrderFacts | None) -> OrderFacts:
    """The order's refunds after ``incoming``: refunds are the shop's records, keyed by their
    own id, so one stored before (from ``refunds/create``) stays when an order payload leaves
    it out. A refund without an id (an export's refunded total) stands for all of them, and is
    kept only while no refund by id is known. The version kept is the newer of the two."""
    if stored is None:
        return incoming
    by_id = {r.shopify_id: r for r in stored.refunds if r.shopify_id}
    by_id.update({r.shopify_id: r for r in incoming.refunds if r.shopify_id})
    refunds = tuple(by_id.values()) or tuple(r for r in incoming.refunds if not r.shopify_id)
    version = latest(incoming.shopify_updated_at, stored.shopify_updated_at)
    return replace(incoming, refunds=refunds, shopify_updated_at=version)

"""The order beside a case: its lines, fulfilment and carrier scans, addresses, refunds, the
customer's other cases, and a link to the order in Shopify admin when the shop is known.

Built from the stored order facts (the same ones the dispute packet reads); plain data for the
case page's sidebar and the ``order`` object of the case in the API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from aftersales.domain.orders import Address, OrderFacts, TrackingEvent

# a shop's own host name: "northwind.myshopify.com", or its handle "northwind"
_HOST = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*")
_NUMERIC_ID = re.compile(r"[0-9]{1,20}")
_GID = re.compile(r"gid://shopify/Order/([0-9]{1,20})")
_CENT = Decimal("0.01")
SHOWN_SCANS = 5  # the newest scans listed; the rest are in the dispute packet


@dataclass(frozen=True, slots=True, kw_only=True)
class OtherCase:
    id: int
    subject: str
    route: str
    status: str
    order_number: str
    opened_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderSide:
    number: str  # the order the case names ("" when none)
    order: OrderFacts | None  # None: the desk holds no facts of that order
    scans: tuple[TrackingEvent, ...] = ()  # newest first, at most SHOWN_SCANS
    scan_count: int = 0
    other_cases: tuple[OtherCase, ...] = ()
    admin_url: str = ""  # the order in Shopify admin; "" when the shop is not known
    shipping: tuple[str, ...] = ()  # the shipping address, line by line; () when not stored
    billing: tuple[str, ...] = ()

    @property
    def last_scan(self) -> TrackingEvent | None:
        return self.scans[0] if self.scans else None


def order_side(
    number: str,
    order: OrderFacts | None,
    scans: tuple[TrackingEvent, ...],
    other_cases: tuple[OtherCase, ...],
    shop: str | None,
) -> OrderSide:
    newest = tuple(sorted(scans, key=lambda s: s.happened_at, reverse=True))
    return OrderSide(
        number=number,
        order=_in_cents(order) if order is not None else None,
        scans=newest[:SHOWN_SCANS],
        scan_count=len(scans),
        other_cases=other_cases,
        admin_url=shopify_admin_url(shop, number, order.shopify_id if order else None) if number else "",
        shipping=address_lines(order.shipping_address if order else None),
        billing=address_lines(order.billing_address if order else None),
    )


def _in_cents(order: OrderFacts) -> OrderFacts:
    """The order's amounts as a person reads them: "24.00", not the "24.0000" a NUMERIC(19, 4)
    column gives back (an amount with more places keeps them)."""
    return replace(
        order,
        total=cents(order.total) if order.total is not None else None,
        items=tuple(replace(i, price=cents(i.price)) for i in order.items),
        refunds=tuple(replace(r, amount=cents(r.amount)) for r in order.refunds),
    )


def cents(amount: Decimal) -> Decimal:
    whole = amount.quantize(_CENT)
    return whole if whole == amount else amount.normalize()


def address_lines(address: Address | None) -> tuple[str, ...]:
    """An address as printed on a label: name, company, street lines, "city province zip",
    country, phone; empty lines left out."""
    if address is None:
        return ()
    place = " ".join(p for p in (address.city, address.province, address.zip) if p)
    lines = (address.name, address.company, address.address1, address.address2, place, address.country)
    return tuple(line for line in (*lines, address.phone) if line)


def shopify_admin_url(shop: str | None, number: str, shopify_id: str | None) -> str:
    """The order's page in the shop's admin: by its Admin API id, else a search for its
    number; "" when the shop is unknown or not a host name. ``shop`` is the
    AFTERSALES_SHOPIFY_SHOP setting ("northwind.myshopify.com", or just "northwind")."""
    host = _shop_host(shop or "")
    if not host:
        return ""
    identifier = _numeric(shopify_id or "")
    if identifier:
        return f"https://{host}/admin/orders/{identifier}"
    return f"https://{host}/admin/orders?query={quote(number, safe='')}"


def _shop_host(shop: str) -> str:
    host = shop.strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")
    if not _HOST.fullmatch(host):
        return ""
    return host if "." in host else f"{host}.myshopify.com"


def _numeric(shopify_id: str) -> str:
    if _NUMERIC_ID.fullmatch(shopify_id):
        return shopify_id
    found = _GID.fullmatch(shopify_id)
    return found.group(1) if found else ""


def order_side_to_dict(side: OrderSide) -> dict[str, Any]:
    """The ``order`` object of a case in the API (times as ISO 8601, money as text)."""
    order = side.order
    return {
        "number": side.number,
        "known": order is not None,
        "admin_url": side.admin_url or None,
        **(_order_dict(order) if order is not None else {}),
        "scans": [_scan_dict(s) for s in side.scans],
        "scan_count": side.scan_count,
        "other_cases": [
            {
                "id": c.id,
                "subject": c.subject,
                "route": c.route,
                "status": c.status,
                "order_number": c.order_number,
                "opened_at": c.opened_at.isoformat(),
            }
            for c in side.other_cases
        ],
    }


def _order_dict(order: OrderFacts) -> dict[str, Any]:
    return {
        "placed_at": _iso(order.placed_at),
        "financial_status": order.financial_status,
        "currency": order.currency,
        "total": _money(order.total),
        "items": [
            {
                "title": i.title,
                "sku": i.sku,
                "variant": i.variant,
                "quantity": i.quantity,
                "price": _money(i.price),
            }
            for i in order.items
        ],
        "fulfilment": {
            "fulfilled_at": _iso(order.fulfilled_at),
            "delivered_at": _iso(order.delivered_at),
            "cancelled_at": _iso(order.cancelled_at),
            "carrier": order.carrier,
            "tracking_numbers": list(order.tracking_numbers),
            "last_scan": {
                "status": order.last_scan_status.value if order.last_scan_status else None,
                "location": order.last_scan_location,
                "at": _iso(order.last_scan_at),
            },
            "promise_window_end": _iso(order.promise_window_end),
        },
        "shipping_address": _address(order.shipping_address),
        "billing_address": _address(order.billing_address),
        "refunds": [
            {"amount": _money(r.amount), "at": r.at.isoformat(), "reason": r.reason} for r in order.refunds
        ],
        "refunded": _money(cents(order.refunded)),
    }


def _scan_dict(scan: TrackingEvent) -> dict[str, Any]:
    return {
        "status": scan.status.value,
        "at": scan.happened_at.isoformat(),
        "location": scan.location,
        "message": scan.message,
        "carrier": scan.carrier,
        "tracking_number": scan.tracking_number,
    }


def _address(address: Address | None) -> dict[str, str] | None:
    if address is None or address.is_empty:
        return None
    fields = ("name", "company", "address1", "address2", "city", "province", "zip", "country", "phone")
    return {name: getattr(address, name) for name in fields} | {"formatted": address.formatted()}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _money(amount: object) -> str | None:
    return None if amount is None else str(amount)

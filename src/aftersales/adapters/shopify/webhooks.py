"""Shopify webhooks: the signature check and the payloads read into order records.

Payloads are the REST-style JSON Shopify posts for each topic (an order, a fulfilment, a
fulfilment event, a refund, a dispute); see docs/integrations.md. Only the fields the desk
uses are read; a field of the wrong type, or a value out of range (a time outside this
century, a quantity, amount or id wider than its column), is a `WebhookPayloadError` naming it.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from aftersales.domain.errors import InputError
from aftersales.domain.orders import (
    Address,
    Dispute,
    LineItem,
    OrderFacts,
    Refund,
    ScanStatus,
    TrackingEvent,
    address_or_none,
)
from aftersales.domain.shop_events import (
    FulfillmentUpdate,
    RefundRecord,
    ScanReport,
    ShopEvent,
    ShopOrder,
    latest,
    order_version,
)

_SKU_WIDTH, _TITLE_WIDTH = 100, 300
# What the tables hold (adapters/db/schema.py): a value beyond them is refused with its field
# name, not left to fail in the database. Ids and order numbers are String(64), money
# NUMERIC(19, 4), quantities a 32-bit integer, an e-mail address 320 characters.
_ID_WIDTH, _EMAIL_WIDTH, _STATUS_WIDTH, _REASON_WIDTH, _NAME_WIDTH = 64, 320, 32, 64, 200
_MAX_QUANTITY = 2**31 - 1
_MAX_MONEY = Decimal("1e15")
# Shopify's times are this century's; anything outside is a broken payload (a year 9999
# would overflow the clocks' arithmetic), refused rather than stored.
_EARLIEST, _LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


class WebhookPayloadError(InputError):
    """A signed payload the desk cannot read: which field, and why."""


def signature_is_valid(secret: str, body: bytes, signature: str | None) -> bool:
    """Whether ``signature`` (the X-Shopify-Hmac-Sha256 header) is the base64 HMAC-SHA256 of
    the raw ``body`` under ``secret``, compared in constant time."""
    if not signature:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected.encode(), signature.strip().encode())


def sign(secret: str, body: bytes) -> str:
    """The X-Shopify-Hmac-Sha256 value for ``body``: what Shopify sends (tests and tools use it)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def order_number(name: str) -> str:
    """The desk's order number for a Shopify order name: "#1043" is order "1043" (as in the
    orders export)."""
    return name.strip().lstrip("#").strip()


def read_order(payload: Mapping[str, Any]) -> ShopOrder:
    customer = _mapping(payload, "customer")
    shipping = _mapping(payload, "shipping_address")
    placed_at = _time(payload, "created_at")
    cancelled_at = _time(payload, "cancelled_at")
    fulfillments = [
        read_fulfillment(f, order_id=_id(payload, "id")) for f in _objects(payload, "fulfillments")
    ]
    number = order_number(_required_text(payload, "name"))
    if not number or len(number) > _ID_WIDTH:
        raise WebhookPayloadError(f"name: not an order number of 1 to {_ID_WIDTH} characters")
    order = OrderFacts(
        number=number,
        placed_at=placed_at,
        cancelled_at=cancelled_at,
        fulfilled_at=min((f.fulfilled_at for f in fulfillments if f.fulfilled_at), default=None),
        carrier=next((f.carrier for f in fulfillments if f.carrier), ""),
        tracking_numbers=tuple(n for f in fulfillments for n in f.tracking_numbers),
        destination=_text(shipping, "country_code").upper()[:8],
        items=tuple(_line_item(item) for item in _list(payload, "line_items")),
        refunds=tuple(read_refund(r).refund for r in _objects(payload, "refunds")),
        currency=_text(payload, "currency").upper()[:3],
        total=_money(payload, "total_price"),
        shopify_id=_id(payload, "id") or None,
        financial_status=_text(payload, "financial_status").lower()[:_STATUS_WIDTH],
        shipping_address=_address(payload, "shipping_address"),
        billing_address=_address(payload, "billing_address"),
        shopify_updated_at=_time(payload, "updated_at"),
    )
    order = dataclasses.replace(order, shopify_updated_at=order_version(order))
    name = " ".join(p for p in (_text(customer, "first_name"), _text(customer, "last_name")) if p)
    email = _text(payload, "email") or _text(payload, "contact_email") or _text(customer, "email")
    if len(email) > _EMAIL_WIDTH:
        raise WebhookPayloadError(f"email: longer than {_EMAIL_WIDTH} characters")
    return ShopOrder(order, email.lower(), name[:_NAME_WIDTH])


def read_fulfillment(payload: Mapping[str, Any], *, order_id: str = "") -> FulfillmentUpdate:
    fulfillment_id = _id(payload, "id")
    status = _scan_status(_text(payload, "shipment_status"))
    changed_at = _time(payload, "updated_at") or _time(payload, "created_at")
    listed = (_as_text(n, "tracking_numbers") for n in _list(payload, "tracking_numbers"))
    numbers = tuple(n[:_SKU_WIDTH] for n in listed if n) or tuple(
        n[:_SKU_WIDTH] for n in (_text(payload, "tracking_number"),) if n
    )
    carrier = _text(payload, "tracking_company")
    scan = None
    if status is not None and changed_at is not None:
        scan = TrackingEvent(
            event_id=f"fulfillment-{fulfillment_id}-{status.value}",
            status=status,
            happened_at=changed_at,
            carrier=carrier,
            tracking_number=numbers[0] if numbers else "",
        )
    return FulfillmentUpdate(
        order_shopify_id=_id(payload, "order_id") or order_id,
        fulfilled_at=_time(payload, "created_at"),
        carrier=carrier[:100],
        tracking_numbers=numbers,
        scan=scan,
        updated_at=_time(payload, "updated_at"),
    )


def read_fulfillment_event(payload: Mapping[str, Any]) -> ScanReport:
    raw_status = _required_text(payload, "status")
    status = _scan_status(raw_status)
    if status is None:
        raise WebhookPayloadError(f"status: unknown fulfilment event status {raw_status!r}")
    happened_at = _time(payload, "happened_at") or _time(payload, "created_at")
    if happened_at is None:
        raise WebhookPayloadError("happened_at: missing")
    place = ", ".join(
        p for p in (_text(payload, "city"), _text(payload, "province"), _text(payload, "country")) if p
    )
    event = TrackingEvent(
        event_id=_id(payload, "id") or f"fulfillment-{_id(payload, 'fulfillment_id')}-{status.value}",
        status=status,
        happened_at=happened_at,
        message=_text(payload, "message")[:1000],
        location=place[:300],
    )
    return ScanReport(_required_id(payload, "order_id"), event)


def read_refund(payload: Mapping[str, Any]) -> RefundRecord:
    """A refund: the successful refund transactions' total (Shopify's refund object)."""
    transactions = [t for t in _list(payload, "transactions") if isinstance(t, Mapping)]
    amount = sum(
        (
            _money(t, "amount") or Decimal("0")
            for t in transactions
            if _text(t, "kind") in ("refund", "") and _text(t, "status") in ("success", "")
        ),
        Decimal("0"),
    )
    if abs(amount) >= _MAX_MONEY:
        raise WebhookPayloadError(f"transactions.amount: the refund's total {amount} is out of range")
    at = _time(payload, "processed_at") or _time(payload, "created_at")
    if at is None:
        raise WebhookPayloadError("created_at: missing")
    refund = Refund(amount, at, _text(payload, "note")[:200], shopify_id=_id(payload, "id"))
    return RefundRecord(_id(payload, "order_id"), refund)


def read_dispute(payload: Mapping[str, Any]) -> Dispute:
    """A dispute; its version is its updated_at where given, else the latest of its own times
    (Shopify's dispute payload has none: opened, evidence sent, finalised only move forward)."""
    initiated_at, sent_on = _time(payload, "initiated_at"), _time(payload, "evidence_sent_on")
    finalized_on = _time(payload, "finalized_on")
    return Dispute(
        dispute_id=_required_id(payload, "id"),
        order_shopify_id=_id(payload, "order_id"),
        kind=_text(payload, "type").lower()[:_STATUS_WIDTH],
        reason=_text(payload, "reason").lower()[:_REASON_WIDTH],
        network_reason_code=_text(payload, "network_reason_code")[:32],
        status=_text(payload, "status").lower()[:_STATUS_WIDTH],
        amount=_money(payload, "amount"),
        currency=_text(payload, "currency").upper()[:3],
        evidence_due_by=_time(payload, "evidence_due_by"),
        evidence_sent_on=sent_on,
        initiated_at=initiated_at,
        finalized_on=finalized_on,
        shopify_updated_at=_time(payload, "updated_at") or latest(initiated_at, sent_on, finalized_on),
    )


# The topics the desk acts on, and how each payload is read. Others are acknowledged and
# recorded, nothing more.
_READERS: dict[str, Callable[[Mapping[str, Any]], ShopEvent]] = {
    "orders/create": read_order,
    "orders/updated": read_order,
    "orders/paid": read_order,
    "orders/fulfilled": read_order,
    "orders/partially_fulfilled": read_order,
    "orders/cancelled": read_order,
    "orders/edited": read_order,
    "fulfillments/create": read_fulfillment,
    "fulfillments/update": read_fulfillment,
    "fulfillment_events/create": read_fulfillment_event,
    "refunds/create": read_refund,
    "disputes/create": read_dispute,
    "disputes/update": read_dispute,
}
HANDLED_TOPICS = frozenset(_READERS)


def read_payload(topic: str, payload: Any) -> ShopEvent | None:
    """The change a webhook reports; None for a topic the desk does not act on."""
    reader = _READERS.get(topic)
    if reader is None:
        return None
    if not isinstance(payload, Mapping):
        raise WebhookPayloadError(f"the {topic} payload must be a JSON object")
    return reader(payload)


# --- fields ---------------------------------------------------------------------------------


def _line_item(item: Any) -> LineItem:
    if not isinstance(item, Mapping):
        raise WebhookPayloadError("line_items: each item must be an object")
    quantity = item.get("quantity", 1)
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
        raise WebhookPayloadError(f"line_items.quantity: not a whole number: {str(quantity)[:40]!r}")
    if quantity > _MAX_QUANTITY:
        raise WebhookPayloadError(f"line_items.quantity: more than {_MAX_QUANTITY}")
    return LineItem(
        sku=_text(item, "sku")[:_SKU_WIDTH],
        title=_text(item, "title")[:_TITLE_WIDTH],
        variant=_text(item, "variant_title")[:200],
        quantity=quantity,
        price=_money(item, "price") or Decimal("0"),
    )


def _address(payload: Mapping[str, Any], key: str) -> Address | None:
    """A REST address object: the full ``name`` (else first and last), and the province and
    country codes where given (else their names)."""
    fields = _mapping(payload, key)
    try:
        name = _text(fields, "name") or " ".join(
            p for p in (_text(fields, "first_name"), _text(fields, "last_name")) if p
        )
        address = Address(
            name=name,
            company=_text(fields, "company"),
            address1=_text(fields, "address1"),
            address2=_text(fields, "address2"),
            city=_text(fields, "city"),
            province=_text(fields, "province_code") or _text(fields, "province"),
            zip=_text(fields, "zip"),
            country=_text(fields, "country_code").upper() or _text(fields, "country"),
            phone=_text(fields, "phone"),
        )
    except WebhookPayloadError as error:
        raise WebhookPayloadError(f"{key}.{error.problem}") from None
    return address_or_none(address)


def _scan_status(raw: str) -> ScanStatus | None:
    try:
        return ScanStatus(raw.lower()) if raw else None
    except ValueError:
        return None


def _mapping(payload: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = payload.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise WebhookPayloadError(f"{key}: expected an object, got {type(value).__name__}")
    return value


def _list(payload: Mapping[str, Any], key: str) -> list[Any]:
    value = payload.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise WebhookPayloadError(f"{key}: expected a list, got {type(value).__name__}")
    return value


def _objects(payload: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    items = _list(payload, key)
    if not all(isinstance(item, Mapping) for item in items):
        raise WebhookPayloadError(f"{key}: each item must be an object")
    return items


def _text(payload: Mapping[str, Any], key: str) -> str:
    return _as_text(payload.get(key), key)


def _as_text(value: Any, key: str) -> str:
    """A field as text, without NUL characters or lone surrogates (JSON allows both; neither
    database stores them)."""
    if value is None:
        return ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise WebhookPayloadError(f"{key}: expected text, got {type(value).__name__}")
    try:
        text = str(value)
    except ValueError:  # an integer of more than 4,300 digits
        raise WebhookPayloadError(f"{key}: a number too long to read") from None
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "").strip()


def _required_text(payload: Mapping[str, Any], key: str) -> str:
    value = _text(payload, key)
    if not value:
        raise WebhookPayloadError(f"{key}: missing")
    return value


def _id(payload: Mapping[str, Any], key: str) -> str:
    """An Admin API id as text: webhooks send numbers, the GraphQL API gids."""
    value = _text(payload, key)
    value = value.rsplit("/", 1)[-1] if value.startswith("gid://") else value
    if len(value) > _ID_WIDTH:
        raise WebhookPayloadError(f"{key}: an id longer than {_ID_WIDTH} characters")
    return value


def _required_id(payload: Mapping[str, Any], key: str) -> str:
    value = _id(payload, key)
    if not value:
        raise WebhookPayloadError(f"{key}: missing")
    return value


def _money(payload: Mapping[str, Any], key: str) -> Decimal | None:
    raw = _text(payload, key)
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise WebhookPayloadError(f"{key}: not an amount: {raw[:40]!r}") from None
    if not value.is_finite():
        raise WebhookPayloadError(f"{key}: not an amount: {raw[:40]!r}")
    if abs(value) >= _MAX_MONEY:
        raise WebhookPayloadError(f"{key}: the amount {raw[:40]!r} is out of range")
    return value


def _time(payload: Mapping[str, Any], key: str) -> datetime | None:
    raw = _text(payload, key)
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise WebhookPayloadError(f"{key}: not an ISO 8601 time: {raw[:40]!r}") from None
    if moment.tzinfo is None:
        raise WebhookPayloadError(f"{key}: the time has no UTC offset: {raw[:40]!r}")
    try:
        in_utc = moment.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00-12:00 is past the last moment Python holds
        in_utc = None
    if in_utc is None or not _EARLIEST <= in_utc < _LATEST:
        raise WebhookPayloadError(
            f"{key}: {raw[:40]!r} is out of range (from {_EARLIEST.year} to {_LATEST.year - 1})"
        )
    return moment

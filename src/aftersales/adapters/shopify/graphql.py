"""The Admin GraphQL documents aftersales sends, and their answers read into order snapshots.

The documents select only what the desk uses, in the shapes Shopify documents for ``Order``,
``LineItem``, ``Fulfillment``, ``FulfillmentEvent``, ``Refund``, ``OrderDisputeSummary`` and
``ShopifyPaymentsDispute``. Connections are read through ``nodes`` and ``pageInfo``; the
client (`adapters/shopify/admin.py`) fetches the pages after the first. A field that is not
the documented shape raises `MalformedAnswer` with its path.

Ids are kept as the numbers webhooks use (``gid://shopify/Order/5501234567`` is
``5501234567``), so a scan or dispute seen both ways is stored once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from aftersales.domain.orders import (
    Address,
    Dispute,
    LineItem,
    OrderFacts,
    OrderSnapshot,
    Refund,
    ScanStatus,
    TrackingEvent,
    address_or_none,
    with_tracking_event,
)

LINE_ITEMS_PER_PAGE = 20
EVENTS_PER_PAGE = 20
# the widest values the orders tables take (see adapters/db/schema.py)
_NUMBER, _SKU, _TITLE, _VARIANT, _MESSAGE, _PLACE, _CARRIER, _CODE = 64, 100, 300, 200, 1000, 300, 100, 32
# newer FulfillmentEventStatus values, read as the nearest status the desk knows
_SCAN_ALIASES = {
    "picked_up": ScanStatus.DELIVERED,  # collected by the buyer
    "ready_for_recipient_pickup": ScanStatus.READY_FOR_PICKUP,
    "returning_to_sender": ScanStatus.RETURNED_TO_SENDER,
}

_LINE_ITEM_FIELDS = """
fragment LineItemFields on LineItem {
  sku title variantTitle quantity
  originalUnitPriceSet { shopMoney { amount currencyCode } }
  variant { barcode }
}"""
_EVENT_FIELDS = """
fragment EventFields on FulfillmentEvent { id status happenedAt message city province country }"""
# MailingAddress: province is the name, provinceCode the code the other sources give
_ADDRESS = "{ name company address1 address2 city province provinceCode zip countryCodeV2 phone }"
_ORDER_FIELDS = (
    """
fragment OrderFields on Order {
  id name createdAt updatedAt cancelledAt displayFinancialStatus currencyCode email
  totalPriceSet { shopMoney { amount currencyCode } }
  billingAddress """
    + _ADDRESS
    + """
  shippingAddress """
    + _ADDRESS
    + """
  lineItems(first: $lineItems) { nodes { ...LineItemFields } pageInfo { hasNextPage endCursor } }
  fulfillments(first: 5) {
    id createdAt displayStatus
    trackingInfo(first: 3) { company number }
    events(first: $events) { nodes { ...EventFields } pageInfo { hasNextPage endCursor } }
  }
  refunds(first: 10) { id createdAt note totalRefundedSet { shopMoney { amount currencyCode } } }
  disputes { id initiatedAs status }
}"""
    + _LINE_ITEM_FIELDS
    + _EVENT_FIELDS
)
ORDER_BY_ID = (
    "query OrderById($id: ID!, $lineItems: Int!, $events: Int!) { order(id: $id) { ...OrderFields } }"
    + _ORDER_FIELDS
)
ORDERS = (
    """query Orders($query: String!, $first: Int!, $after: String, $lineItems: Int!, $events: Int!) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    nodes { ...OrderFields }
    pageInfo { hasNextPage endCursor }
  }
}"""
    + _ORDER_FIELDS
)
ORDER_LINE_ITEMS = (
    """query OrderLineItems($id: ID!, $first: Int!, $after: String) {
  order(id: $id) {
    lineItems(first: $first, after: $after) { nodes { ...LineItemFields } pageInfo { hasNextPage endCursor } }
  }
}"""
    + _LINE_ITEM_FIELDS
)
FULFILLMENT_EVENTS = (
    """query FulfillmentEvents($id: ID!, $first: Int!, $after: String) {
  fulfillment(id: $id) {
    events(first: $first, after: $after) { nodes { ...EventFields } pageInfo { hasNextPage endCursor } }
  }
}"""
    + _EVENT_FIELDS
)
DISPUTE_BY_ID = """query DisputeById($id: ID!) {
  dispute(id: $id) {
    id amount { amount currencyCode } evidenceDueBy evidenceSentOn finalizedOn initiatedAt
    reasonDetails { reason networkReasonCode } status type
  }
}"""


class MalformedAnswer(Exception):
    """A field of an answer that is not what Shopify documents: its path, and what was wrong."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")


def value_at(node: Mapping[str, Any], path: str) -> Any:
    value: Any = node
    for key in path.split("."):
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise MalformedAnswer(path, f"expected an object, got {type(value).__name__}")
        value = value.get(key)
    return value


def object_at(node: Mapping[str, Any], path: str) -> Mapping[str, Any]:
    value = optional_object_at(node, path)
    if value is None:
        raise MalformedAnswer(path, "missing")
    return value


def optional_object_at(node: Mapping[str, Any], path: str) -> Mapping[str, Any] | None:
    value = value_at(node, path)
    if value is not None and not isinstance(value, Mapping):
        raise MalformedAnswer(path, f"expected an object, got {type(value).__name__}")
    return value


def objects_at(node: Mapping[str, Any], path: str) -> list[Mapping[str, Any]]:
    value = value_at(node, path)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise MalformedAnswer(path, "expected a list of objects")
    return value


def nodes_at(node: Mapping[str, Any], path: str) -> list[Mapping[str, Any]]:
    return objects_at(node, f"{path}.nodes")


def next_cursor(connection: Mapping[str, Any]) -> str | None:
    """The cursor of the next page of a connection, or None after its last page."""
    if value_at(connection, "pageInfo.hasNextPage") is not True:
        return None
    cursor = value_at(connection, "pageInfo.endCursor")
    if not isinstance(cursor, str) or not cursor:
        raise MalformedAnswer("pageInfo.endCursor", "missing while hasNextPage is true")
    return cursor


def text_at(node: Mapping[str, Any], path: str, width: int = 10_000) -> str:
    value = value_at(node, path)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedAnswer(path, f"expected text, got {type(value).__name__}")
    return value.strip()[:width]


def numeric_id(gid: str) -> str:
    """``gid://shopify/Order/5501234567`` is ``5501234567``, the id webhooks use."""
    return gid.rsplit("/", 1)[-1]


def _money(node: Mapping[str, Any], path: str) -> Decimal | None:
    raw = text_at(node, path)
    if not raw:
        return None
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite():
        raise MalformedAnswer(path, f"{raw!r} is not an amount")
    return amount


def _time(node: Mapping[str, Any], path: str) -> datetime | None:
    """A DateTime, or a Date (the dispute deadlines in newer API versions): a Date is read as
    the start of that day in UTC, the earliest moment it can mean, so a deadline is never late."""
    raw = text_at(node, path)
    if not raw:
        return None
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), datetime.min.time(), tzinfo=UTC)
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise MalformedAnswer(path, f"{raw!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise MalformedAnswer(path, f"{raw!r} has no UTC offset")
    return moment


def read_order_snapshot(
    node: Mapping[str, Any],
    items: list[Mapping[str, Any]],
    fulfillments: list[tuple[Mapping[str, Any], list[Mapping[str, Any]]]],
    disputes: list[tuple[Mapping[str, Any], Mapping[str, Any] | None]],
) -> OrderSnapshot:
    facts = _order_facts(node, items, [fulfillment for fulfillment, _ in fulfillments])
    events = sorted(
        (event for fulfillment, nodes in fulfillments for event in _tracking_events(fulfillment, nodes)),
        key=lambda event: event.happened_at,
    )
    for event in events:
        facts = with_tracking_event(facts, event)
    return OrderSnapshot(
        order=facts,
        email=text_at(node, "email"),
        # the buyer's name as the orders export gives it (Billing Name, else Shipping Name),
        # which needs no read_customers scope
        name=text_at(node, "billingAddress.name") or text_at(node, "shippingAddress.name"),
        tracking_events=tuple(events),
        disputes=tuple(_read_dispute(facts, summary, detail) for summary, detail in disputes),
    )


def _order_facts(
    node: Mapping[str, Any], items: list[Mapping[str, Any]], fulfillments: list[Mapping[str, Any]]
) -> OrderFacts:
    name = text_at(node, "name")
    number = name.lstrip("#").strip()
    if not number or len(number) > _NUMBER:
        raise MalformedAnswer("name", f"{name!r} is not an order number")
    tracking = [info for fulfillment in fulfillments for info in objects_at(fulfillment, "trackingInfo")]
    shipped = [at for fulfillment in fulfillments if (at := _time(fulfillment, "createdAt"))]
    return OrderFacts(
        number=number,
        placed_at=_time(node, "createdAt"),
        fulfilled_at=min(shipped, default=None),
        cancelled_at=_time(node, "cancelledAt"),
        carrier=next((c for info in tracking if (c := text_at(info, "company", _CARRIER))), ""),
        tracking_numbers=tuple(
            dict.fromkeys(n for info in tracking if (n := text_at(info, "number", _CARRIER)))
        ),
        destination=text_at(node, "shippingAddress.countryCodeV2", 8).upper(),
        items=tuple(_line_item(item) for item in items),
        refunds=tuple(_refund(refund) for refund in objects_at(node, "refunds")),
        currency=text_at(node, "totalPriceSet.shopMoney.currencyCode") or text_at(node, "currencyCode"),
        total=_money(node, "totalPriceSet.shopMoney.amount"),
        shopify_id=numeric_id(text_at(node, "id")) or None,
        financial_status=text_at(node, "displayFinancialStatus").lower(),
        shipping_address=_address(node, "shippingAddress"),
        billing_address=_address(node, "billingAddress"),
        shopify_updated_at=_time(node, "updatedAt"),
    )


def _address(node: Mapping[str, Any], path: str) -> Address | None:
    """A MailingAddress, with the province as its code where Shopify has one (as the orders
    export and webhooks give it), so one order read two ways is one address."""
    if optional_object_at(node, path) is None:
        return None

    def text(key: str, width: int = _TITLE) -> str:
        return text_at(node, f"{path}.{key}", width)

    return address_or_none(
        Address(
            name=text("name"),
            company=text("company"),
            address1=text("address1"),
            address2=text("address2"),
            city=text("city"),
            province=text("provinceCode") or text("province"),
            zip=text("zip", _CODE),
            country=text("countryCodeV2", 8).upper(),
            phone=text("phone", _CODE),
        )
    )


def _line_item(item: Mapping[str, Any]) -> LineItem:
    quantity = value_at(item, "quantity")
    if quantity is None:
        quantity = 1
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
        raise MalformedAnswer("lineItems.quantity", f"{quantity!r} is not a whole number")
    return LineItem(
        sku=text_at(item, "sku", _SKU),
        title=text_at(item, "title", _TITLE),
        variant=text_at(item, "variantTitle", _VARIANT),
        quantity=quantity,
        price=_money(item, "originalUnitPriceSet.shopMoney.amount") or Decimal("0"),
        gtin=text_at(item, "variant.barcode", 64),
    )


def _refund(refund: Mapping[str, Any]) -> Refund:
    at = _time(refund, "createdAt")
    if at is None:
        raise MalformedAnswer("refunds.createdAt", "missing")
    amount = _money(refund, "totalRefundedSet.shopMoney.amount") or Decimal("0")
    refund_id = numeric_id(text_at(refund, "id", _NUMBER + 30))[:_NUMBER]
    return Refund(amount, at, text_at(refund, "note", _TITLE), shopify_id=refund_id)


def _tracking_events(
    fulfillment: Mapping[str, Any], nodes: list[Mapping[str, Any]]
) -> Iterator[TrackingEvent]:
    info = next(iter(objects_at(fulfillment, "trackingInfo")), {})
    for node in nodes:
        status = _scan_status(text_at(node, "status"))
        happened_at = _time(node, "happenedAt")
        if status is None or happened_at is None:
            continue  # a status newer than the desk knows, or an event with no time: not a scan
        place = (text_at(node, key) for key in ("city", "province", "country"))
        yield TrackingEvent(
            event_id=numeric_id(text_at(node, "id"))
            or f"fulfillment-{numeric_id(text_at(fulfillment, 'id'))}-{status.value}",
            status=status,
            happened_at=happened_at,
            message=text_at(node, "message", _MESSAGE),
            location=", ".join(part for part in place if part)[:_PLACE],
            carrier=text_at(info, "company", _CARRIER),
            tracking_number=text_at(info, "number", _CARRIER),
        )


def _scan_status(raw: str) -> ScanStatus | None:
    status = raw.lower()
    try:
        return ScanStatus(status)
    except ValueError:
        return _SCAN_ALIASES.get(status)


def _read_dispute(order: OrderFacts, summary: Mapping[str, Any], detail: Mapping[str, Any] | None) -> Dispute:
    """A dispute from its details, or from the order's summary of it when ``dispute(id:)``
    found nothing."""
    base = Dispute(
        dispute_id=numeric_id(text_at(summary, "id")),
        order_shopify_id=order.shopify_id or "",
        order_number=order.number,
        kind=text_at(summary, "initiatedAs", _CODE).lower(),
        status=text_at(summary, "status", _CODE).lower(),
    )
    if detail is None:
        return base
    return Dispute(
        dispute_id=numeric_id(text_at(detail, "id")) or base.dispute_id,
        order_shopify_id=base.order_shopify_id,
        order_number=base.order_number,
        kind=text_at(detail, "type", _CODE).lower() or base.kind,
        reason=text_at(detail, "reasonDetails.reason", 64).lower(),
        network_reason_code=text_at(detail, "reasonDetails.networkReasonCode", _CODE),
        status=text_at(detail, "status", _CODE).lower() or base.status,
        amount=_money(detail, "amount.amount"),
        currency=text_at(detail, "amount.currencyCode", 3).upper(),
        evidence_due_by=_time(detail, "evidenceDueBy"),
        evidence_sent_on=_time(detail, "evidenceSentOn"),
        initiated_at=_time(detail, "initiatedAt"),
        finalized_on=_time(detail, "finalizedOn"),
    )

"""A fake Shopify Admin GraphQL API: a real HTTP server on 127.0.0.1 for the adapter's tests.

It speaks the documented protocol: ``POST /admin/api/{version}/graphql.json`` with the
``X-Shopify-Access-Token`` header (another token gets HTTP 401 with Shopify's
``{"errors": "[API] Invalid API key or access token …"}`` body), a JSON body of ``query``,
``variables`` and ``operationName``, and an answer of ``data`` plus ``extensions.cost``. It
tells the queries apart by the operation name written in the document (``query OrderById(…)``)
and answers OrderById, Orders, OrderLineItems, FulfillmentEvents and DisputeById from the
orders and disputes a test gives it, a page at a time (``first``/``after`` → ``nodes`` and
``pageInfo { hasNextPage endCursor }``; cursors are opaque base64 strings).

Response shapes are copied from the field and type lists of Shopify's documentation (GraphQL
Admin API, version 2026-10 / latest):

- queries: https://shopify.dev/docs/api/admin-graphql/latest/queries/order,
  https://shopify.dev/docs/api/admin-graphql/latest/queries/orders,
  https://shopify.dev/docs/api/admin-graphql/latest/queries/fulfillment,
  https://shopify.dev/docs/api/admin-graphql/latest/queries/dispute
- objects: https://shopify.dev/docs/api/admin-graphql/latest/objects/Order,
  …/objects/LineItem, …/objects/Fulfillment, …/objects/FulfillmentEvent (status values from
  …/enums/FulfillmentEventStatus), …/objects/Refund, …/objects/OrderDisputeSummary,
  …/objects/ShopifyPaymentsDispute (``evidenceDueBy`` etc. are ``Date`` scalars),
  …/objects/ShopifyPaymentsDisputeReasonDetails, …/objects/MailingAddress, …/objects/MoneyBag,
  …/objects/MoneyV2
- pagination: https://shopify.dev/docs/api/usage/pagination-graphql
- cost and throttling: https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits and
  https://shopify.dev/docs/api/usage/limits; the THROTTLED body (``errors[].extensions.code``
  plus top-level ``extensions.cost`` with ``actualQueryCost: null``) as quoted from a real
  answer in https://community.shopify.com/t/throttled/254776

Knobs: ``throttle_times`` (answer THROTTLED that many times first), ``queue_raw`` (send a
given status and body next, e.g. malformed JSON), ``requested_cost`` and the bucket figures
reported in every answer. ``requests`` records each (operation, variables) received.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "shpat_fake0123456789abcdef0123456789"
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"


@dataclass(frozen=True)
class Received:
    operation: str
    variables: dict[str, Any]


class FakeShopify:
    """The fake shop; use as a context manager (``with FakeShopify() as shop:``)."""

    def __init__(self, *, token: str = TOKEN, api_version: str = "2026-10") -> None:
        self.token = token
        self.path = f"/admin/api/{api_version}/graphql.json"
        self.orders: list[dict[str, Any]] = []
        self.disputes: dict[str, dict[str, Any]] = {}  # by ShopifyPaymentsDispute gid
        self.requests: list[Received] = []
        self.throttle_times = 0
        self.requested_cost = 10
        self.currently_available = 1990.0
        self.maximum_available = 2000.0
        self.restore_rate = 100.0
        self._raw: list[tuple[int, str, bytes]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.fake = self  # type: ignore[attr-defined]
        # a short poll interval: shutdown() waits for the serving loop to look at its flag
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.01,), daemon=True)

    @property
    def graphql_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{self.path}"

    def operations(self) -> list[str]:
        return [request.operation for request in self.requests]

    def queue_raw(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        """Send this status and body as the next answer, whatever the request."""
        self._raw.append((status, content_type, body))

    def __enter__(self) -> FakeShopify:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    # --- answering ----------------------------------------------------------------------------

    def respond(self, raw: bytes) -> tuple[int, str, bytes]:
        if self._raw:
            return self._raw.pop(0)
        request = json.loads(raw)
        document, variables = request["query"], request.get("variables") or {}
        match = re.match(r"\s*query\s+(\w+)", document)
        operation = match.group(1) if match else ""
        self.requests.append(Received(operation, variables))
        if self.throttle_times > 0:
            self.throttle_times -= 1
            return 200, "application/json", _json(self._throttled())
        answer = _ANSWERS.get(operation)
        if answer is None:
            return (
                200,
                "application/json",
                _json(_error(f"unknown operation {operation!r}", "undefinedField")),
            )
        return 200, "application/json", _json({"data": answer(self, variables), "extensions": self._cost()})

    def _cost(self, actual: int | None = 0) -> dict[str, Any]:
        return {
            "cost": {
                "requestedQueryCost": self.requested_cost,
                "actualQueryCost": self.requested_cost if actual is not None else None,
                "throttleStatus": {
                    "maximumAvailable": self.maximum_available,
                    "currentlyAvailable": self.currently_available,
                    "restoreRate": self.restore_rate,
                },
            }
        }

    def _throttled(self) -> dict[str, Any]:
        errors = _error("Throttled", "THROTTLED")["errors"]
        errors[0]["extensions"]["documentation"] = "https://shopify.dev/api/usage/rate-limits"
        return {"errors": errors, "extensions": self._cost(actual=None)}

    def _order(self, gid: str) -> dict[str, Any] | None:
        return next((order for order in self.orders if order["id"] == gid), None)

    def _fulfillment(self, gid: str) -> dict[str, Any] | None:
        every = (fulfillment for order in self.orders for fulfillment in order["fulfillments"])
        return next((fulfillment for fulfillment in every if fulfillment["id"] == gid), None)


# --- the operations ---------------------------------------------------------------------------


def _order_by_id(shop: FakeShopify, variables: dict[str, Any]) -> dict[str, Any]:
    order = shop._order(variables["id"])
    return {"order": _order_view(order, variables) if order else None}


def _orders(shop: FakeShopify, variables: dict[str, Any]) -> dict[str, Any]:
    found = [order for order in shop.orders if _matches(order, variables["query"])]
    found.sort(key=lambda order: order["updatedAt"])
    page = _page(found, variables["first"], variables.get("after"))
    page["nodes"] = [_order_view(order, variables) for order in page["nodes"]]
    return {"orders": page}


def _order_line_items(shop: FakeShopify, variables: dict[str, Any]) -> dict[str, Any]:
    order = shop._order(variables["id"])
    if order is None:
        return {"order": None}
    return {"order": {"lineItems": _page(order["lineItems"], variables["first"], variables.get("after"))}}


def _fulfillment_events(shop: FakeShopify, variables: dict[str, Any]) -> dict[str, Any]:
    fulfillment = shop._fulfillment(variables["id"])
    if fulfillment is None:
        return {"fulfillment": None}
    events = _page(fulfillment["events"], variables["first"], variables.get("after"))
    return {"fulfillment": {"events": events}}


def _dispute_by_id(shop: FakeShopify, variables: dict[str, Any]) -> dict[str, Any]:
    return {"dispute": shop.disputes.get(variables["id"])}


_ANSWERS = {
    "OrderById": _order_by_id,
    "Orders": _orders,
    "OrderLineItems": _order_line_items,
    "FulfillmentEvents": _fulfillment_events,
    "DisputeById": _dispute_by_id,
}


def _matches(order: dict[str, Any], search: str) -> bool:
    """The two search terms the client sends: ``name:#1043`` and ``updated_at:>='…'``."""
    if match := re.fullmatch(r'name:"?(.+?)"?', search):
        return str(order["name"]).startswith(match.group(1))  # loosely, as a search may
    if match := re.fullmatch(r"updated_at:>='(.+)'", search):
        return bool(order["updatedAt"] >= match.group(1))
    raise AssertionError(f"the fake does not understand the search {search!r}")


def _order_view(order: dict[str, Any], variables: dict[str, Any]) -> dict[str, Any]:
    """The order as one answer shows it: first pages of its line items and of each
    fulfilment's events."""
    view = dict(order)
    view["lineItems"] = _page(order["lineItems"], variables["lineItems"], None)
    view["fulfillments"] = [
        {**fulfillment, "events": _page(fulfillment["events"], variables["events"], None)}
        for fulfillment in order["fulfillments"]
    ]
    return view


def _page(items: list[Any], first: int, after: str | None) -> dict[str, Any]:
    start = json.loads(base64.b64decode(after))["offset"] if after else 0
    nodes = items[start : start + first]
    end = start + len(nodes)
    return {
        "nodes": nodes,
        "pageInfo": {
            "hasNextPage": end < len(items),
            "hasPreviousPage": start > 0,
            "startCursor": _cursor(start) if nodes else None,
            "endCursor": _cursor(end) if nodes else None,
        },
    }


def _cursor(offset: int) -> str:
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()


def _error(message: str, code: str) -> dict[str, Any]:
    return {
        "errors": [
            {"message": message, "locations": [{"line": 1, "column": 1}], "extensions": {"code": code}}
        ]
    }


def _json(body: object) -> bytes:
    return json.dumps(body).encode()


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        fake: FakeShopify = self.server.fake  # type: ignore[attr-defined]
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path != fake.path:
            self._send(404, "application/json", _json({"errors": "Not Found"}))
        elif self.headers.get("X-Shopify-Access-Token") != fake.token:
            self._send(401, "application/json", _json({"errors": INVALID_TOKEN}))
        else:
            self._send(*fake.respond(raw))

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: tests read ``FakeShopify.requests`` instead."""


# --- building orders in the documented shapes -------------------------------------------------


def money_bag(amount: str, currency: str = "USD") -> dict[str, Any]:
    """A MoneyBag: the amount in the shop's currency (presentment money left out)."""
    return {"shopMoney": {"amount": amount, "currencyCode": currency}}


def line_item(
    sku: str | None, title: str, *, variant_title: str | None = None, quantity: int = 1, price: str = "0.0"
) -> dict[str, Any]:
    return {
        "sku": sku,
        "title": title,
        "variantTitle": variant_title,
        "quantity": quantity,
        "originalUnitPriceSet": money_bag(price),
        "variant": {"barcode": None},
    }


def fulfillment_event(
    event_id: int,
    status: str,
    happened_at: str,
    *,
    message: str | None = None,
    city: str | None = None,
    province: str | None = None,
    country: str | None = None,
) -> dict[str, Any]:
    return {
        "id": f"gid://shopify/FulfillmentEvent/{event_id}",
        "status": status,
        "happenedAt": happened_at,
        "message": message,
        "city": city,
        "province": province,
        "country": country,
    }


def fulfillment(
    fulfillment_id: int,
    created_at: str,
    *,
    company: str | None,
    number: str | None,
    events: list[dict[str, Any]],
    display_status: str = "IN_TRANSIT",
) -> dict[str, Any]:
    return {
        "id": f"gid://shopify/Fulfillment/{fulfillment_id}",
        "createdAt": created_at,
        "displayStatus": display_status,
        "trackingInfo": [{"company": company, "number": number}] if number else [],
        "events": events,
    }


def refund(created_at: str, amount: str, note: str | None = None) -> dict[str, Any]:
    return {"createdAt": created_at, "note": note, "totalRefundedSet": money_bag(amount)}


def dispute_summary(
    dispute_id: int, *, initiated_as: str = "CHARGEBACK", status: str = "NEEDS_RESPONSE"
) -> dict[str, Any]:
    return {
        "id": f"gid://shopify/OrderDisputeSummary/{dispute_id}",
        "initiatedAs": initiated_as,
        "status": status,
    }


def payments_dispute(
    dispute_id: int,
    *,
    amount: str,
    reason: str,
    evidence_due_by: str | None,
    initiated_at: str,
    status: str = "NEEDS_RESPONSE",
    kind: str = "CHARGEBACK",
    network_reason_code: str | None = None,
) -> dict[str, Any]:
    return {
        "id": f"gid://shopify/ShopifyPaymentsDispute/{dispute_id}",
        "amount": {"amount": amount, "currencyCode": "USD"},
        "evidenceDueBy": evidence_due_by,
        "evidenceSentOn": None,
        "finalizedOn": None,
        "initiatedAt": initiated_at,
        "reasonDetails": {"reason": reason, "networkReasonCode": network_reason_code},
        "status": status,
        "type": kind,
    }


def mailing_address(
    name: str | None,
    *,
    address1: str | None = None,
    address2: str | None = None,
    city: str | None = None,
    province: str | None = None,
    province_code: str | None = None,
    zip_code: str | None = None,
    country_code: str | None = "US",
    company: str | None = None,
    phone: str | None = None,
) -> dict[str, Any]:
    """A MailingAddress as the order query selects it (absent fields are null, as Shopify
    sends them)."""
    return {
        "name": name,
        "company": company,
        "address1": address1,
        "address2": address2,
        "city": city,
        "province": province,
        "provinceCode": province_code,
        "zip": zip_code,
        "countryCodeV2": country_code,
        "phone": phone,
    }


def order(
    order_id: int,
    name: str,
    *,
    created_at: str = "2026-11-02T15:04:05Z",
    updated_at: str | None = None,
    total: str = "0.00",
    email: str | None = None,
    buyer: str | None = None,
    country: str | None = "US",
    line_items: list[dict[str, Any]] | None = None,
    fulfillments: list[dict[str, Any]] | None = None,
    refunds: list[dict[str, Any]] | None = None,
    disputes: list[dict[str, Any]] | None = None,
    financial_status: str = "PAID",
    shipping_address: dict[str, Any] | None = None,
    billing_address: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An Order; with no addresses given, the buyer's name (and the country) make them."""
    shipping = shipping_address or (mailing_address(buyer, country_code=country) if country else None)
    billing = billing_address or (mailing_address(buyer, country_code=None) if buyer else None)
    return {
        "id": f"gid://shopify/Order/{order_id}",
        "name": name,
        "createdAt": created_at,
        "updatedAt": updated_at or created_at,
        "cancelledAt": None,
        "displayFinancialStatus": financial_status,
        "currencyCode": "USD",
        "email": email,
        "totalPriceSet": money_bag(total),
        "billingAddress": billing,
        "shippingAddress": shipping,
        "lineItems": line_items or [],
        "fulfillments": fulfillments or [],
        "refunds": refunds or [],
        "disputes": disputes or [],
    }

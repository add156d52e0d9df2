"""The Shopify Admin GraphQL API: one order's snapshot, or every order changed since a moment.

Hand-written GraphQL documents are POSTed to ``/admin/api/{version}/graphql.json`` with the
``X-Shopify-Access-Token`` header (docs/integrations.md). An order comes back with its line
items, fulfilments and their carrier scans, refunds and dispute summaries; pages of line items
and scans past the first are fetched until the last, and each dispute's details (reason,
amount, evidence deadline) come from ``dispute(id:)``. The documents, and the reading of their
answers into domain values, are in `adapters/shopify/graphql.py`.

Throttling follows Shopify's leaky bucket: every answer reports the bucket
(``extensions.cost.throttleStatus``) and what the query asked for (``requestedQueryCost``).
Before sending a query whose last requested cost exceeds what the bucket holds now, the client
waits ``(cost - available) / restoreRate`` seconds; a THROTTLED answer (or HTTP 429) is
retried a bounded number of times with a growing wait.

Errors: a refused token or a missing scope is a `ConfigError` naming the setting; anything
else that fails (the network, an HTTP status, GraphQL ``errors``, a body that is not JSON or
not the documented shape) is a `ShopifyApiError` saying which request failed and why. The
access token never appears in a message.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx2

from aftersales.adapters.shopify.graphql import (
    DISPUTE_BY_ID,
    EVENTS_PER_PAGE,
    FULFILLMENT_EVENTS,
    LINE_ITEMS_PER_PAGE,
    ORDER_BY_ID,
    ORDER_LINE_ITEMS,
    ORDERS,
    MalformedAnswer,
    next_cursor,
    nodes_at,
    numeric_id,
    object_at,
    objects_at,
    optional_object_at,
    read_order_snapshot,
    text_at,
)
from aftersales.domain.errors import AftersalesError, ConfigError, InputError
from aftersales.domain.orders import OrderSnapshot
from aftersales.settings import ShopifySettings

TOKEN_SETTING = "AFTERSALES_SHOPIFY_ACCESS_TOKEN"
SCOPES = ("read_orders", "read_shopify_payments_disputes")
ORDERS_PER_PAGE = 3  # keeps one page's requested cost under Shopify's 1,000-point query limit
_BACKOFF_SECONDS = 1.0  # the first retry of a THROTTLED answer waits at least this, then doubles


class ShopifyApiError(AftersalesError):
    """The Admin API failed, or answered something the desk cannot read: which request, and why."""


class ShopifyThrottled(ShopifyApiError):
    """Shopify kept answering THROTTLED after every retry."""


@dataclass(slots=True)
class _Bucket:
    """Shopify's leaky bucket as the last answer described it."""

    available: float
    restore_rate: float
    maximum: float
    seen_at: float

    def available_at(self, now: float) -> float:
        return min(self.maximum, self.available + max(0.0, now - self.seen_at) * self.restore_rate)


class ShopifyAdmin:
    """A client of one shop's Admin GraphQL API.

    >>> admin = ShopifyAdmin("https://northwind.myshopify.com/admin/api/2026-10/graphql.json", token)
    >>> snapshot = admin.order_snapshot("#1043")

    ``client`` (an ``httpx2.Client``, e.g. one with a test transport) is used as given and left
    open; without one the client makes its own and `close` closes it. ``sleep`` and ``clock``
    are injectable so tests can check the waits without waiting.
    """

    max_retries = 4  # THROTTLED answers retried before giving up

    def __init__(
        self,
        graphql_url: str,
        access_token: str,
        *,
        client: httpx2.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 20.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = graphql_url
        self._token = access_token
        self._owns_client = client is None
        self._http = client if client is not None else httpx2.Client(timeout=timeout)
        self._timeout = timeout
        self._sleep = sleep
        self._clock = clock
        self._bucket: _Bucket | None = None
        self._costs: dict[str, float] = {}  # operation name -> its last requestedQueryCost

    @classmethod
    def from_settings(cls, shopify: ShopifySettings, *, timeout: float = 20.0) -> ShopifyAdmin:
        """The client for the configured shop; a `ConfigError` names the missing setting."""
        url = shopify.graphql_url
        if not url:
            raise ConfigError(
                "the Shopify Admin API is not configured: set AFTERSALES_SHOPIFY_SHOP "
                "(e.g. northwind.myshopify.com) or AFTERSALES_SHOPIFY_ADMIN_URL"
            )
        if not shopify.access_token:
            raise ConfigError(f"{TOKEN_SETTING} is not set: the Admin API needs an access token")
        return cls(url, shopify.access_token, timeout=timeout)

    def close(self) -> None:
        if self._owns_client:
            self._http.close()

    def __enter__(self) -> ShopifyAdmin:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- the public questions ---------------------------------------------------------------

    def order_snapshot(self, number_or_gid: str) -> OrderSnapshot | None:
        """The order named ``#1043`` (also given as ``1043``), or with the gid
        ``gid://shopify/Order/…``; None when the shop has no such order."""
        ref = number_or_gid.strip()
        if not ref:
            raise InputError("no order number or gid given")
        node = self._order_by_gid(ref) if ref.startswith("gid://") else self._order_by_name(_order_name(ref))
        return None if node is None else self._snapshot(node)

    def orders_updated_since(self, when: datetime) -> Iterator[OrderSnapshot]:
        """Every order updated at or after ``when`` (an aware time), oldest update first, one
        page of orders at a time."""
        if when.tzinfo is None:
            raise InputError(f"{when.isoformat()} has no UTC offset", "orders_updated_since")
        search = f"updated_at:>='{when.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}'"
        after: str | None = None
        while True:
            connection = self._orders_page(search, ORDERS_PER_PAGE, after)
            with _reading("Orders"):
                nodes, after = objects_at(connection, "nodes"), next_cursor(connection)
            for node in nodes:
                yield self._snapshot(node)
            if after is None:
                return

    # --- fetching ----------------------------------------------------------------------------

    def _order_by_gid(self, gid: str) -> Mapping[str, Any] | None:
        data = self._query("OrderById", ORDER_BY_ID, {"id": gid, **_NESTED_PAGES})
        with _reading("OrderById"):
            return optional_object_at(data, "order")

    def _order_by_name(self, name: str) -> Mapping[str, Any] | None:
        connection = self._orders_page(f"name:{_search_value(name)}", 5, None)
        with _reading("Orders"):
            nodes = objects_at(connection, "nodes")
        # the search matches loosely ("1043" also finds "#10430"): only the exact name counts
        return next((node for node in nodes if node.get("name") == name), None)

    def _orders_page(self, search: str, first: int, after: str | None) -> Mapping[str, Any]:
        variables = {"query": search, "first": first, "after": after, **_NESTED_PAGES}
        data = self._query("Orders", ORDERS, variables)
        with _reading("Orders"):
            return object_at(data, "orders")

    def _snapshot(self, node: Mapping[str, Any]) -> OrderSnapshot:
        """The order's snapshot, after fetching its later pages and its disputes' details."""
        with _reading(f"order {node.get('name') or node.get('id')}"):
            gid = text_at(node, "id")
            items = [*nodes_at(node, "lineItems"), *self._later_pages(_LINE_ITEM_PAGES, gid, node)]
            fulfillments = [(parcel, self._all_events(parcel)) for parcel in objects_at(node, "fulfillments")]
            disputes = [(summary, self._dispute_details(summary)) for summary in objects_at(node, "disputes")]
            return read_order_snapshot(node, items, fulfillments, disputes)

    def _all_events(self, fulfillment: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        later = self._later_pages(_EVENT_PAGES, text_at(fulfillment, "id"), fulfillment)
        return [*nodes_at(fulfillment, "events"), *later]

    def _later_pages(self, pages: _Pages, gid: str, parent: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        """The nodes of a connection of ``parent`` (whose id is ``gid``) after its first page,
        one query per page."""
        cursor = next_cursor(object_at(parent, pages.field))
        while cursor is not None:
            variables = {"id": gid, "first": pages.size, "after": cursor}
            connection = object_at(self._query(pages.operation, pages.document, variables), pages.path)
            yield from objects_at(connection, "nodes")
            cursor = next_cursor(connection)

    def _dispute_details(self, summary: Mapping[str, Any]) -> Mapping[str, Any] | None:
        gid = f"gid://shopify/ShopifyPaymentsDispute/{numeric_id(text_at(summary, 'id'))}"
        data = self._query("DisputeById", DISPUTE_BY_ID, {"id": gid})
        return optional_object_at(data, "dispute")

    # --- one GraphQL request, paced and retried -----------------------------------------------

    def _query(self, operation: str, document: str, variables: Mapping[str, Any]) -> Mapping[str, Any]:
        """The ``data`` of the answer to one document, after any waits and retries."""
        for attempt in range(self.max_retries + 1):
            self._wait_for_bucket(operation)
            response = self._post(operation, document, variables)
            body = self._body(operation, response)
            self._note_cost(operation, body)
            if response.status_code == 429 or _is_throttled(body):
                if attempt == self.max_retries:
                    break
                self._pause(max(self._deficit_seconds(operation), _BACKOFF_SECONDS * 2**attempt))
                continue
            self._raise_for_errors(operation, response, body)
            with _reading(operation):
                return object_at(body, "data")
        raise ShopifyThrottled(
            f"{operation}: Shopify still answered THROTTLED after {self.max_retries} retries; "
            "try again later, or with fewer requests at once"
        )

    def _post(self, operation: str, document: str, variables: Mapping[str, Any]) -> httpx2.Response:
        headers = {"X-Shopify-Access-Token": self._token, "Accept": "application/json"}
        payload = {"query": document, "variables": dict(variables), "operationName": operation}
        try:
            response = self._http.post(self._url, json=payload, headers=headers, timeout=self._timeout)
        except httpx2.TimeoutException:
            raise ShopifyApiError(
                f"{operation}: Shopify did not answer within {self._timeout:g} s ({self._url})"
            ) from None
        except httpx2.HTTPError as error:
            raise ShopifyApiError(
                f"{operation}: cannot reach {self._url}: {self._redact(str(error))}"
            ) from None
        if response.status_code in (401, 403):
            raise ConfigError(
                f"Shopify refused the access token (HTTP {response.status_code} from {self._url}): "
                f"check {TOKEN_SETTING}; the app needs the {', '.join(SCOPES)} scopes"
            )
        return response

    def _body(self, operation: str, response: httpx2.Response) -> Mapping[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, Mapping):
            return body
        if response.status_code == 429:
            return {}  # throttled, without a GraphQL body: retried like THROTTLED
        if not response.is_success:
            raise self._http_error(operation, response)
        start = self._redact(response.text[:80])
        raise ShopifyApiError(
            f"{operation}: Shopify's answer is not a JSON object "
            f"(HTTP {response.status_code}, {response.headers.get('content-type', 'no content type')}): "
            f"it starts {start!r}"
        )

    def _raise_for_errors(self, operation: str, response: httpx2.Response, body: Mapping[str, Any]) -> None:
        if not response.is_success:
            raise self._http_error(operation, response)
        errors = body.get("errors")
        if errors:
            messages = "; ".join(_error_messages(errors))
            if "ACCESS_DENIED" in _error_codes(errors):
                raise ConfigError(
                    f"Shopify denied {operation}: {self._redact(messages)}. The token in {TOKEN_SETTING} "
                    f"lacks a scope; aftersales needs {', '.join(SCOPES)}"
                )
            raise ShopifyApiError(f"{operation} failed: {self._redact(messages)}")

    def _http_error(self, operation: str, response: httpx2.Response) -> ShopifyApiError:
        hint = ""
        if response.status_code == 404:
            hint = " (check AFTERSALES_SHOPIFY_SHOP, AFTERSALES_SHOPIFY_ADMIN_URL and AFTERSALES_SHOPIFY_API_VERSION)"
        text = self._redact(response.text[:200]).strip()
        return ShopifyApiError(
            f"{operation}: Shopify answered HTTP {response.status_code} from {self._url}{hint}: {text!r}"
        )

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text

    # --- the leaky bucket ---------------------------------------------------------------------

    def _note_cost(self, operation: str, body: Mapping[str, Any]) -> None:
        cost = _cost_extension(body)
        requested = _number(cost.get("requestedQueryCost"))
        if requested is not None:
            self._costs[operation] = requested
        status = cost.get("throttleStatus")
        if not isinstance(status, Mapping):
            return
        available, rate, maximum = (
            _number(status.get(key)) for key in ("currentlyAvailable", "restoreRate", "maximumAvailable")
        )
        if available is not None and rate:
            self._bucket = _Bucket(available, rate, maximum or float("inf"), self._clock())

    def _deficit_seconds(self, operation: str) -> float:
        """How long until the bucket holds what ``operation`` last asked for (0: it does now)."""
        cost, bucket = self._costs.get(operation), self._bucket
        if cost is None or bucket is None:
            return 0.0
        needed = min(cost, bucket.maximum)
        return max(0.0, (needed - bucket.available_at(self._clock())) / bucket.restore_rate)

    def _wait_for_bucket(self, operation: str) -> None:
        seconds = self._deficit_seconds(operation)
        if seconds > 0:
            self._pause(seconds)

    def _pause(self, seconds: float) -> None:
        self._sleep(seconds)
        if self._bucket is not None:  # the bucket refilled while we slept
            bucket = self._bucket
            bucket.available = min(bucket.maximum, bucket.available + seconds * bucket.restore_rate)


@dataclass(frozen=True, slots=True)
class _Pages:
    """How to fetch the later pages of a connection nested in an order's answer."""

    operation: str
    document: str
    path: str  # where the connection is in one page's answer: "order.lineItems"
    size: int

    @property
    def field(self) -> str:
        return self.path.rsplit(".", 1)[-1]


_LINE_ITEM_PAGES = _Pages("OrderLineItems", ORDER_LINE_ITEMS, "order.lineItems", LINE_ITEMS_PER_PAGE)
_EVENT_PAGES = _Pages("FulfillmentEvents", FULFILLMENT_EVENTS, "fulfillment.events", EVENTS_PER_PAGE)
# the size of the first page of each nested connection, in an order's own query
_NESTED_PAGES = {"lineItems": LINE_ITEMS_PER_PAGE, "events": EVENTS_PER_PAGE}


def _order_name(ref: str) -> str:
    """The order's name as Shopify shows it: "1043" is "#1043"; a name with a shop's own
    prefix ("NW1043") stays as given."""
    return f"#{ref}" if ref.isdigit() else ref


def _search_value(value: str) -> str:
    if re.fullmatch(r"[#\w.-]+", value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _is_throttled(body: Mapping[str, Any]) -> bool:
    errors = body.get("errors")
    return isinstance(errors, list) and "THROTTLED" in _error_codes(errors)


def _error_codes(errors: object) -> set[str]:
    if not isinstance(errors, list):
        return set()
    return {
        str(error["extensions"].get("code"))
        for error in errors
        if isinstance(error, Mapping) and isinstance(error.get("extensions"), Mapping)
    }


def _error_messages(errors: object) -> list[str]:
    """GraphQL errors are a list of objects with a message; a refused request may instead
    send one string."""
    if not isinstance(errors, list):
        return [str(errors)]
    return [
        str(error.get("message", error)) if isinstance(error, Mapping) else str(error) for error in errors
    ]


def _cost_extension(body: Mapping[str, Any]) -> Mapping[str, Any]:
    extensions = body.get("extensions")
    cost = extensions.get("cost") if isinstance(extensions, Mapping) else None
    return cost if isinstance(cost, Mapping) else {}


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


@contextmanager
def _reading(where: str) -> Iterator[None]:
    """Report a field that is not the documented shape as a ShopifyApiError about ``where``."""
    try:
        yield
    except MalformedAnswer as error:
        raise ShopifyApiError(f"unexpected answer about {where}: {error}") from None

"""Property tests for the input edges (findings 1 and 2): random values in every field of every
input format this slice reads (mail headers, JSONL keys, the API's message body, the orders,
products and reviews exports). Whatever the value: no exception escapes, the bad message is
quarantined (or refused with 422, or its CSV line reported), and its good neighbours are stored.

The storing properties run on SQLite and PostgreSQL; the example counts are kept small so the
whole file runs in seconds.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

import aftersales.cli
import web.conftest as web_desk
from aftersales.adapters.db import schema as t
from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.adapters.files.product_review_exports import read_reviews
from aftersales.adapters.mail.message_files import MessageReader
from aftersales.adapters.shopify.orders_csv import read_orders
from aftersales.adapters.shopify.products_csv import read_products
from aftersales.domain.accounts import Role
from aftersales.domain.catalogue import ProductVariant
from aftersales.domain.orders import ImportedOrder, OrderProblem
from aftersales.domain.product_reviews import ExportedReview, ReviewProblem
from aftersales.jobs.bulk_intake import prepared_messages
from aftersales.services.orders_import import import_orders
from aftersales.services.routing import RoutingKit
from aftersales.settings import Settings

app, client, token = web_desk.app, web_desk.client, web_desk.token

FEW = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Values a hostile or broken sender puts in a field: anything at all, and the shapes that
# broke the desk before (superscript digits, 20 and 5,000 digits, years 1 and 9999).
_EDGES = st.sampled_from(
    [
        "",
        " ",
        "²",
        "١٢",
        "9" * 20,
        "7" * 5000,
        "-1",
        "0",
        "1e309",
        "NaN",
        "Infinity",
        "1,000,000,000,000,000,000.00",
        "10" + "0" * 30,
        "Fri, 31 Dec 9999 23:00:00 -1200",
        "Mon, 01 Jan 0001 00:00:00 +1400",
        "9999-12-31T23:00:00-12:00",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31 23:00:00 -1200",
        "0001-01-01 00:00:00 +1400",
        "2026-11-24 10:00:00 -0500",
        "2026-11-24T10:00:00",
        "<a@b>" * 300,
        "x" * 5000,
        "\x00",
        "é" * 999,
    ]
)
TEXT = st.one_of(_EDGES, st.text(max_size=60), st.integers().map(str), st.datetimes().map(str))
JSON_VALUE = st.one_of(
    TEXT,
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**18, max_value=10**60),
    st.floats(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


class _Quiet:
    """The routing kit, with a short repr: hypothesis prints a failing example's arguments."""

    def __init__(self, kit: RoutingKit) -> None:
        self.kit = kit

    def __repr__(self) -> str:
        return "<the routing kit>"


@pytest.fixture
def routing(kit: RoutingKit) -> _Quiet:
    return _Quiet(kit)


def _stored(uow: SqlUnitOfWork, message_id: str) -> bool:
    with uow() as cases:
        query = select(func.count()).select_from(t.messages).where(t.messages.c.message_id == message_id)
        return bool(cases.db.execute(query).scalar_one())


def _take_all(uow: SqlUnitOfWork, kit: RoutingKit, path: Path) -> Counter[str]:
    """The files at ``path`` through `aftersales intake`'s own storing loop (one process)."""
    command = sys.modules[aftersales.cli.__name__ + ".intake"]  # the package re-exports the command
    now = datetime.now(UTC)
    reader = MessageReader.of(now, [kit.policy.support_email])
    counts: Counter[str] = Counter()
    failures: list[str] = []
    folder_settings = Settings(data_dir=path, policy_file=None)
    batch = list(prepared_messages(path, kit, reader, settings=folder_settings, workers=0))
    # one transaction for the three, as the command stores a few at once: the bad one must
    # be undone alone
    command._store(uow, kit, batch, now, counts, failures)  # noqa: SLF001 (the CLI's own loop)
    return counts


# ----------------------------------------------------------------------------- mail headers

_HEADERS = ("Date", "Message-ID", "In-Reply-To", "References", "From", "Subject")


def _mail(headers: dict[str, str], body: str) -> bytes:
    lines = [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join([*lines, "", body, ""])).encode("utf-8", "surrogatepass")


def _good_mail(message_id: str, sender: str) -> bytes:
    return _mail(
        {
            "From": f"Customer <{sender}>",
            "To": "support@northwind.example",
            "Subject": "Where is my parcel?",
            "Message-ID": f"<{message_id}>",
            "Date": "Tue, 24 Nov 2026 10:00:00 -0500",
        },
        "Hello, where is my parcel? I ordered it last week.",
    )


@FEW
@given(values=st.fixed_dictionaries({}, optional=dict.fromkeys(_HEADERS, TEXT)))
def test_random_mail_headers_never_stop_intake(
    uow: SqlUnitOfWork, routing: _Quiet, values: dict[str, str]
) -> None:
    run = uuid.uuid4().hex
    with tempfile.TemporaryDirectory() as folder:
        inbox = Path(folder)
        (inbox / "1.eml").write_bytes(_good_mail(f"before-{run}@example.com", f"before-{run}@example.com"))
        (inbox / "2.eml").write_bytes(_mail({"To": "support@northwind.example", **values}, "Random headers."))
        (inbox / "3.eml").write_bytes(_good_mail(f"after-{run}@example.com", f"after-{run}@example.com"))
        counts = _take_all(uow, routing.kit, inbox)
    assert sum(counts.values()) == 3
    assert _stored(uow, f"before-{run}@example.com")
    assert _stored(uow, f"after-{run}@example.com")


# ----------------------------------------------------------------------------- JSONL

_JSONL_KEYS = ("text", "id", "from", "name", "subject", "sent_at", "channel", "order", "in_reply_to", "case")


@FEW
@given(values=st.fixed_dictionaries({}, optional=dict.fromkeys(_JSONL_KEYS, JSON_VALUE)))
def test_random_jsonl_values_never_stop_intake(
    uow: SqlUnitOfWork, routing: _Quiet, values: dict[str, Any]
) -> None:
    run = uuid.uuid4().hex
    good = {"sent_at": "2026-11-24T10:00:00-05:00", "text": "Where is my parcel?"}
    lines = [
        json.dumps({**good, "id": f"before-{run}", "from": f"before-{run}@example.com"}),
        json.dumps(values),
        json.dumps({**good, "id": f"after-{run}", "from": f"after-{run}@example.com"}),
    ]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "messages.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        counts = _take_all(uow, routing.kit, path)
    assert sum(counts.values()) == 3
    assert _stored(uow, f"before-{run}")
    assert _stored(uow, f"after-{run}")


# ----------------------------------------------------------------------------- the API

# one API user per app (a @given test runs its examples on one app, and one database)
_TOKENS: dict[int, dict[str, str]] = {}


@FEW
@given(values=st.fixed_dictionaries({}, optional=dict.fromkeys(_JSONL_KEYS, JSON_VALUE)))
def test_random_api_message_bodies_get_201_or_422(
    client: TestClient, token: Callable[[Role], dict[str, str]], values: dict[str, Any]
) -> None:
    headers = _TOKENS.get(id(client)) or _TOKENS.setdefault(id(client), token(Role.FRONTLINE))
    # json.dumps writes NaN and Infinity as they are (not JSON): the server must refuse them too
    body = json.dumps(values).encode()
    response = client.post(
        "/api/messages", content=body, headers={**headers, "content-type": "application/json"}
    )
    assert response.status_code in (201, 422), response.text
    if response.status_code == 422:
        assert response.json()["error"]["status"] == 422
    run = uuid.uuid4().hex
    good = {"text": "Where is my parcel?", "from": f"{run}@example.com", "id": run}
    assert client.post("/api/messages", json=good, headers=headers).status_code == 201


# ----------------------------------------------------------------------------- CSV exports


def _csv(header: list[str], rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(column, "") for column in header])
    return out.getvalue()


_ORDER_COLUMNS = [
    "Name",
    "Email",
    "Financial Status",
    "Created at",
    "Cancelled at",
    "Fulfilled at",
    "Currency",
    "Total",
    "Refunded Amount",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Lineitem sku",
    "Shipping Country",
    "Shipping Name",
    "Shipping Zip",
    "Billing Name",
    "Id",
]


def _good_order(name: str) -> dict[str, str]:
    return {
        "Name": name,
        "Email": "ana@example.com",
        "Created at": "2026-11-20 10:00:00 -0500",
        "Currency": "USD",
        "Total": "24.00",
        "Lineitem quantity": "1",
        "Lineitem name": "Tumbler",
        "Lineitem price": "24.00",
        "Lineitem sku": "TMB-20",
    }


@FEW
@given(values=st.fixed_dictionaries({}, optional=dict.fromkeys(_ORDER_COLUMNS, TEXT)))
def test_random_order_cells_report_their_line_and_keep_the_others(
    uow: SqlUnitOfWork, values: dict[str, str]
) -> None:
    with uow() as cases:  # each example starts from no orders (an Id names one order only)
        for table in (t.order_lines, t.refunds, t.orders):
            cases.db.execute(table.delete())
    run = uuid.uuid4().hex[:12]
    first, last = f"#A{run}", f"#B{run}"
    bad = {"Name": f"#C{run}", **values}
    if bad["Name"].strip() in (first, last):
        bad["Name"] = f"#C{run}"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "orders.csv"
        text = _csv(_ORDER_COLUMNS, [_good_order(first), bad, _good_order(last)])
        path.write_text(text, encoding="utf-8")
        items = list(read_orders(path))
        summary = import_orders(uow, items, datetime.now(UTC))
    problems = [item for item in items if isinstance(item, OrderProblem)]
    assert all(problem.line == 3 for problem in problems), problems  # the bad row's CSV line
    imported = {item.order.number for item in items if isinstance(item, ImportedOrder)}
    assert {first[1:], last[1:]} <= imported
    assert summary.failed == len(problems)
    with uow() as cases:
        assert cases.order(first[1:]) is not None
        assert cases.order(last[1:]) is not None


_PRODUCT_COLUMNS = [
    "Handle",
    "Title",
    "Status",
    "Option1 Name",
    "Option1 Value",
    "Variant SKU",
    "Variant Barcode",
    "Variant Price",
    "Variant Compare At Price",
    "Variant Inventory Tracker",
    "Variant Inventory Qty",
    "Image Src",
]


def _good_product(handle: str) -> dict[str, str]:
    return {"Handle": handle, "Title": "Tumbler", "Variant SKU": f"{handle}-1", "Variant Price": "24.00"}


@FEW
@given(values=st.fixed_dictionaries({}, optional=dict.fromkeys(_PRODUCT_COLUMNS, TEXT)))
def test_random_product_cells_report_their_line_and_keep_the_others(values: dict[str, str]) -> None:
    bad = {"Handle": "bad-handle", **values}
    if bad["Handle"].strip() in ("first", "last", ""):
        bad["Handle"] = "bad-handle"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "products.csv"
        path.write_text(
            _csv(_PRODUCT_COLUMNS, [_good_product("first"), bad, _good_product("last")]), encoding="utf-8"
        )
        items = list(read_products(path))
    assert all(item.line == 3 for item in items if isinstance(item, OrderProblem)), items
    assert {"first", "last"} <= {item.handle for item in items if isinstance(item, ProductVariant)}


_REVIEW_COLUMNS = [
    "title",
    "body",
    "rating",
    "review_date",
    "reviewer_name",
    "reviewer_email",
    "product_id",
    "product_handle",
    "order_number",
]


def _good_review(email: str) -> dict[str, str]:
    return {
        "body": "Lovely tumbler.",
        "rating": "5",
        "review_date": "2026-11-24 10:00:00 UTC",
        "reviewer_email": email,
    }


@FEW
@given(values=st.fixed_dictionaries({}, optional=dict.fromkeys(_REVIEW_COLUMNS, TEXT)))
def test_random_review_cells_report_their_line_and_keep_the_others(values: dict[str, str]) -> None:
    rows = [_good_review("first@example.com"), values, _good_review("last@example.com")]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "reviews.csv"
        path.write_text(_csv(_REVIEW_COLUMNS, rows), encoding="utf-8")
        export = read_reviews(path)
    problems = [item for item in export.reviews if isinstance(item, ReviewProblem)]
    assert all(problem.line == 3 for problem in problems), problems
    emails = {item.reviewer_email for item in export.reviews if isinstance(item, ExportedReview)}
    assert {"first@example.com", "last@example.com"} <= emails

"""Importing review exports: reviews are stored and matched to the desk's orders and SKUs; two
stars or less open a review case and hold the buyer's automation; the same file twice changes
nothing. Runs on SQLite, and on PostgreSQL when configured."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from aftersales.adapters.db import schema
from aftersales.adapters.db.product_reviews import reviews_unit_of_work
from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.adapters.files.product_review_exports import read_reviews
from aftersales.domain.orders import LineItem, OrderFacts
from aftersales.domain.product_reviews import ReviewProblem
from aftersales.services.product_reviews_import import ReviewDesk, ReviewImportSummary, import_reviews
from aftersales.services.routing import RoutingKit
from support.messages import at, dump, holds

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "reviews"
ORDERS = (  # number, customer, SKUs, Shopify id
    ("1043", "ana@example.com", ("TUM-20",), None),
    ("1044", "bo@example.com", ("TUM-20", "LID-1"), None),
    ("1045", "di@example.com", ("GIFT-BLK", "GIFT-WHT"), "5550001"),
)
VARIANTS = (
    ("steel-tumbler", "", "TUM-20"),
    ("gift-set", "Black", "GIFT-BLK"),
    ("gift-set", "White", "GIFT-WHT"),
)


@pytest.fixture
def desk(uow: SqlUnitOfWork, engine: Engine, kit: RoutingKit) -> ReviewDesk:
    """A desk holding three orders and a catalogue of two products (one with two SKUs)."""
    with uow() as cases:
        for number, email, skus, shopify_id in ORDERS:
            customer = cases.customer_id(email, email.split("@")[0].title(), at(20, 9))
            items = tuple(LineItem(sku, price=Decimal("20.00")) for sku in skus)
            order = OrderFacts(number=number, placed_at=at(20, 9), items=items, shopify_id=shopify_id)
            cases.save_order(order, customer, at(20, 9))
        rows = [
            {"handle": h, "variant_key": key, "sku": sku, "updated_at": at(20, 9)} for h, key, sku in VARIANTS
        ]
        cases.db.execute(insert(schema.product_variants), rows)
    return ReviewDesk(reviews_unit_of_work(engine), uow, kit)


def _import(desk: ReviewDesk, name: str, day: int = 25) -> ReviewImportSummary:
    return import_reviews(desk, read_reviews(FIXTURES / name).reviews, now=at(day, 9))


def _stored(uow: SqlUnitOfWork) -> list[tuple[Any, ...]]:
    r = schema.reviews
    query = select(r.c.external_id, r.c.rating, r.c.order_number, r.c.sku, r.c.case_id).order_by(r.c.id)
    with uow() as cases:
        return [tuple(row) for row in cases.db.execute(query)]


def _case(uow: SqlUnitOfWork, case_id: int) -> tuple[str, str, str]:
    with uow() as cases:
        row = cases.case_row(case_id)
    return row.route, row.order_number, row.status


def _summary(s: ReviewImportSummary) -> tuple[int, int, int, int, int, tuple[ReviewProblem, ...]]:
    return s.stored, s.updated, s.unchanged, s.cases_opened, s.held, s.failures


def test_a_yotpo_export_matches_orders_and_opens_cases_for_low_ratings(
    desk: ReviewDesk, uow: SqlUnitOfWork
) -> None:
    summary = _import(desk, "yotpo.csv")

    bad_date = "Date 'last week' is not a date like 2026-11-24 or 2026-11-24 10:00:00 UTC"
    assert _summary(summary) == (3, 0, 0, 2, 2, (ReviewProblem(4, bad_date),))
    stored = _stored(uow)
    # "#1043" is order 1043; 5550001 is 1045's Shopify id; 1044 holds two SKUs, its handle one
    assert [row[:4] for row in stored] == [
        ("9001", 2, "1043", "TUM-20"),
        ("9002", 4, "1044", "TUM-20"),
        ("9004", 1, "1045", ""),
    ]
    first_case, no_case, second_case = (row[4] for row in stored)
    assert no_case is None
    assert _case(uow, first_case) == ("review", "1043", "new")
    assert _case(uow, second_case) == ("review", "1045", "new")
    # opened through intake: clocked, with the review's evidence checklist
    with uow() as cases:
        assert cases.case_row(first_case).next_due_at is not None
        evidence = {e["key"]: e["present"] for e in cases.evidence_of(first_case)}
    assert (evidence["order_number"], evidence["review_text"], evidence["sku"]) == (True, True, True)
    assert evidence["support_log"] is False
    # the review without an e-mail is the matched order's buyer's
    assert [(email, case, reason, until) for email, case, reason, _, until in holds(uow)] == [
        ("ana@example.com", first_case, "review: 2 stars (yotpo)", None),
        ("di@example.com", second_case, "review: 1 star (yotpo)", None),
    ]


def test_a_judgeme_export_takes_the_sku_from_a_single_sku_product(
    desk: ReviewDesk, uow: SqlUnitOfWork
) -> None:
    summary = _import(desk, "judgeme.csv")

    assert _summary(summary)[:5] == (3, 0, 0, 2, 2)
    assert [(rating, order, sku) for _, rating, order, sku, _ in _stored(uow)] == [
        (1, "", "TUM-20"),
        (5, "", ""),
        (2, "", ""),
    ]
    assert [(email, reason) for email, _, reason, _, _ in holds(uow)] == [
        ("ana@example.com", "review: 1 star (judgeme)"),
        ("di@example.com", "review: 2 stars (judgeme)"),
    ]


@pytest.mark.parametrize("name", ["judgeme.csv", "yotpo.csv"])
def test_importing_the_same_file_twice_changes_nothing(
    desk: ReviewDesk, uow: SqlUnitOfWork, name: str
) -> None:
    first = _import(desk, name)
    before = dump(uow)

    again = _import(desk, name, day=26)

    assert _summary(again) == (0, 0, first.stored, 0, 0, first.failures)
    assert dump(uow) == before


def test_a_rerun_after_a_stop_finds_the_case_already_opened(desk: ReviewDesk, uow: SqlUnitOfWork) -> None:
    # given: the first run opened the cases, then stopped before storing the reviews
    _import(desk, "yotpo.csv")
    with uow() as cases:
        cases.db.execute(schema.reviews.delete())
    cases_before = dump(uow)["cases"]

    summary = _import(desk, "yotpo.csv", day=26)

    assert _summary(summary)[:4] == (3, 0, 0, 0)
    assert dump(uow)["cases"] == cases_before
    assert [row[4] is not None for row in _stored(uow)] == [True, False, True]


def test_an_edited_review_is_updated_and_keeps_its_case(
    desk: ReviewDesk, uow: SqlUnitOfWork, tmp_path: Path
) -> None:
    _import(desk, "yotpo.csv")
    edited = (FIXTURES / "yotpo.csv").read_text(encoding="utf-8").replace("box was crushed", "box was torn")
    path = tmp_path / "yotpo.csv"
    path.write_text(edited, encoding="utf-8")
    case_before = _stored(uow)[0][4]

    summary = import_reviews(desk, read_reviews(path).reviews, now=datetime(2026, 11, 26, tzinfo=UTC))

    assert _summary(summary)[:5] == (0, 1, 2, 0, 0)
    assert _stored(uow)[0][4] == case_before

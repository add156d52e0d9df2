"""Importing a Shopify products export into the catalogue: new variants are added, the same
file again changes nothing, a changed variant is updated, and bad rows are reported while the
good ones are stored. Runs on SQLite, and on PostgreSQL when configured."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from aftersales.adapters.db import schema
from aftersales.adapters.db.catalogue import SqlCatalogueRepository, catalogue_unit_of_work
from aftersales.adapters.shopify.products_csv import read_products
from aftersales.domain.catalogue import ProductVariant
from aftersales.domain.orders import OrderProblem
from aftersales.services.orders_import import ImportSummary
from aftersales.services.products_import import CHUNK, import_products
from support.messages import at

Catalogue = Callable[[], AbstractContextManager[SqlCatalogueRepository]]

HEADER = (
    "Handle,Title,Vendor,Type,Option1 Name,Option1 Value,Option2 Name,Option2 Value,Variant SKU,"
    "Variant Inventory Tracker,Variant Inventory Qty,Variant Price,Variant Compare At Price,"
    "Variant Barcode,Image Src,Variant Image,Status"
)
ROWS = (
    "tumbler-20,Steel Tumbler 20oz,Acme,Drinkware,Color,Black,Size,20oz,TUM-20-BLK,shopify,12,22.00,28.00,"
    "0012345678905,https://cdn.example.com/t.jpg,,active",
    "tumbler-20,,,,,White,,20oz,TUM-20-WHT,shopify,4,22.00,,,,https://cdn.example.com/w.jpg,",
    "tumbler-20,,,,,Red,,20oz,TUM-20-RED,shopify,4,22.00,,1.23457E+12,,,",
    "tumbler-20,,,,,,,,,,,,,,https://cdn.example.com/t2.jpg,,",
    "gift-card,Gift Card,Acme,,Title,Default Title,,,GIFT,,,25.00,,,,,active",
    "straws,Steel Straws,Acme,Straws,Title,Default Title,,,STR-4,shopify,lots,9.00,,,,,draft",
)


@pytest.fixture
def catalogue(engine: Engine) -> Catalogue:
    """A catalogue unit-of-work factory on an emptied product_variants table."""
    with engine.begin() as connection:
        connection.execute(schema.product_variants.delete())
    return catalogue_unit_of_work(engine)


def _export(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "products_export.csv"
    path.write_text("\n".join((HEADER, *rows)) + "\n", encoding="utf-8")
    return path


def _import(catalogue: Catalogue, path: Path, day: int = 25) -> ImportSummary:
    return import_products(catalogue, read_products(path), at(day, 9))


def _counts(summary: ImportSummary) -> tuple[int, int, int, int]:
    return summary.new, summary.updated, summary.unchanged, summary.failed


def test_importing_the_same_file_twice_changes_nothing(
    catalogue: Catalogue, engine: Engine, tmp_path: Path
) -> None:
    path = _export(tmp_path, *ROWS)

    first = _import(catalogue, path)
    stored_first = _stored_rows(engine)
    again = _import(catalogue, path, day=26)

    assert _counts(first) == (3, 0, 0, 2)
    assert [(p.line, p.reason.split(" was ")[0]) for p in first.failures] == [
        (4, "Variant Barcode '1.23457E+12'"),
        (7, "Variant Inventory Qty 'lots' is not a whole number from -2147483647 to 2147483647"),
    ]
    assert _counts(again) == (0, 0, 3, 2)
    assert _stored_rows(engine) == stored_first  # not even updated_at moved


def test_the_stored_variants_read_back_as_imported(catalogue: Catalogue, tmp_path: Path) -> None:
    _import(catalogue, _export(tmp_path, *ROWS))

    with catalogue() as repo:
        variants = repo.all_variants()
        white = repo.variants_by_sku("TUM-20-WHT")

    assert [(v.handle, v.variant_key, v.sku) for v in variants] == [
        ("gift-card", "", "GIFT"),
        ("tumbler-20", "Black / 20oz", "TUM-20-BLK"),
        ("tumbler-20", "White / 20oz", "TUM-20-WHT"),
    ]
    assert white == [
        ProductVariant(
            handle="tumbler-20",
            variant_key="White / 20oz",
            sku="TUM-20-WHT",
            title="Steel Tumbler 20oz",
            vendor="Acme",
            product_type="Drinkware",
            options=(("Color", "White"), ("Size", "20oz")),
            price=Decimal("22.00"),
            inventory=4,
            image_link="https://cdn.example.com/w.jpg",
            status="active",
        )
    ]
    assert variants[1].gtin == "0012345678905"
    assert variants[1].image_link == "https://cdn.example.com/t.jpg"


def test_a_changed_variant_is_updated_and_the_others_stay(
    catalogue: Catalogue, engine: Engine, tmp_path: Path
) -> None:
    _import(catalogue, _export(tmp_path, *ROWS))
    before = {row["sku"]: row for row in _stored_rows(engine)}
    changed = (
        ROWS[0],
        ROWS[1].replace("TUM-20-WHT,shopify,4,22.00", "TUM-20-WHT,shopify,0,19.50"),
        *ROWS[2:],
    )

    summary = _import(catalogue, _export(tmp_path, *changed), day=27)

    after = {row["sku"]: row for row in _stored_rows(engine)}
    assert _counts(summary) == (0, 1, 2, 2)
    assert (after["TUM-20-WHT"]["price"], after["TUM-20-WHT"]["inventory"]) == (Decimal("19.50"), 0)
    assert after["TUM-20-WHT"]["updated_at"] == at(27, 9)
    assert after["TUM-20-BLK"] == before["TUM-20-BLK"]


def test_a_key_given_twice_in_one_batch_keeps_the_later_variant(engine: Engine, catalogue: Catalogue) -> None:
    mug = ProductVariant(handle="mug", sku="MUG-1", price=Decimal("9"))

    with catalogue() as repo:
        outcomes = repo.upsert_variants([mug, replace(mug, price=Decimal("10")), mug], at(25, 9))
        unchanged = repo.upsert_variant(mug, at(25, 10))

    with catalogue() as repo:
        stored = repo.variants_by_sku("MUG-1")
    assert (outcomes, unchanged) == (["new", "updated", "updated"], "unchanged")
    assert stored == [mug]


def test_variants_are_stored_a_chunk_to_a_transaction(catalogue: Catalogue) -> None:
    variants = [ProductVariant(handle=f"p{n}", sku=f"SKU-{n}") for n in range(CHUNK * 2 + 1)]
    items: list[ProductVariant | OrderProblem] = [*variants, OrderProblem(9, "no product Handle on this row")]
    told: list[int] = []

    summary = import_products(catalogue, items, at(25, 9), told.append)

    assert _counts(summary) == (CHUNK * 2 + 1, 0, 0, 1)
    assert told == [CHUNK, CHUNK * 2, CHUNK * 2 + 2]
    with catalogue() as repo:
        assert len(repo.all_variants()) == CHUNK * 2 + 1


def test_a_read_only_unit_of_work_reads(engine: Engine, catalogue: Catalogue) -> None:
    with catalogue() as repo:
        repo.upsert_variant(ProductVariant(handle="lid", sku="LID-1"), at(25, 9))

    with catalogue_unit_of_work(engine, writes=False)() as repo:
        assert isinstance(repo, SqlCatalogueRepository)
        assert [v.handle for v in repo.variants_by_sku("LID-1")] == ["lid"]


def _stored_rows(engine: Engine) -> list[dict[str, Any]]:
    query = select(schema.product_variants).order_by(schema.product_variants.c.id)
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(query).mappings()]

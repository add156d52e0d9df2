"""Reading the Shopify Admin "Export products" CSV: one variant per row grouped by Handle,
product-level columns from a product's first row, image rows that add no variant, and bad rows
reported with their line number while the good variants are kept."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales.adapters.shopify.products_csv import read_products
from aftersales.domain.catalogue import ProductVariant
from aftersales.domain.errors import InputError
from aftersales.domain.orders import OrderProblem

# the classic export's header
_CLASSIC_TEXT = (
    "Handle,Title,Body (HTML),Vendor,Type,Tags,Published,Option1 Name,Option1 Value,Option2 Name,"
    "Option2 Value,Option3 Name,Option3 Value,Variant SKU,Variant Grams,Variant Inventory Tracker,"
    "Variant Inventory Qty,Variant Inventory Policy,Variant Fulfillment Service,Variant Price,"
    "Variant Compare At Price,Variant Requires Shipping,Variant Taxable,Variant Barcode,Image Src,"
    "Image Position,Image Alt Text,Gift Card,SEO Title,SEO Description,"
    "Google Shopping / Google Product Category,Google Shopping / Gender,Google Shopping / MPN,"
    "Variant Image,Variant Weight Unit,Variant Tax Code,Cost per item,Status"
)
CLASSIC = _CLASSIC_TEXT.split(",")
# a newer export: renamed columns, and no inventory quantity
_NEWER_TEXT = (
    "Title,URL handle,Description,Vendor,Product category,Type,Tags,Published on online store,"
    "Status,SKU,Barcode,Option1 name,Option1 value,Option2 name,Option2 value,Price,"
    "Compare-at price,Cost per item,Product image URL,Image position,Variant image URL"
)
NEWER = _NEWER_TEXT.split(",")


def _write(tmp_path: Path, header: list[str], *rows: dict[str, str]) -> Path:
    """An export under ``header``: each row the columns given, the rest empty."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, restval="")
    writer.writeheader()
    writer.writerows(rows)
    path = tmp_path / "products_export.csv"
    path.write_text("\ufeff" + out.getvalue(), encoding="utf-8")
    return path


def _read(path: Path) -> tuple[list[ProductVariant], list[OrderProblem]]:
    items = list(read_products(path))
    return (
        [item for item in items if isinstance(item, ProductVariant)],
        [item for item in items if isinstance(item, OrderProblem)],
    )


TUMBLER_FIRST = {
    "Handle": "tumbler-20",
    "Title": "Steel Tumbler 20oz",
    "Vendor": "Acme",
    "Type": "Drinkware",
    "Option1 Name": "Color",
    "Option1 Value": "Black",
    "Option2 Name": "Lid",
    "Option2 Value": "Slide",
    "Variant SKU": "TUM-20-BLK",
    "Variant Inventory Tracker": "shopify",
    "Variant Inventory Qty": "12",
    "Variant Price": "22.00",
    "Variant Compare At Price": "28.00",
    "Variant Barcode": " 0012345678905 ",
    "Image Src": "https://cdn.example.com/tumbler-front.jpg",
    "Image Position": "1",
    "Status": "active",
}


def test_a_product_of_two_variants_and_an_image_row(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        CLASSIC,
        TUMBLER_FIRST,
        {
            "Handle": "tumbler-20",
            "Option1 Value": "White",
            "Option2 Value": "Slide",
            "Variant SKU": "TUM-20-WHT",
            "Variant Inventory Qty": "3",
            "Variant Price": "22.00",
            "Variant Image": "https://cdn.example.com/tumbler-white.jpg",
        },
        {
            "Handle": "tumbler-20",
            "Image Src": "https://cdn.example.com/tumbler-back.jpg",
            "Image Position": "2",
        },
    )

    variants, problems = _read(path)

    assert problems == []
    assert variants == [
        ProductVariant(
            handle="tumbler-20",
            variant_key="Black / Slide",
            sku="TUM-20-BLK",
            title="Steel Tumbler 20oz",
            vendor="Acme",
            product_type="Drinkware",
            options=(("Color", "Black"), ("Lid", "Slide")),
            gtin="0012345678905",
            price=Decimal("22.00"),
            compare_at_price=Decimal("28.00"),
            inventory=12,
            image_link="https://cdn.example.com/tumbler-front.jpg",
            status="active",
        ),
        ProductVariant(
            handle="tumbler-20",
            variant_key="White / Slide",
            sku="TUM-20-WHT",
            title="Steel Tumbler 20oz",
            vendor="Acme",
            product_type="Drinkware",
            options=(("Color", "White"), ("Lid", "Slide")),
            price=Decimal("22.00"),
            inventory=None,  # no tracker named on its row: not tracked
            image_link="https://cdn.example.com/tumbler-white.jpg",
            status="active",
        ),
    ]


def test_a_single_default_title_variant_has_the_empty_key(tmp_path: Path) -> None:
    row = {"Handle": "gift-card", "Title": "Gift Card", "Option1 Name": "Title"}
    path = _write(tmp_path, CLASSIC, row | {"Option1 Value": "Default Title", "Variant Price": "25"})

    variants, problems = _read(path)

    assert problems == []
    assert [(v.handle, v.variant_key, v.options, v.price) for v in variants] == [
        ("gift-card", "", (), Decimal("25"))
    ]


def test_the_image_is_the_products_first_one_when_the_first_row_has_none(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        CLASSIC,
        TUMBLER_FIRST | {"Image Src": ""},
        {"Handle": "tumbler-20", "Image Src": "https://cdn.example.com/tumbler-back.jpg"},
    )

    variants, _ = _read(path)

    assert [v.image_link for v in variants] == ["https://cdn.example.com/tumbler-back.jpg"]


def test_the_renamed_columns_of_a_newer_export_are_read(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        NEWER,
        {
            "URL handle": "canvas-tote",
            "Title": "Canvas Tote",
            "Vendor": "North Studio",
            "Status": "Active",
            "SKU": "TB-010",
            "Barcode": "4006381333931",
            "Option1 name": "Size",
            "Option1 value": "Large",
            "Price": "29.90",
            "Compare-at price": "35.00",
            "Product image URL": "https://cdn.example.com/tote.jpg",
        },
    )

    variants, problems = _read(path)

    assert problems == []
    assert variants == [
        ProductVariant(
            handle="canvas-tote",
            variant_key="Large",
            sku="TB-010",
            title="Canvas Tote",
            vendor="North Studio",
            options=(("Size", "Large"),),
            gtin="4006381333931",
            price=Decimal("29.90"),
            compare_at_price=Decimal("35.00"),
            inventory=None,
            image_link="https://cdn.example.com/tote.jpg",
            status="active",
        )
    ]


def test_an_export_without_a_tracker_column_keeps_the_quantity(tmp_path: Path) -> None:
    header = ["Handle", "Title", "Variant SKU", "Variant Inventory Qty"]
    path = _write(
        tmp_path,
        header,
        {"Handle": "mug", "Title": "Mug", "Variant SKU": "MUG-1", "Variant Inventory Qty": "-2"},
    )

    variants, _ = _read(path)

    assert [(v.sku, v.inventory) for v in variants] == [("MUG-1", -2)]


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        pytest.param(
            {"Variant Price": "12,50"}, "Variant Price '12,50' is not an amount like 24.00", id="comma_case"
        ),
        pytest.param(
            {"Variant Price": "$12.50"},
            "Variant Price '$12.50' is not an amount like 24.00",
            id="currency_sign_case",
        ),
        pytest.param(
            {"Variant Price": "-1.00"},
            "Variant Price '-1.00' is not an amount like 24.00",
            id="negative_case",
        ),
        pytest.param(
            {"Variant Compare At Price": "1.23456"},
            "Variant Compare At Price '1.23456' has more than 4 decimal places",
            id="too_precise_case",
        ),
        pytest.param(
            {"Variant Inventory Qty": "twelve"},
            "Variant Inventory Qty 'twelve' is not a whole number",
            id="quantity_case",
        ),
        pytest.param(
            {"Variant Inventory Qty": "12.0"},
            "Variant Inventory Qty '12.0' is not a whole number",
            id="decimal_quantity_case",
        ),
        pytest.param(
            {"Variant Barcode": "1.23457E+12"},
            "Variant Barcode '1.23457E+12' was turned into a number by a spreadsheet",
            id="excel_barcode_case",
        ),
        pytest.param({"Variant SKU": "S" * 101}, "Variant SKU 'SSSS", id="long_sku_case"),
    ],
)
def test_a_bad_value_is_a_problem_of_its_row_and_the_other_rows_are_kept(
    tmp_path: Path, values: dict[str, str], reason: str
) -> None:
    second = {
        "Handle": "tumbler-20",
        "Option1 Value": "White",
        "Option2 Value": "Slide",
        "Variant SKU": "TUM-20-WHT",
        "Variant Inventory Tracker": "shopify",
    }
    third = {
        "Handle": "tumbler-20",
        "Option1 Value": "Red",
        "Option2 Value": "Slide",
        "Variant SKU": "TUM-20-RED",
    }
    path = _write(tmp_path, CLASSIC, TUMBLER_FIRST, second | values, third)

    variants, problems = _read(path)

    assert [v.sku for v in variants] == ["TUM-20-BLK", "TUM-20-RED"]
    assert [p.line for p in problems] == [3]
    assert problems[0].reason.startswith(reason)
    assert variants[1].title == "Steel Tumbler 20oz"  # the product's columns survive a bad row


def test_a_bad_first_row_keeps_the_products_columns_for_the_others(tmp_path: Path) -> None:
    second = {
        "Handle": "tumbler-20",
        "Option1 Value": "White",
        "Option2 Value": "Slide",
        "Variant SKU": "TUM-20-WHT",
    }
    path = _write(tmp_path, CLASSIC, TUMBLER_FIRST | {"Variant Price": "n/a"}, second)

    variants, problems = _read(path)

    assert [(p.line, p.reason) for p in problems] == [(2, "Variant Price 'n/a' is not an amount like 24.00")]
    assert [(v.sku, v.title, v.options) for v in variants] == [
        ("TUM-20-WHT", "Steel Tumbler 20oz", (("Color", "White"), ("Lid", "Slide")))
    ]


def test_a_product_whose_option_names_repeat_is_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, CLASSIC, TUMBLER_FIRST | {"Option2 Name": "Color"})

    variants, problems = _read(path)

    assert variants == []
    assert [(p.line, p.reason) for p in problems] == [
        (2, "the option names Color, Color repeat one: each must be different")
    ]


def test_a_handle_too_long_to_store_skips_its_product_once(tmp_path: Path) -> None:
    handle = "h" * 256
    path = _write(
        tmp_path, CLASSIC, TUMBLER_FIRST | {"Handle": handle}, {"Handle": handle, "Image Src": "x.jpg"}
    )

    variants, problems = _read(path)

    assert variants == []
    assert [(p.line, p.reason) for p in problems] == [
        (2, "Handle is longer than 255 characters: the product's 2 rows are skipped")
    ]


def test_rows_without_a_handle_and_repeated_variants_are_reported(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        CLASSIC,
        {"Title": "Lost row", "Variant SKU": "X-1"},
        TUMBLER_FIRST,
        {
            "Handle": "tumbler-20",
            "Option1 Value": "Black",
            "Option2 Value": "Slide",
            "Variant SKU": "TUM-20-BLK2",
        },
    )

    variants, problems = _read(path)

    assert [v.sku for v in variants] == ["TUM-20-BLK"]
    assert [(p.line, p.reason) for p in problems] == [
        (2, "no product Handle on this row"),
        (4, "variant 'Black / Slide' of 'tumbler-20' is also on line 3"),
    ]


def test_rows_of_a_product_are_grouped_wherever_they_stand(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        CLASSIC,
        TUMBLER_FIRST,
        {
            "Handle": "mug",
            "Title": "Mug",
            "Option1 Name": "Title",
            "Option1 Value": "Default Title",
            "Variant SKU": "MUG-1",
        },
        {
            "Handle": "tumbler-20",
            "Option1 Value": "White",
            "Option2 Value": "Slide",
            "Variant SKU": "TUM-20-WHT",
        },
    )

    variants, _ = _read(path)

    assert [(v.handle, v.sku, v.title) for v in variants] == [
        ("tumbler-20", "TUM-20-BLK", "Steel Tumbler 20oz"),
        ("tumbler-20", "TUM-20-WHT", "Steel Tumbler 20oz"),
        ("mug", "MUG-1", "Mug"),
    ]


def test_a_file_without_a_handle_column_is_refused_naming_what_it_has(tmp_path: Path) -> None:
    path = tmp_path / "orders_export.csv"
    path.write_text("Name,Email\n#1001,ana@example.com\n", encoding="utf-8")

    with pytest.raises(InputError, match=r"no Handle column \(found: Name, Email\)"):
        read_products(path)


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "products_export.csv"
    path.write_bytes(b"Handle,Title\nmug,Caf\xe9 Mug\n")

    with pytest.raises(InputError, match="not UTF-8"):
        read_products(path)


_CELL = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12)


@settings(max_examples=60, deadline=None)
@given(price=_CELL, quantity=_CELL, barcode=_CELL, option=_CELL)
def test_any_cell_values_give_a_variant_or_a_problem_of_that_line(
    tmp_path_factory: pytest.TempPathFactory, price: str, quantity: str, barcode: str, option: str
) -> None:
    tmp_path = tmp_path_factory.mktemp("export")
    row = TUMBLER_FIRST | {
        "Variant Price": price,
        "Variant Inventory Qty": quantity,
        "Variant Barcode": barcode,
        "Option1 Value": option,
    }
    path = _write(tmp_path, CLASSIC, row)

    variants, problems = _read(path)

    assert len(variants) + len(problems) == 1
    assert all(problem.line == 2 for problem in problems)

"""The feed audit's rules: one planted defect of each kind gives exactly one finding, the
price parser and the GTIN rules hold for any input, and findings link the cases they explain."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import ean

from aftersales.domain.catalogue import ProductVariant
from aftersales.domain.feed_audit import (
    Availability,
    CaseRef,
    Catalogue,
    FeedFinding,
    FeedItem,
    FindingKind,
    InvalidValue,
    Severity,
    audit,
    gtin_defect,
    links_for,
    normalise_availability,
    parse_price,
)
from aftersales.domain.writeback import Target

IMAGE = "https://cdn.shopify.com/s/files/1/products/tumbler-20-black.jpg"
VARIANT = ProductVariant(
    handle="20oz-tumbler",
    variant_key="Black / M",
    sku="TMB-20-BLK",
    title="20oz tumbler",
    options=(("Color", "Black"), ("Size", "M")),
    gtin="850012345015",
    price=Decimal("34.00"),
    inventory=40,
    image_link=f"{IMAGE}?v=1731000000",
    status="active",
)
ITEM = FeedItem(
    id="TMB-20-BLK",
    where="line 2",
    image_link=IMAGE,
    price="34.00 USD",
    availability="in_stock",
    gtin="850012345015",
    color="black",
    size="M",
    item_group_id="20oz-tumbler",
)


def _findings(item: dict[str, Any], variant: dict[str, Any] | None = None) -> list[FeedFinding]:
    return audit([replace(ITEM, **item)], Catalogue([replace(VARIANT, **(variant or {}))]), "USD")


@pytest.mark.parametrize(
    ("item", "variant", "kind", "feed_value", "shop_value"),
    [
        ({"gtin": "850012345016"}, {"gtin": "850012345016"}, FindingKind.GTIN_CHECK_DIGIT, "850012345016", "850012345016"),
        ({"gtin": "8500-1234-5015"}, {}, FindingKind.GTIN_INVALID, "8500-1234-5015", "850012345015"),
        ({"gtin": "85001234501"}, {}, FindingKind.GTIN_INVALID, "85001234501", "850012345015"),
        ({"gtin": "2001234500012"}, {"gtin": "2001234500012"}, FindingKind.GTIN_RESTRICTED_PREFIX, "2001234500012", "2001234500012"),
        ({"gtin": "9812345000017"}, {"gtin": ""}, FindingKind.GTIN_COUPON_PREFIX, "9812345000017", ""),
        ({"gtin": ""}, {}, FindingKind.GTIN_MISSING, "", "850012345015"),
        ({"gtin": "850012345022"}, {}, FindingKind.GTIN_MISMATCH, "850012345022", "850012345015"),
        ({"price": "34,00 USD"}, {}, FindingKind.PRICE_INVALID, "34,00 USD", "34.00 USD"),
        ({"price": "30.00 USD"}, {}, FindingKind.PRICE_MISMATCH, "30.00 USD", "34.00 USD"),
        ({"price": "34.00 EUR"}, {}, FindingKind.PRICE_MISMATCH, "34.00 EUR", "34.00 USD"),
        ({"price": "40.00 USD", "sale_price": "30.00 USD"}, {}, FindingKind.PRICE_MISMATCH, "30.00 USD", "34.00 USD"),
        ({"availability": "maybe"}, {}, FindingKind.AVAILABILITY_INVALID, "maybe", ""),
        ({"availability": "in stock"}, {"inventory": 0}, FindingKind.AVAILABILITY_MISMATCH, "in stock", "inventory 0"),
        ({}, {"status": "draft"}, FindingKind.AVAILABILITY_MISMATCH, "in_stock", "status draft"),
        ({"availability": "out_of_stock"}, {}, FindingKind.AVAILABILITY_MISMATCH, "out_of_stock", "inventory 40"),
        ({"color": "White"}, {}, FindingKind.COLOR_MISMATCH, "White", "Black"),
        ({"size": "L"}, {}, FindingKind.SIZE_MISMATCH, "L", "M"),
        ({"image_link": "https://cdn.shopify.com/s/files/1/products/tumbler-20-white.jpg"}, {}, FindingKind.IMAGE_MISMATCH,
         "https://cdn.shopify.com/s/files/1/products/tumbler-20-white.jpg", f"{IMAGE}?v=1731000000"),
        ({"id": "TMB-99-XXX", "gtin": "850012345039", "item_group_id": ""}, {}, FindingKind.UNMATCHED_ITEM, "TMB-99-XXX", ""),
    ],
)  # fmt: skip
def test_each_planted_defect_is_one_finding(
    item: dict[str, Any], variant: dict[str, Any], kind: FindingKind, feed_value: str, shop_value: str
) -> None:
    findings = _findings(item, variant)

    assert [(f.kind, f.feed_value, f.shop_value, f.where) for f in findings] == [
        (kind, feed_value, shop_value, "line 2")
    ]
    assert findings[0].key == f"feed|{kind.value}|{findings[0].sku}"


@pytest.mark.parametrize(
    ("item", "variant"),
    [
        ({}, {}),
        ({"availability": "preorder"}, {"inventory": 0}),
        ({"availability": "backorder"}, {"inventory": 0}),
        ({"availability": "out of stock"}, {"inventory": None}),  # untracked: the shop decides
        ({"availability": "out_of_stock"}, {"status": "archived"}),
        ({"gtin": "", "identifier_exists": "no"}, {"gtin": ""}),
        ({"gtin": "0850012345015"}, {}),  # the same number as GTIN-13
        ({"price": "USD 34"}, {}),
        ({"color": "BLACK", "size": ""}, {}),
        ({"image_link": IMAGE.replace("https:", "http:")}, {}),
        ({"image_link": "https://elsewhere.example/x.jpg"}, {"image_link": ""}),
    ],
)
def test_an_item_that_agrees_with_the_shop_gives_no_finding(
    item: dict[str, Any], variant: dict[str, Any]
) -> None:
    assert _findings(item, variant) == []


@pytest.mark.parametrize(
    ("item", "expected_sku"),
    [
        ({"id": "shopify_US_1_2", "mpn": "TMB-20-BLK"}, "TMB-20-BLK"),  # mpn
        ({"id": "shopify_US_1_2", "mpn": ""}, "TMB-20-BLK"),  # GTIN
        ({"id": "shopify_US_1_2", "gtin": "", "identifier_exists": "false"}, "TMB-20-BLK"),  # group + options
        ({"id": "shopify_US_1_3", "gtin": "", "identifier_exists": "false", "color": "Red"}, None),
    ],
)
def test_items_are_matched_by_sku_then_gtin_then_group_and_options(
    item: dict[str, Any], expected_sku: str | None
) -> None:
    variant = Catalogue([VARIANT]).match(replace(ITEM, **item))

    assert (variant.sku if variant else None) == expected_sku


def test_rules_name_the_target_and_severity() -> None:
    (finding,) = _findings({"color": "White"})

    assert (finding.rule.target, finding.rule.severity) == (Target.SKU_NAMING, Severity.ERROR)
    (finding,) = _findings({"image_link": "https://cdn.example/other.jpg"})
    assert finding.rule.target is Target.VARIANT_IMAGES


# ------------------------------------------------------------------------------ values


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("12.00 USD", "12.00", "USD"),
        ("USD 12", "12", "USD"),
        ("1,299.50 eur", "1299.50", "EUR"),
        (" 0.99USD ", "0.99", "USD"),
    ],
)
def test_prices_are_read_as_amount_and_currency(text: str, amount: str, currency: str) -> None:
    price = parse_price(text)

    assert (price.amount, price.currency) == (Decimal(amount), currency)


@pytest.mark.parametrize(
    "text", ["", "12.00", "USD 12.00 EUR", "12,00 EUR", "$12.00", "twelve USD", "1,29 USD"]
)
def test_a_price_without_one_currency_or_a_plain_amount_is_refused(text: str) -> None:
    with pytest.raises(InvalidValue):
        parse_price(text)


@given(
    amount=st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False),
    currency=st.sampled_from(["USD", "EUR", "GBP", "JPY"]),
    before=st.booleans(),
)
def test_any_formatted_price_reads_back(amount: Decimal, currency: str, before: bool) -> None:
    text = f"{currency} {amount}" if before else f"{amount} {currency}"

    assert parse_price(text) == type(parse_price(text))(amount, currency)


@given(st.text(max_size=20))
def test_the_price_parser_never_fails_otherwise(text: str) -> None:
    try:
        price = parse_price(text)
    except InvalidValue:
        return
    assert price.amount >= 0
    assert len(price.currency) == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("in_stock", Availability.IN_STOCK),
        ("In Stock", Availability.IN_STOCK),
        ("out of stock", Availability.OUT_OF_STOCK),
        ("pre-order", Availability.PREORDER),
        ("backorder", Availability.BACKORDER),
        ("available", None),
        ("", None),
    ],
)
def test_availability_is_normalised(text: str, expected: Availability | None) -> None:
    assert normalise_availability(text) is expected


@given(body=st.sampled_from([7, 11, 12, 13]).flatmap(lambda n: st.text("0123456789", min_size=n, max_size=n)))
def test_a_gtin_with_its_check_digit_passes_and_any_other_digit_fails(body: str) -> None:
    good = body + ean.calc_check_digit(body)
    wrong = body + str((int(good[-1]) + 1) % 10)

    assert gtin_defect(good) in (None, FindingKind.GTIN_RESTRICTED_PREFIX, FindingKind.GTIN_COUPON_PREFIX)
    assert gtin_defect(wrong) is FindingKind.GTIN_CHECK_DIGIT


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("21234567890", FindingKind.GTIN_RESTRICTED_PREFIX),  # UPC-A number system 2: 02…
        ("041234567890", FindingKind.GTIN_RESTRICTED_PREFIX),
        ("41234567890", FindingKind.GTIN_RESTRICTED_PREFIX),  # UPC-A number system 4: 04…
        ("212345678901", FindingKind.GTIN_RESTRICTED_PREFIX),
        ("981234567890", FindingKind.GTIN_COUPON_PREFIX),
        ("991234567890", FindingKind.GTIN_COUPON_PREFIX),
        ("1212345678901", FindingKind.GTIN_RESTRICTED_PREFIX),  # GTIN-14: the indicator digit aside
        ("85001234501", None),
        ("400638133393", None),
    ],
)
def test_prefixes_merchant_center_refuses(body: str, expected: FindingKind | None) -> None:
    assert gtin_defect(body + ean.calc_check_digit(body)) is expected


# ------------------------------------------------------------------------------ links


def _case(case_id: int, route: str) -> CaseRef:
    return CaseRef(id=case_id, route=route, subject=f"case {case_id}", is_open=True)


ON_SKU = (_case(1, "wrong_item"), _case(2, "shipping_delay"), _case(4, "wrong_item"))


@pytest.mark.parametrize(
    ("kind", "saying", "expected"),
    [
        (FindingKind.COLOR_MISMATCH, (), [(1, "wrong item on this SKU"), (4, "wrong item on this SKU")]),
        (FindingKind.PRICE_MISMATCH, (), [(1, "same SKU"), (2, "same SKU"), (4, "same SKU")]),
        (
            FindingKind.AVAILABILITY_MISMATCH,
            (_case(3, "pre_purchase"), _case(2, "shipping_delay")),
            [(1, "same SKU"), (2, "same SKU"), (3, "says in stock"), (4, "same SKU")],
        ),
    ],
)
def test_findings_link_the_cases_they_explain(
    kind: FindingKind, saying: tuple[CaseRef, ...], expected: list[tuple[int, str]]
) -> None:
    finding = FeedFinding(
        kind=kind, sku="TMB-20-BLK", feed_id="TMB-20-BLK", where="line 2", feed_value="", shop_value=""
    )

    assert [(link.case.id, link.why) for link in links_for(finding, ON_SKU, saying)] == expected

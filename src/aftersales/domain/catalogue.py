"""The shop's catalogue: one product variant as the shop sells it, mirrored from a product
export (never edited here), so cases can name what a SKU or barcode is.

A variant is known by its product's handle and its option values ("Black / M"); a product
sold in one variant only (Shopify's "Title: Default Title") has the empty variant key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

# Shopify's placeholder option of a product that has no options.
DEFAULT_OPTION = ("Title", "Default Title")
KEY_SEPARATOR = " / "


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductVariant:
    handle: str
    variant_key: str = ""
    sku: str = ""
    title: str = ""  # the product's title
    vendor: str = ""
    product_type: str = ""
    options: tuple[tuple[str, str], ...] = ()  # (option name, value), in the shop's option order
    gtin: str = ""  # the variant's barcode as the shop holds it (GTIN, UPC, EAN, ISBN)
    price: Decimal | None = None
    compare_at_price: Decimal | None = None
    inventory: int | None = None  # None: the shop does not track this variant's stock
    image_link: str = ""
    status: str = ""  # active, draft, archived ("" in exports older than the column)


def variant_options(pairs: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The options that tell a variant apart: named values only, and none for a product's
    single default variant."""
    options = tuple((name, value) for name, value in pairs if value)
    if len(options) == 1 and options[0][1] == DEFAULT_OPTION[1]:
        return ()
    return options


def variant_key(options: Sequence[tuple[str, str]]) -> str:
    """The option values joined as the shop shows them: "Black / M"; "" for no options."""
    return KEY_SEPARATOR.join(value for _, value in options)

"""The Shopify Admin "Export products" CSV, read into catalogue variants.

One row per variant, grouped by `Handle` wherever the rows stand. The product-level columns
(Title, Vendor, Type, Status, the option names) are filled on a product's first row only, and
rows that carry only `Handle` and `Image Src` add images, not variants. Columns are found by
header name, so missing, extra, reordered and older columns are all fine; the renamed columns
of newer exports ("URL handle", "SKU", "Price", "Product image URL", …) are read too. Only
`Handle` is required. A row with a bad value is reported with its CSV line number and the
reason, and the other rows are still read.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from aftersales.domain.catalogue import ProductVariant, variant_key, variant_options
from aftersales.domain.errors import InputError
from aftersales.domain.orders import OrderProblem
from aftersales.domain.values import BadValue, read_amount, read_whole

# the widest values the product_variants table takes (see adapters/db/schema.py)
_HANDLE_WIDTH, _KEY_WIDTH, _SKU_WIDTH, _GTIN_WIDTH, _LINK_WIDTH = 255, 500, 100, 64, 2000
_TITLE_WIDTH, _VENDOR_WIDTH, _TYPE_WIDTH, _STATUS_WIDTH = 300, 200, 200, 32
_MONEY_DIGITS, _MONEY_PLACES = 15, 4  # NUMERIC(19, 4)
_MAX_INVENTORY = 2**31 - 1  # an INTEGER column
# what a spreadsheet leaves of a long barcode it took for a number: 1.23457E+12
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+")


@dataclass(frozen=True, slots=True)
class _Column:
    """One column of the export: its name for messages, and the header names it goes by
    (lower-cased; the classic name first, then the one newer exports use)."""

    label: str
    keys: tuple[str, ...]


def _column(*names: str) -> _Column:
    return _Column(names[0], tuple(name.lower() for name in names))


HANDLE = _column("Handle", "URL handle")
TITLE = _column("Title")
VENDOR = _column("Vendor")
TYPE = _column("Type")
STATUS = _column("Status")
SKU = _column("Variant SKU", "SKU")
BARCODE = _column("Variant Barcode", "Barcode")
PRICE = _column("Variant Price", "Price")
COMPARE_AT = _column("Variant Compare At Price", "Compare-at price")
TRACKER = _column("Variant Inventory Tracker", "Inventory tracker")
QUANTITY = _column("Variant Inventory Qty", "Inventory quantity")
IMAGE = _column("Image Src", "Product image URL")
VARIANT_IMAGE = _column("Variant Image", "Variant image URL")
OPTION_NAMES = tuple(_column(f"Option{n} Name") for n in (1, 2, 3))
OPTION_VALUES = tuple(_column(f"Option{n} Value") for n in (1, 2, 3))
_SCALARS = (HANDLE, TITLE, VENDOR, TYPE, STATUS, SKU, BARCODE, PRICE, COMPARE_AT, TRACKER, QUANTITY)
_READ_KEYS = frozenset(
    key for column in (*_SCALARS, IMAGE, VARIANT_IMAGE, *OPTION_NAMES, *OPTION_VALUES) for key in column.keys
)
# a row after a product's first one is a variant when it has one of these; else an image row
_VARIANT_SIGNS = (*OPTION_VALUES, SKU, PRICE, BARCODE)


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    values: Mapping[str, str]

    def get(self, column: _Column) -> str:
        for key in column.keys:
            if (value := self.values.get(key)) and (value := value.strip()):
                return value
        return ""


@dataclass(frozen=True, slots=True)
class _Product:
    """What a product's first row says for all its variants."""

    handle: str
    title: str
    vendor: str
    product_type: str
    status: str
    option_names: tuple[str, ...]
    image: str
    tracks_by_column: bool  # the export has an inventory tracker column


def read_products(path: Path) -> Iterator[ProductVariant | OrderProblem]:
    """Each variant of the export at ``path`` (products in the order first seen), or the
    problem with a row; rows without a Handle come first.

    The whole file is read (and its header checked) before the first variant is handed over.
    """
    groups, problems, has_tracker = _grouped_rows(path)
    return _variants(groups, problems, has_tracker=has_tracker)


def _variants(
    groups: Mapping[str, list[_Row]], problems: list[OrderProblem], *, has_tracker: bool
) -> Iterator[ProductVariant | OrderProblem]:
    yield from problems
    for handle, rows in groups.items():
        yield from _product_variants(handle, rows, has_tracker=has_tracker)


def _grouped_rows(path: Path) -> tuple[dict[str, list[_Row]], list[OrderProblem], bool]:
    groups: dict[str, list[_Row]] = {}
    problems: list[OrderProblem] = []
    header, rows = _rows(path)
    for row in rows:
        handle = row.get(HANDLE)
        if not handle:
            problems.append(OrderProblem(row.line, "no product Handle on this row"))
        else:
            groups.setdefault(handle, []).append(row)
    has_tracker = any(key in header for key in TRACKER.keys)
    return groups, problems, has_tracker


def _rows(path: Path) -> tuple[list[str], list[_Row]]:
    where = str(path)
    rows: list[_Row] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            reader = csv.reader(file)
            header = _header(next(reader, []), where)
            # only the columns read are kept: an export has dozens more
            wanted = [(index, key) for index, key in enumerate(header) if key in _READ_KEYS]
            line = reader.line_num + 1
            for cells in reader:
                if any(cell.strip() for cell in cells):
                    values = {key: cells[index] for index, key in wanted if index < len(cells)}
                    rows.append(_Row(line, values))
                line = reader.line_num + 1
    except OSError as error:
        raise InputError(f"cannot read the products file: {error.strerror}", where) from None
    except UnicodeDecodeError:
        raise InputError("the products file is not UTF-8 text", where) from None
    except csv.Error as error:
        raise InputError(f"not a readable CSV file: {error}", where) from None
    return header, rows


def _header(cells: list[str], where: str) -> list[str]:
    header = [cell.strip().lower() for cell in cells]
    if not any(key in header for key in HANDLE.keys):
        found = ", ".join(cell.strip() for cell in cells if cell.strip()) or "nothing"
        raise InputError(f"not a Shopify products export: no Handle column (found: {found})", where)
    return header


def _product_variants(
    handle: str, rows: Sequence[_Row], *, has_tracker: bool
) -> Iterator[ProductVariant | OrderProblem]:
    first = rows[0]
    if len(handle) > _HANDLE_WIDTH:
        reason = (
            f"Handle is longer than {_HANDLE_WIDTH} characters: the product's {len(rows)} rows are skipped"
        )
        yield OrderProblem(first.line, reason)
        return
    product = _product(handle, rows, has_tracker=has_tracker)
    first_line: dict[str, int] = {}
    for row in rows:
        if row is not first and not any(row.get(column) for column in _VARIANT_SIGNS):
            continue  # an image row
        try:
            variant = _variant(product, row)
        except BadValue as error:
            yield OrderProblem(row.line, error.reason)
            continue
        if (seen := first_line.setdefault(variant.variant_key, row.line)) != row.line:
            reason = (
                f"variant {variant.variant_key or 'Default Title'!r} of {handle!r} is also on line {seen}"
            )
            yield OrderProblem(row.line, reason)
            continue
        yield variant


def _product(handle: str, rows: Sequence[_Row], *, has_tracker: bool) -> _Product:
    first = rows[0]
    return _Product(
        handle=handle,
        title=first.get(TITLE)[:_TITLE_WIDTH],
        vendor=first.get(VENDOR)[:_VENDOR_WIDTH],
        product_type=first.get(TYPE)[:_TYPE_WIDTH],
        status=first.get(STATUS).lower()[:_STATUS_WIDTH],
        option_names=tuple(first.get(column) for column in OPTION_NAMES),
        # an over-long link is no link: the variant still imports, without the image
        image=next((link for row in rows if (link := row.get(IMAGE)) and len(link) <= _LINK_WIDTH), ""),
        tracks_by_column=has_tracker,
    )


def _variant(product: _Product, row: _Row) -> ProductVariant:
    options = _options(product, row)
    return ProductVariant(
        handle=product.handle,
        variant_key=variant_key(options),
        sku=_limited(row, SKU, _SKU_WIDTH),
        title=product.title,
        vendor=product.vendor,
        product_type=product.product_type,
        options=options,
        gtin=_barcode(row),
        price=_money(row, PRICE),
        compare_at_price=_money(row, COMPARE_AT),
        inventory=_inventory(row, tracks_by_column=product.tracks_by_column),
        image_link=_limited(row, VARIANT_IMAGE, _LINK_WIDTH) or product.image,
        status=product.status,
    )


def _options(product: _Product, row: _Row) -> tuple[tuple[str, str], ...]:
    pairs = [
        (name or f"Option{n}", row.get(column))
        for n, (name, column) in enumerate(zip(product.option_names, OPTION_VALUES, strict=True), 1)
    ]
    options = variant_options(pairs)
    names = [name for name, _ in options]
    if len(set(names)) < len(names):
        raise BadValue(f"the option names {', '.join(names)} repeat one: each must be different")
    if len(variant_key(options)) > _KEY_WIDTH:
        raise BadValue(f"the option values are longer than {_KEY_WIDTH} characters together")
    return options


def _limited(row: _Row, column: _Column, width: int) -> str:
    value = row.get(column)
    if len(value) > width:
        raise BadValue(f"{column.label} {value[:40]!r}… is longer than {width} characters")
    return value


def _barcode(row: _Row) -> str:
    value = _limited(row, BARCODE, _GTIN_WIDTH)
    if _SCIENTIFIC.fullmatch(value):
        raise BadValue(
            f"{BARCODE.label} {value!r} was turned into a number by a spreadsheet and its digits "
            "are lost: export the products again, or import the file with that column as text"
        )
    return value


def _money(row: _Row, column: _Column) -> Decimal | None:
    value = row.get(column)
    if not value:
        return None
    # plain digits, as Shopify writes them: no currency sign, thousands separator or exponent
    return read_amount(value, column.label, digits=_MONEY_DIGITS, places=_MONEY_PLACES)


def _inventory(row: _Row, *, tracks_by_column: bool) -> int | None:
    """The stock on hand; None when the shop does not track it (no tracker named, or no
    quantity column: newer exports leave stock to the inventory export)."""
    value = row.get(QUANTITY)
    if not value or (tracks_by_column and not row.get(TRACKER)):
        return None
    return read_whole(value, QUANTITY.label, low=-_MAX_INVENTORY, high=_MAX_INVENTORY)

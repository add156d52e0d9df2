"""The Shopify Admin "Export orders" CSV, read into order facts.

One row per line item; order-level columns are filled on an order's first row only. Columns
are found by header name, so missing, extra, reordered and older columns are all fine
(`Fulfilled at` or the older `Fulfillment Date`); only `Name` is required. Rows are grouped by
`Name` ("#1043" is order "1043") wherever they stand. An order with a bad value is reported
with its CSV line number and the reason, and the others are still read.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from aftersales.domain.errors import InputError
from aftersales.domain.orders import (
    Address,
    ImportedOrder,
    LineItem,
    OrderFacts,
    OrderProblem,
    Refund,
    address_or_none,
)
from aftersales.domain.values import MAX_ID, BadValue, in_window, read_amount, read_text, read_whole

REQUIRED = ("Name",)
_FULFILLED = ("Fulfilled at", "Fulfillment Date")
_REFUND_REASON = "refunded amount in the Shopify export"
# the widest values the orders tables take (see adapters/db/schema.py)
_NUMBER_WIDTH, _SKU_WIDTH, _TITLE_WIDTH, _COUNTRY_WIDTH = 64, 100, 300, 8
_EMAIL_WIDTH, _NAME_WIDTH, _ID_WIDTH, _STATUS_WIDTH = 320, 200, 64, 32
_MONEY_DIGITS, _MONEY_PLACES = 15, 4  # NUMERIC(19, 4)


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    values: Mapping[str, str]

    def get(self, column: str) -> str:
        # NUL is no character of any real cell, and PostgreSQL refuses it in text
        return self.values.get(column.lower(), "").replace("\x00", "").strip()

    def limited(self, column: str, width: int) -> str:
        """A cell that must fit its column whole (an id, an address): refused when longer."""
        try:
            return read_text(self.get(column), column, width)
        except BadValue as error:
            raise BadValue(error.reason, self.line) from None

    def first(self, columns: Sequence[str]) -> str:
        return next((value for column in columns if (value := self.get(column))), "")


def read_orders(path: Path) -> Iterator[ImportedOrder | OrderProblem]:
    """Each order of the export at ``path`` (in the order first seen), or the problem with it;
    rows without a Name come first.

    The whole file is read (and its header checked) before the first order is handed over.
    """
    groups, problems = _grouped_rows(path)
    return _orders(groups, problems)


def _orders(
    groups: Mapping[str, list[_Row]], problems: list[OrderProblem]
) -> Iterator[ImportedOrder | OrderProblem]:
    yield from problems
    for name, rows in groups.items():
        yield _parse_order(name, rows)


def _grouped_rows(path: Path) -> tuple[dict[str, list[_Row]], list[OrderProblem]]:
    groups: dict[str, list[_Row]] = {}
    problems: list[OrderProblem] = []
    for row in _rows(path):
        name = row.get("Name")
        if not name:
            problems.append(OrderProblem(row.line, "no order Name on this row"))
        else:
            groups.setdefault(name, []).append(row)
    return groups, problems


def _rows(path: Path) -> Iterator[_Row]:
    where = str(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            reader = csv.reader(file)
            header = _header(next(reader, []), where)
            line = reader.line_num + 1
            for cells in reader:
                if any(cell.strip() for cell in cells):
                    yield _Row(line, dict(zip(header, cells, strict=False)))
                line = reader.line_num + 1
    except OSError as error:
        raise InputError(f"cannot read the orders file: {error.strerror}", where) from None
    except UnicodeDecodeError:
        raise InputError("the orders file is not UTF-8 text", where) from None
    except csv.Error as error:
        raise InputError(f"not a readable CSV file: {error}", where) from None


def _header(cells: list[str], where: str) -> list[str]:
    header = [cell.strip().lower() for cell in cells]
    missing = [column for column in REQUIRED if column.lower() not in header]
    if missing:
        found = ", ".join(cell.strip() for cell in cells if cell.strip()) or "nothing"
        raise InputError(
            f"not a Shopify orders export: no {', '.join(missing)} column (found: {found})", where
        )
    return header


def _parse_order(name: str, rows: Sequence[_Row]) -> ImportedOrder | OrderProblem:
    """One order from its rows (the first one carries the order-level columns)."""
    first = rows[0]
    try:
        items = tuple(item for row in rows if (item := _item(row)) is not None)
        order = _facts(name, first, items)
        email = first.limited("Email", _EMAIL_WIDTH)
    except BadValue as error:
        return OrderProblem(error.line, error.reason)
    customer = first.first(("Billing Name", "Shipping Name"))[:_NAME_WIDTH]
    return ImportedOrder(order, email, customer, first.line)


def _facts(name: str, row: _Row, items: tuple[LineItem, ...]) -> OrderFacts:
    number = name.lstrip("#").strip()
    if not number or len(number) > _NUMBER_WIDTH:
        raise BadValue(f"Name {name!r} is not an order number", row.line)
    placed_at = _time(row, "Created at")
    cancelled_at = _time(row, "Cancelled at")
    return OrderFacts(
        number=number,
        placed_at=placed_at,
        fulfilled_at=_time(row, *_FULFILLED),
        cancelled_at=cancelled_at,
        currency=_currency(row),
        total=_money(row, "Total"),
        destination=_country(row),
        items=items,
        refunds=_refunds(row, cancelled_at or placed_at),
        shopify_id=row.limited("Id", _ID_WIDTH) or None,
        financial_status=row.limited("Financial Status", _STATUS_WIDTH).lower(),
        shipping_address=_address(row, "Shipping"),
        billing_address=_address(row, "Billing"),
    )


def _address(row: _Row, side: str) -> Address | None:
    """The ``Shipping …`` or ``Billing …`` columns; ``Street`` is the older single street
    column, and a leading ``'`` (how the export keeps a zip's leading zeros) is dropped."""
    return address_or_none(
        Address(
            name=row.get(f"{side} Name"),
            company=row.get(f"{side} Company"),
            address1=row.first((f"{side} Address1", f"{side} Street")),
            address2=row.get(f"{side} Address2"),
            city=row.get(f"{side} City"),
            province=row.get(f"{side} Province"),
            zip=row.get(f"{side} Zip").lstrip("'"),
            country=row.get(f"{side} Country").upper(),
            phone=row.get(f"{side} Phone"),
        )
    )


def _item(row: _Row) -> LineItem | None:
    sku, title = row.get("Lineitem sku"), row.get("Lineitem name")
    if not sku and not title:
        return None
    return LineItem(
        sku=sku[:_SKU_WIDTH],
        title=title[:_TITLE_WIDTH],
        quantity=_quantity(row),
        price=_money(row, "Lineitem price") or Decimal("0"),
    )


def _refunds(row: _Row, at: datetime | None) -> tuple[Refund, ...]:
    amount = _money(row, "Refunded Amount")
    if amount is None or amount <= 0:
        return ()
    if at is None:
        raise BadValue("a Refunded Amount needs a Created at or Cancelled at time", row.line)
    return (Refund(amount, at, _REFUND_REASON),)


def _time(row: _Row, *columns: str) -> datetime | None:
    value = row.first(columns)
    if not value:
        return None
    try:
        moment: datetime | None = datetime.strptime(value, "%Y-%m-%d %H:%M:%S %z")
    except ValueError:
        moment = None
    try:
        moment = moment or datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.utcoffset() is None:
        raise BadValue(f"{columns[0]} {value!r} is not a time like 2026-11-24 10:00:00 -0500", row.line)
    try:
        return in_window(moment, columns[0])
    except BadValue as error:
        raise BadValue(error.reason, row.line) from None


def _money(row: _Row, column: str) -> Decimal | None:
    value = row.get(column).replace(",", "")
    if not value:
        return None
    try:
        return read_amount(value, column, digits=_MONEY_DIGITS, places=_MONEY_PLACES, signed=True)
    except BadValue as error:
        raise BadValue(error.reason, row.line) from None


def _quantity(row: _Row) -> int:
    value = row.get("Lineitem quantity")
    if not value:
        return 1
    try:
        return read_whole(value, "Lineitem quantity", low=0, high=MAX_ID)
    except BadValue as error:
        raise BadValue(error.reason, row.line) from None


def _currency(row: _Row) -> str:
    value = row.get("Currency").upper()
    if value and (len(value) != 3 or not value.isalpha()):
        raise BadValue(f"Currency {value!r} is not a three-letter code", row.line)
    return value


def _country(row: _Row) -> str:
    value = row.get("Shipping Country").upper()
    if len(value) > _COUNTRY_WIDTH:
        raise BadValue(f"Shipping Country {value!r} is not a country code", row.line)
    return value

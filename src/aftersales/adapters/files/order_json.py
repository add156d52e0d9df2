"""Order facts from JSON (`--order FILE.json` or a batch line's "order" object)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import fields
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from aftersales.domain.errors import InputError
from aftersales.domain.orders import Address, LineItem, OrderFacts, Refund, ScanStatus, address_or_none

_TIMES = ("placed_at", "fulfilled_at", "delivered_at", "cancelled_at", "last_scan_at", "promise_window_end")
_TEXTS = ("carrier", "destination", "currency", "policy_version", "last_scan_location")
_ADDRESSES = ("shipping_address", "billing_address")
_ADDRESS_KEYS = tuple(f.name for f in fields(Address))
KNOWN_KEYS = frozenset(
    {
        "number",
        "last_scan_status",
        "tracking_numbers",
        "items",
        "refunds",
        "total",
        *_TIMES,
        *_TEXTS,
        *_ADDRESSES,
    }
)


def load_order(path: Path) -> OrderFacts:
    where = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InputError(f"cannot read the order file: {error.strerror}", where) from None
    except UnicodeDecodeError:
        raise InputError("the order file is not UTF-8 text", where) from None
    except json.JSONDecodeError as error:
        raise InputError(
            f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})", where
        ) from None
    return parse_order(data, where)


def parse_order(data: Any, where: str = "order") -> OrderFacts:
    if not isinstance(data, Mapping):
        raise InputError("an order is a JSON object", where)
    unknown = sorted(set(data) - KNOWN_KEYS)
    if unknown:
        raise InputError(
            f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(KNOWN_KEYS))}", where
        )
    number = data.get("number")
    if not isinstance(number, str | int) or not str(number).strip():
        raise InputError("'number' (the order number, e.g. \"1043\") is required", where)
    return OrderFacts(
        number=str(number).lstrip("#"),
        last_scan_status=_status(data.get("last_scan_status"), where),
        tracking_numbers=tuple(str(t) for t in _list(data, "tracking_numbers", where)),
        items=tuple(_item(i, f"{where}: items[{n}]") for n, i in enumerate(_list(data, "items", where))),
        refunds=tuple(
            _refund(r, f"{where}: refunds[{n}]") for n, r in enumerate(_list(data, "refunds", where))
        ),
        total=_money(data["total"], f"{where}: total") if data.get("total") is not None else None,
        placed_at=_time(data.get("placed_at"), f"{where}: placed_at"),
        fulfilled_at=_time(data.get("fulfilled_at"), f"{where}: fulfilled_at"),
        delivered_at=_time(data.get("delivered_at"), f"{where}: delivered_at"),
        cancelled_at=_time(data.get("cancelled_at"), f"{where}: cancelled_at"),
        last_scan_at=_time(data.get("last_scan_at"), f"{where}: last_scan_at"),
        promise_window_end=_time(data.get("promise_window_end"), f"{where}: promise_window_end"),
        shipping_address=_address(data.get("shipping_address"), f"{where}: shipping_address"),
        billing_address=_address(data.get("billing_address"), f"{where}: billing_address"),
        carrier=_text(data, "carrier"),
        destination=_text(data, "destination"),
        currency=_text(data, "currency"),
        policy_version=_text(data, "policy_version"),
        last_scan_location=_text(data, "last_scan_location"),
    )


def _text(data: Mapping[str, Any], key: str) -> str:
    return str(data.get(key) or "")


def _list(data: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise InputError(f"'{key}' must be a list", where)
    return value


def _time(value: Any, where: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"not an ISO 8601 time: {value!r} (e.g. 2026-11-20T14:05:00-05:00)", where) from None
    if moment.tzinfo is None:
        raise InputError(f"{value!r} needs a UTC offset (e.g. 2026-11-20T14:05:00-05:00 or ...Z)", where)
    return moment


def _status(value: Any, where: str) -> ScanStatus | None:
    if value is None:
        return None
    try:
        return ScanStatus(str(value).strip().lower())
    except ValueError:
        allowed = ", ".join(s.value for s in ScanStatus)
        raise InputError(f"last_scan_status {value!r} is not one of: {allowed}", where) from None


def _money(value: Any, where: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise InputError(f'not an amount: {value!r} (write it as "24.90")', where) from None
    if not amount.is_finite() or amount < 0:
        raise InputError(f"an amount must be a number >= 0, got {value!r}", where)
    return amount


def _address(data: Any, where: str) -> Address | None:
    """An address object of the fields in ``_ADDRESS_KEYS``, all text; None when absent or blank."""
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise InputError(f"an address is an object with any of: {', '.join(_ADDRESS_KEYS)}", where)
    unknown = sorted(set(data) - set(_ADDRESS_KEYS))
    if unknown:
        raise InputError(f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(_ADDRESS_KEYS)}", where)
    texts = {}
    for key, value in data.items():
        if value is not None and (not isinstance(value, str | int) or isinstance(value, bool)):
            raise InputError(f"'{key}' must be text, got {value!r}", where)
        texts[key] = "" if value is None else str(value).strip()
    texts["country"] = texts.get("country", "").upper()
    return address_or_none(Address(**texts))


def _item(data: Any, where: str) -> LineItem:
    if not isinstance(data, Mapping) or not data.get("sku"):
        raise InputError("each item is an object with at least 'sku'", where)
    return LineItem(
        sku=str(data["sku"]),
        title=str(data.get("title", "")),
        variant=str(data.get("variant", "")),
        quantity=int(data.get("quantity", 1)),
        price=_money(data.get("price", 0), f"{where}.price"),
        gtin=str(data.get("gtin", "")),
    )


def _refund(data: Any, where: str) -> Refund:
    if not isinstance(data, Mapping) or "amount" not in data or "at" not in data:
        raise InputError("each refund is an object with 'amount' and 'at'", where)
    at = _time(data["at"], f"{where}.at")
    assert at is not None  # "at" is present, and _time returns None only for None
    return Refund(_money(data["amount"], f"{where}.amount"), at, str(data.get("reason", "")))

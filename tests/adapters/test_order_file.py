"""Order files (`--order FILE.json`, a batch line's "order", the demo's orders): the optional
shipping and billing address objects, read or refused naming the key."""

from __future__ import annotations

from typing import Any

import pytest

from aftersales.adapters.files.order_json import parse_order
from aftersales.domain.errors import InputError
from aftersales.domain.orders import Address


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, None),
        ({}, None),
        ({"name": " ", "zip": None}, None),  # blank: no address
        (
            {"name": "Ana Silva", "address1": "12 Elm St", "city": "Memphis", "province": "TN", "zip": 38103},
            Address(name="Ana Silva", address1="12 Elm St", city="Memphis", province="TN", zip="38103"),
        ),
        ({"address1": "Storgatan 1", "country": "se"}, Address(address1="Storgatan 1", country="SE")),
    ],
)
def test_an_order_files_addresses_are_read(given: dict[str, Any] | None, expected: Address | None) -> None:
    order = parse_order({"number": "1043", "shipping_address": given, "billing_address": given})
    assert (order.shipping_address, order.billing_address) == (expected, expected)


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ("12 Elm St", "order: shipping_address: an address is an object"),
        ({"street": "12 Elm St"}, "order: shipping_address: unknown key(s) street; allowed: name, company"),
        ({"zip": ["38103"]}, "order: shipping_address: 'zip' must be text"),
        ({"name": True}, "order: shipping_address: 'name' must be text"),
    ],
)
def test_an_address_it_cannot_read_is_refused_naming_the_key(given: Any, words: str) -> None:
    with pytest.raises(InputError) as refused:
        parse_order({"number": "1043", "shipping_address": given})
    assert words in str(refused.value)

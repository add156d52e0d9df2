"""Tracking-number detection, held to the carrier data's own valid and invalid numbers."""

from __future__ import annotations

import json
import random
from importlib.resources import files
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales.adapters.files.tracking_formats import load_courier_formats
from aftersales.domain.tracking import TrackingMatch, find_tracking_numbers, parse_formats

FORMATS = load_courier_formats()
SENTENCE = "my tracking number is {} and nothing moved"


def _couriers() -> list[dict[str, Any]]:
    folder = files("aftersales") / "data" / "tracking"
    documents = sorted((e for e in folder.iterdir() if e.name.endswith(".json")), key=lambda e: e.name)
    return [json.loads(document.read_text(encoding="utf-8")) for document in documents]


def _cases(kind: str) -> list[Any]:
    return [
        pytest.param(c["courier_code"], c["name"], t["name"], number, id=f"{t['name']}:{number}")
        for c in _couriers()
        for t in c["tracking_numbers"]
        for number in t["test_numbers"][kind]
    ]


def _normalized(number: str) -> str:
    return "".join(number.split())


def _check_invariants(text: str, matches: list[TrackingMatch]) -> None:
    previous_end = 0
    for match in matches:
        assert previous_end <= match.start < match.end <= len(text)
        assert _normalized(text[match.start : match.end]) == match.number
        previous_end = match.end


# The upstream data lets two formats claim these valid numbers (its own collision spec
# leaves them as TODO). With nothing else to go on, the first courier in file order wins.
SHARED_NUMBERS = {
    "78045768393": ("dhl", "DHL Express"),  # also Old Dominion
    "287809468872": ("fedex", "FedEx Express (12)"),  # also Purolator (12)
    "320610804900": ("fedex", "FedEx Express (12)"),  # also Purolator (12)
    "JFV247545960": ("dhl", "DHL Express (Piece ID)"),  # also Purolator (alpha + 9)
    "4201028200009261290113185417468510": ("fedex", "FedEx Express (34)"),  # also USPS IMpb C
}


def test_the_vendored_data_loads_through_the_adapter() -> None:
    codes = {fmt.courier_code for fmt in FORMATS}
    assert {"ups", "usps", "fedex", "dhl", "s10", "dpd", "canada_post"} <= codes
    assert len(codes) == len(_couriers())
    assert load_courier_formats() is FORMATS  # cached: the data is parsed once


@pytest.mark.parametrize(("code", "courier", "tracking_name", "number"), _cases("valid"))
def test_valid_numbers_are_found_with_their_courier(
    code: str, courier: str, tracking_name: str, number: str
) -> None:
    text = SENTENCE.format(number)
    matches = find_tracking_numbers(text, FORMATS)
    _check_invariants(text, matches)
    found = [m for m in matches if m.number == _normalized(number)]
    assert len(found) == 1, matches
    expected = SHARED_NUMBERS.get(_normalized(number), (code, tracking_name))
    assert (found[0].courier_code, found[0].tracking_name) == expected


@pytest.mark.parametrize(("code", "courier", "tracking_name", "number"), _cases("valid"))
def test_naming_the_courier_settles_which_format_a_number_is(
    code: str, courier: str, tracking_name: str, number: str
) -> None:
    matches = find_tracking_numbers(f"{courier} number {number}", FORMATS)
    found = [m for m in matches if m.number == _normalized(number)]
    assert [(m.courier_code, m.tracking_name) for m in found] == [(code, tracking_name)]


@pytest.mark.parametrize(("code", "courier", "tracking_name", "number"), _cases("invalid"))
def test_invalid_numbers_are_not_found_as_that_format(
    code: str, courier: str, tracking_name: str, number: str
) -> None:
    text = SENTENCE.format(number)
    matches = find_tracking_numbers(text, FORMATS)
    _check_invariants(text, matches)
    assert not [m for m in matches if (m.courier_code, m.tracking_name) == (code, tracking_name)]


def test_shared_numbers_really_are_shared() -> None:
    # Keeps the table above honest: an entry whose collision upstream fixed must go.
    for number, (code, _) in SHARED_NUMBERS.items():
        (match,) = find_tracking_numbers(SENTENCE.format(number), FORMATS)
        assert match.courier_code == code


def test_a_ups_number_in_a_tweet() -> None:
    tweet = "@ShopHelp ordered 3/2, box 1Z879E930346834440 hasn't moved since Mon 😤 #fail"
    (match,) = find_tracking_numbers(tweet, FORMATS)
    assert match.number == "1Z879E930346834440"
    assert (match.carrier, match.courier_code, match.tracking_name) == ("UPS", "ups", "UPS")
    assert match.verified
    assert tweet[match.start : match.end] == "1Z879E930346834440"


def test_order_and_phone_numbers_are_not_tracking_numbers() -> None:
    text = "Hi, where is order #1043? Call me on +1 415 555 0134, my parcel is late."
    assert find_tracking_numbers(text, FORMATS) == []


def test_a_spaced_number_keeps_its_span_in_the_original_text() -> None:
    text = "USPS says 9400 1112 0108 0805 4830 16, but nothing."
    (match,) = find_tracking_numbers(text, FORMATS)
    assert match.number == "9400111201080805483016"
    assert text[match.start : match.end] == "9400 1112 0108 0805 4830 16"
    assert match.courier_code == "usps"


def test_numbers_side_by_side_are_found_separately() -> None:
    text = "two boxes: 1Z5R89390357567127 1Z879E930346834440"
    numbers = [m.number for m in find_tracking_numbers(text, FORMATS)]
    assert numbers == ["1Z5R89390357567127", "1Z879E930346834440"]


def test_an_s10_number_names_the_issuing_post() -> None:
    (match,) = find_tracking_numbers("Royal Mail ref RB123456785GB", FORMATS)
    assert (match.courier_code, match.carrier) == ("s10", "Royal Mail Group plc")


def test_a_format_without_check_digit_needs_words_that_vouch_for_it() -> None:
    assert find_tracking_numbers("invoice GFUS01011884214464 attached", FORMATS) == []
    (match,) = find_tracking_numbers("GOFO says GFUS01011884214464", FORMATS)
    assert (match.courier_code, match.verified) == ("gofo", False)
    (match,) = find_tracking_numbers("parcel GFUS01011884214464", FORMATS)
    assert match.courier_code == "gofo"


def test_a_number_glued_to_other_letters_is_not_read() -> None:
    assert find_tracking_numbers("ref x1Z879E930346834440", FORMATS) == []
    assert find_tracking_numbers("ORD-1Z879E930346834440", FORMATS) == []
    assert find_tracking_numbers("1Z879E930346834440é", FORMATS) == []


def test_parse_formats_translates_ruby_named_groups() -> None:
    (fmt,) = parse_formats(
        [
            {
                "name": "Example",
                "courier_code": "example",
                "tracking_numbers": [
                    {
                        "name": "Example (10)",
                        "regex": ["\\s*EX(?<SerialNumber>([0-9]\\s*){7})", "(?<CheckDigit>[0-9])"],
                        "validation": {"checksum": {"name": "mod7", "modulo": 7}},
                        "test_numbers": {"valid": [], "invalid": []},
                    }
                ],
            }
        ]
    )
    assert fmt.regex.groupindex.keys() == {"SerialNumber", "CheckDigit"}
    assert [m.number for m in find_tracking_numbers("EX 1234567 5", [fmt])] == ["EX12345675"]


def test_parse_formats_refuses_an_unknown_check_digit_algorithm() -> None:
    courier: dict[str, Any] = {
        "name": "Example",
        "courier_code": "example",
        "tracking_numbers": [
            {"name": "Example", "regex": "(?<SerialNumber>[0-9]{9})(?<CheckDigit>[0-9])"},
        ],
    }
    courier["tracking_numbers"][0]["validation"] = {"checksum": {"name": "crc_4"}}
    with pytest.raises(ValueError, match="crc_4"):
        parse_formats([courier])


_VALID_NUMBERS = [p.values[3] for p in _cases("valid")]
_PIECES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(_VALID_NUMBERS),
    st.sampled_from([" ", "  ", "\t", "\n", "-", "#", "tracking ", "DHL ", "GM ", "\x00", "\u00a0"]),
    st.text(alphabet="0123456789ABCDEFGHJKLMNPRSTUVWXYZ -", max_size=40),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=12).map("".join))
def test_never_raises_and_offsets_slice_the_number(text: str) -> None:
    _check_invariants(text, find_tracking_numbers(text, FORMATS))


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_arbitrary_unicode_never_raises(text: str) -> None:
    _check_invariants(text, find_tracking_numbers(text, FORMATS))


def test_a_megabyte_of_noise_is_scanned_without_error() -> None:
    noise = random.Random(7)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \t\n-#abcé😀\x00\x0b\u2028"
    text = "".join(noise.choice(alphabet) for _ in range(1_000_000))
    _check_invariants(text, find_tracking_numbers(text, FORMATS))


def test_a_megabyte_of_spaced_digits_finishes() -> None:
    noise = random.Random(11)
    text = " ".join(noise.choice("0123456789") for _ in range(500_000))
    _check_invariants(text, find_tracking_numbers(text, FORMATS))

"""Masking a customer's details before a message leaves the machine (domain/redaction.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersales.domain.redaction import redact

MASKED = [
    ("write to jo.smith@example.com please", "write to [email] please"),
    ("Call +44 7700 900123 or 07700 900123", "Call [phone] or [phone]"),
    ("ring 415-555-0134 ok", "ring [phone] ok"),
    ("my number is (555) 123-4567", "my number is [phone]"),
    ("paid with 4111 1111 1111 1111 yesterday", "paid with [card number] yesterday"),
    ("ship to 221B Baker Street, London", "ship to [address], London"),
    ("send it to 5 Elm Rd. Apt 4B thanks", "send it to [address] thanks"),
    ("Lieferung an Hauptstraße 12, Berlin", "Lieferung an [address], Berlin"),
    ("envoyez au 12 rue de la Paix", "envoyez au [address]"),
]
KEPT = [
    "tracking 1Z999AA10123456784 and order #100234567",
    "paid on 2026-11-29 at 14:30, it took 14 days",
    "I paid $1,234.56 on 11/29/2026",
    "order 12345678 ref",
    "a 16-digit number that fails the Luhn check: 4111 1111 1111 1112",
]


@pytest.mark.parametrize(("text", "sent"), MASKED)
def test_personal_details_are_masked(text: str, sent: str) -> None:
    assert redact(text).text == sent


@pytest.mark.parametrize("text", KEPT)
def test_order_numbers_tracking_dates_and_amounts_are_kept(text: str) -> None:
    assert redact(text).text == text


def test_a_kept_span_is_never_masked() -> None:
    text = "parcel 9400111899223344 is late, call 415-555-0134"
    start = text.index("9400")
    assert redact(text, keep=[(start, start + 16)]).text == "parcel 9400111899223344 is late, call [phone]"


def test_a_span_of_the_masked_text_maps_back_to_the_original() -> None:
    text = "mail jo@example.com: my mug arrived broken, call 415-555-0134 today"
    sent = redact(text)
    start = sent.text.index("my mug arrived broken")
    place = sent.to_original(start, start + len("my mug arrived broken"))
    assert place is not None
    assert text[place[0] : place[1]] == "my mug arrived broken"
    assert sent.to_original(0, sent.text.index("]") + 1) is None  # cuts into "[email]"


_words = st.lists(st.sampled_from(["mug", "late", "order", "#1043", "the", "box", "9:30", "$12"]), max_size=8)


@given(before=_words, after=_words, user=st.from_regex(r"[a-z][a-z0-9.]{0,10}", fullmatch=True))
def test_an_e_mail_address_never_survives_and_the_rest_maps_back(
    before: list[str], after: list[str], user: str
) -> None:
    address = f"{user}@shop-mail.example"
    text = " ".join([*before, address, *after])
    sent = redact(text)
    assert address not in sent.text
    tail = " ".join(after)
    if tail:
        start = sent.text.rindex(tail)
        place = sent.to_original(start, start + len(tail))
        assert place is not None
        assert text[place[0] : place[1]] == tail

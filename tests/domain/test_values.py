"""The tolerant readers of the input edges: a value inside its range, or BadValue with a reason,
and never any other exception, whatever the input."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales.domain.values import (
    EARLIEST,
    LATEST,
    MAX_ID,
    BadValue,
    id_or_none,
    read_amount,
    read_id,
    read_iso_datetime,
    read_mail_date,
    read_whole,
)

ANYTHING = st.one_of(
    st.text(),
    st.integers(),
    st.integers(min_value=10**30, max_value=10**5000),
    st.floats(),
    st.none(),
    st.booleans(),
    st.sampled_from(["²", "١٢", "9" * 20, "7" * 5000, "+1", " 42 ", "0x10", "1_000"]),
)
READERS: list[Callable[[Any], object]] = [
    lambda value: read_id(value, "case"),
    lambda value: read_iso_datetime(value, "sent_at"),
    lambda value: read_mail_date(value) if isinstance(value, str) else None,
    lambda value: read_whole(value, "quantity", low=0, high=MAX_ID) if isinstance(value, str) else None,
    lambda value: read_amount(value, "Total", digits=15, places=4) if isinstance(value, str) else None,
]


@settings(max_examples=200, deadline=None)
@given(value=ANYTHING, reader=st.sampled_from(READERS))
def test_a_reader_gives_a_value_or_bad_value_never_another_exception(
    value: Any, reader: Callable[[Any], object]
) -> None:
    problem: BadValue | None = None
    try:
        reader(value)
    except BadValue as error:
        problem = error
    if problem is not None:
        assert 0 < len(problem.reason) < 200  # a 5,000-digit value gives a short reason


@pytest.mark.parametrize(
    ("value", "expected"),
    [("42", 42), (" 42 ", 42), ("007", 7), (42, 42), (str(MAX_ID), MAX_ID)],
)
def test_ids_in_range_are_read(value: object, expected: int) -> None:
    assert read_id(value, "case") == expected


@pytest.mark.parametrize(
    "value", ["²", "١٢", "0", "-1", "+1", "9" * 20, "7" * 5000, str(MAX_ID + 1), True, 4.0]
)
def test_ids_out_of_range_or_not_ascii_digits_are_refused(value: object) -> None:
    with pytest.raises(BadValue, match="'case'|case"):
        read_id(value, "case")
    assert id_or_none(str(value)) is None


@pytest.mark.parametrize(
    "text",
    [
        "9999-12-31T23:00:00-12:00",
        "0001-01-01T00:00:00+14:00",
        "1969-12-31T23:59:59+00:00",
        "2100-01-01T00:00:00+00:00",
    ],
)
def test_iso_times_outside_the_window_are_refused(text: str) -> None:
    with pytest.raises(BadValue, match="out of range"):
        read_iso_datetime(text, "'sent_at'")


def test_the_window_edges() -> None:
    assert read_iso_datetime(EARLIEST.isoformat(), "t") == EARLIEST
    last = LATEST - timedelta(microseconds=1)
    assert read_iso_datetime(last.isoformat(), "t") == last
    assert read_iso_datetime("2026-11-24T10:00:00-05:00", "t") == datetime(
        2026, 11, 24, 10, tzinfo=timezone(timedelta(hours=-5))
    )


def test_mail_dates() -> None:
    assert read_mail_date("Tue, 24 Nov 2026 10:00:00 -0500") == datetime(2026, 11, 24, 15, tzinfo=UTC)
    with pytest.raises(BadValue, match="out of range"):
        read_mail_date("Fri, 31 Dec 9999 23:00:00 -1200")
    with pytest.raises(BadValue, match="no time zone"):
        read_mail_date("Tue, 24 Nov 2026 10:00:00 -0000")


def test_amounts_and_whole_numbers() -> None:
    assert read_amount("24.50", "Total", digits=15, places=4) == Decimal("24.50")
    assert read_amount("-3.00", "Total", digits=15, places=4, signed=True) == Decimal("-3.00")
    for bad in ("1e309", "NaN", "Infinity", "24,50", "$24", "1" * 16, "-3.00", "1.23456", "²"):
        with pytest.raises(BadValue):
            read_amount(bad, "Total", digits=15, places=4)
    assert read_whole("3", "quantity", low=0, high=10) == 3
    for bad in ("11", "-1", "²", "1.0", "1_0", "10" + "0" * 40):
        with pytest.raises(BadValue):
            read_whole(bad, "quantity", low=0, high=10)

"""Log lines carry no customer data: addresses masked, failures by type and statement."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.exc import OperationalError

from aftersales.logs import log_failure, masked


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "(550, b'5.1.1 <ana.silva@example.com>: Recipient address rejected')",
            "(550, b'5.1.1 <<address>>: Recipient address rejected')",
        ),
        ("no address here", "no address here"),
        ("to bo@shop.example, cc ivy@x.io", "to <address>, cc <address>"),
    ],
)
def test_masked_replaces_every_address(text: str, expected: str) -> None:
    assert masked(text) == expected


def test_a_logged_database_failure_names_the_statement_not_its_values(
    caplog: pytest.LogCaptureFixture,
) -> None:
    error = OperationalError(
        "INSERT INTO customers (email) VALUES (?)", ("ana.silva@example.com",), Exception("locked")
    )
    with caplog.at_level(logging.ERROR, logger="aftersales.test"):
        log_failure(logging.getLogger("aftersales.test"), "the job failed", error)
    assert "INSERT INTO customers" in caplog.text
    assert "ana.silva" not in caplog.text

"""docs/webhooks.md tells the truth: its verification snippet accepts what the desk signs and
refuses a forged or old signature; its retry schedule and tolerance are the code's."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aftersales.domain.outbound_webhooks import (
    RETRY,
    TIMEOUT_SECONDS,
    TOLERANCE_SECONDS,
    WebhookEvent,
    next_attempt_at,
    signature_header,
)

DOC = (Path(__file__).resolve().parents[1] / "docs" / "webhooks.md").read_text()


def _snippet() -> Callable[..., bool]:
    found = re.search(r"```python\n(.*?)```", DOC, re.DOTALL)
    assert found is not None
    names: dict[str, Any] = {}
    exec(found.group(1), names)  # noqa: S102 - our own documentation's code
    verified: Callable[..., bool] = names["verified"]
    return verified


def test_the_snippet_verifies_what_the_desk_signs_and_nothing_else() -> None:
    verified = _snippet()
    body = b'{"event":"case.opened","id":"evt_1"}'
    header = signature_header("whsec_abc", 1_795_100_400, body)
    assert verified("whsec_abc", header, body, now=1_795_100_400 + TOLERANCE_SECONDS)
    assert not verified("whsec_abc", header, body + b" ", now=1_795_100_400)
    assert not verified("whsec_other", header, body, now=1_795_100_400)
    assert not verified("whsec_abc", header, body, now=1_795_100_400 + TOLERANCE_SECONDS + 1)


def test_the_documented_numbers_are_the_codes() -> None:
    assert f"**{TOLERANCE_SECONDS} seconds**" in DOC
    assert f"within {TIMEOUT_SECONDS:g} seconds" in DOC
    assert RETRY.max_attempts == 8  # noqa: PLR2004 - "After the eighth it is `failed`"
    assert "After the eighth it is `failed`" in DOC
    waits = []
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for attempts in range(1, RETRY.max_attempts):
        due = next_attempt_at(attempts, start)
        assert due is not None
        waits.append((due - start).total_seconds())
    assert waits == [30, 90, 270, 810, 2430, 7290, 21600]  # as the page says: 30 s ... 6 h
    for event in WebhookEvent:
        assert f"| `{event.value}` |" in DOC

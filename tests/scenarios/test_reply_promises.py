"""Golden reply checks from ``replies/promises.toml``, read on the demo store's calendar.

The table is the readable contract of ``check_reply``'s promise reading: the time a reply
promises, or the reason it is refused. The same rows run end to end through ``send_reply``
in ``tests/services/test_reply_promises.py``.
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from aftersales.domain.replies import check_reply
from aftersales.domain.reply_promise import reply_languages
from aftersales.services.routing import RoutingKit

TABLE = tomllib.loads((Path(__file__).parent / "replies" / "promises.toml").read_text("utf-8"))
CASES: list[dict[str, Any]] = TABLE["case"]
NEW_YORK = ZoneInfo("America/New_York")
KEYS = {"name", "now", "text", "case_language", "stop_line_clear", "at", "problems", "fix", "closing"}


def local(moment: datetime) -> datetime:
    """A TOML local datetime as the demo store's wall time."""
    assert moment.tzinfo is None, "the table uses local datetimes only"
    return moment.replace(tzinfo=NEW_YORK)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_reply_promise_scenario(kit: RoutingKit, case: dict[str, Any]) -> None:
    assert set(case) <= KEYS, f"unknown keys {set(case) - KEYS}"
    assert ("at" in case) != ("problems" in case) or case.get("closing"), "expect a time or problems"

    check = check_reply(
        case["text"],
        now=local(case["now"]),
        calendar=kit.calendar,
        stop_line_clear=case.get("stop_line_clear", True),
        languages=reply_languages(case.get("case_language", "en"), kit.policy.language),
    )

    assert [p.check for p in check.problems] == case.get("problems", []), check.problems
    assert check.promised_at == (local(case["at"]) if "at" in case else None)
    if check.promised_at is not None:
        assert check.promised_at.tzinfo == kit.calendar.tz
    assert check.closing is case.get("closing", False)
    if "fix" in case:
        assert case["fix"] in check.problems[0].fix, check.problems[0].fix

"""The golden reply promises (``tests/scenarios/replies/promises.toml``) end to end: each row
is sent with ``send_reply`` on a case of the demo store, and the desk stores the row's time,
or refuses the reply with the row's checks and stores nothing.

Given Ana's where-is-my-order case (opened Monday 30 November 2026), in the row's language
and with its stop line; runs on SQLite, and on PostgreSQL when configured.
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.services.intake import Incoming, take_in
from aftersales.services.replies import Reply, ReplyRefused, send_reply
from aftersales.services.routing import RoutingKit
from support.messages import NY, case_of, dump, message

TABLE = Path(__file__).parents[1] / "scenarios" / "replies" / "promises.toml"
CASES: list[dict[str, Any]] = tomllib.loads(TABLE.read_text("utf-8"))["case"]
OPENED = datetime(2026, 11, 30, 10, tzinfo=NY)


def local(moment: datetime) -> datetime:
    return moment.replace(tzinfo=NY)


def opened_case(uow: SqlUnitOfWork, kit: RoutingKit, case: dict[str, Any]) -> int:
    """Ana's case, in the row's language and with the row's stop line."""
    text = "Where is my order #1043? Tracking hasn't moved in 5 days."
    case_id = case_of(take_in(uow, kit, Incoming(message(text, sent=OPENED), "test"), now=OPENED))
    with uow() as cases:
        decision = dict(cases.case_row(case_id).decision or {})
        decision["stop_line_clear"] = case.get("stop_line_clear", True)
        cases.update_case(case_id, {"language": case.get("case_language", "en"), "decision": decision})
    return case_id


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_the_reply_stores_the_promised_time_or_is_refused(
    uow: SqlUnitOfWork, kit: RoutingKit, case: dict[str, Any]
) -> None:
    case_id = opened_case(uow, kit, case)
    before = dump(uow)
    reply = Reply(case_id=case_id, text=case["text"], author="Marcus Lee", at=local(case["now"]))

    if case.get("problems"):
        with pytest.raises(ReplyRefused) as refused:
            send_reply(uow, kit, reply)
        assert [p.check for p in refused.value.problems] == case["problems"]
        assert dump(uow) == before
        return

    promised = send_reply(uow, kit, reply)

    expected = local(case["at"]) if "at" in case else None
    assert promised == expected
    if expected is not None:  # in the store's zone, as the API shows it
        assert promised is not None
        assert promised.tzinfo == kit.calendar.tz
    with uow() as cases:
        stored = cases.messages_of(case_id)[-1]
    assert (stored["direction"], stored["body"], stored["promised_update_at"]) == (
        "outbound",
        case["text"],
        expected,
    )

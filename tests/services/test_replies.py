"""`send_reply`: a public reply is checked, its promised next update read, the clocks moved.

Given Ana's where-is-my-order case (opened Tuesday 24 November 2026, 10:00 New York), when
Marcus replies at 10:30, then the reply is recorded with its promise, or refused with the
reasons and nothing recorded. Runs on SQLite, and on PostgreSQL when configured.
"""

from __future__ import annotations

import hashlib
from dataclasses import KW_ONLY, dataclass
from datetime import datetime

import pytest

from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.domain.messages import AttachmentMeta
from aftersales.services.intake import Incoming, take_in
from aftersales.services.replies import Reply, ReplyRefused, send_reply
from aftersales.services.routing import RoutingKit
from support.messages import at, case_of, case_row, clocks, dump, events, iso, message

WHERE_IS_1043 = "Where is my order #1043? Tracking hasn't moved in 5 days."
PROMISE = "We're checking with the carrier; I'll update you by tomorrow 3 pm."
NO_TIME = "We're checking with the carrier and will get back to you."
REFUND_NOW = "We will refund you in full. I'll update you by tomorrow 3 pm."
BY = "Marcus Lee"


@pytest.fixture
def case_id(uow: SqlUnitOfWork, kit: RoutingKit) -> int:
    """Given: a new shipping_delay case, its first response due Wednesday 11:00."""
    result = take_in(uow, kit, Incoming(message(WHERE_IS_1043), "test"), now=at(24, 10))
    return case_of(result)


@dataclass(frozen=True)
class Sent:
    text: str
    _: KW_ONLY
    next_update: datetime | None
    force: bool
    promise: datetime | None  # what send_reply returns and the reply records
    forced: bool
    next_update_due: str


ACCEPTED = [
    pytest.param(
        Sent(
            PROMISE,
            next_update=None,
            force=False,
            promise=at(25, 15),
            forced=False,
            next_update_due=iso(25, 15),
        ),
        id="promises tomorrow 3 pm: next update due Wednesday 15:00",
    ),
    pytest.param(
        Sent(
            PROMISE,
            next_update=at(27, 12),
            force=False,
            promise=at(27, 12),
            forced=False,
            next_update_due=iso(27, 12),
        ),
        id="an explicit next update overrides the time in the text",
    ),
    pytest.param(
        Sent(
            NO_TIME,
            next_update=at(27, 12),
            force=False,
            promise=at(27, 12),
            forced=False,
            next_update_due=iso(27, 12),
        ),
        id="an explicit next update stands in for a text without a time",
    ),
    pytest.param(
        # shipping_delay's next update target, 8 business hours: Tue 10:30–12, 13–17, Wed 09–11:30
        Sent(
            NO_TIME, next_update=None, force=True, promise=None, forced=True, next_update_due=iso(25, 11, 30)
        ),
        id="forced without a time: recorded as forced, next update by the route's target",
    ),
    pytest.param(
        Sent(
            REFUND_NOW,
            next_update=None,
            force=True,
            promise=at(25, 15),
            forced=True,
            next_update_due=iso(25, 15),
        ),
        id="forced refund promise: recorded as forced with its promised time",
    ),
]


@pytest.mark.parametrize("sent", ACCEPTED)
def test_a_reply_meets_first_response_and_its_promise_sets_the_next_update(
    uow: SqlUnitOfWork, kit: RoutingKit, case_id: int, sent: Sent
) -> None:
    promised = send_reply(
        uow,
        kit,
        Reply(
            case_id=case_id,
            text=sent.text,
            author=BY,
            at=at(24, 10, 30),
            next_update=sent.next_update,
            force=sent.force,
        ),
    )

    assert promised == sent.promise
    promise_text = sent.promise.isoformat() if sent.promise else None
    assert events(uow, case_id)[2:] == [
        ("reply_sent", BY, {"promised_update_at": promise_text, "forced": sent.forced}),
        ("status_changed", BY, {"from": "new", "to": "open"}),
    ]
    case = case_row(uow, case_id)
    assert (case.status, case.updated_at) == ("open", at(24, 10, 30))
    assert clocks(uow, case_id) == {
        "first_response": ("met", None),
        "next_update": ("on_track", sent.next_update_due),
        "resolution": ("on_track", iso(9, 17, month=12)),
        "escalation": ("stopped", None),
    }
    assert case.clocks[0]["met_at"] == iso(24, 10, 30)
    with uow() as cases:
        reply = cases.messages_of(case_id)[-1]
    assert (reply["direction"], reply["body"], reply["author"], reply["promised_update_at"]) == (
        "outbound",
        sent.text,
        BY,
        sent.promise,
    )


REFUSED = [
    pytest.param(NO_TIME, [("no_next_step_time", "")], id="no time: no_next_step_time"),
    pytest.param(
        REFUND_NOW,
        [("premature_promise", "We will refund you in full.")],
        id="a refund promised while the stop line holds: premature_promise",
    ),
    pytest.param(
        "That's not our fault, the carrier lost it. I'll update you by tomorrow 3 pm.",
        [("defensive_wording", "That's not our fault, the carrier lost it.")],
        id="blaming wording: defensive_wording",
    ),
]


@pytest.mark.parametrize(("text", "problems"), REFUSED)
def test_a_reply_that_fails_its_checks_is_refused_with_the_reason_and_nothing_is_recorded(
    uow: SqlUnitOfWork, kit: RoutingKit, case_id: int, text: str, problems: list[tuple[str, str]]
) -> None:
    before = dump(uow)

    with pytest.raises(ReplyRefused) as refused:
        send_reply(uow, kit, Reply(case_id=case_id, text=text, author=BY, at=at(24, 10, 30)))

    assert [(p.check, p.sentence) for p in refused.value.problems] == problems
    for check, _ in problems:
        assert check in str(refused.value)
    assert "--force" in str(refused.value)
    assert dump(uow) == before


def test_the_no_time_refusal_says_how_to_fix_it(uow: SqlUnitOfWork, kit: RoutingKit, case_id: int) -> None:
    with pytest.raises(
        ReplyRefused, match="no_next_step_time: Add a sentence with the next step and its time"
    ):
        send_reply(uow, kit, Reply(case_id=case_id, text=NO_TIME, author=BY, at=at(24, 10, 30)))


def test_the_premature_promise_refusal_quotes_the_stop_line(
    uow: SqlUnitOfWork, kit: RoutingKit, case_id: int
) -> None:
    with pytest.raises(ReplyRefused) as refused:
        send_reply(uow, kit, Reply(case_id=case_id, text=REFUND_NOW, author=BY, at=at(24, 10, 30)))

    assert refused.value.problems[0].fix.endswith(
        "Stop line: Do not refund or reship before the carrier check; do not only send a tracking link."
    )


def test_a_replacement_promise_is_accepted_once_the_stop_line_has_cleared(
    uow: SqlUnitOfWork, kit: RoutingKit
) -> None:
    photo = b"\xff\xd8\xff" + b"dent" * 100
    meta = AttachmentMeta("dent.jpg", "image/jpeg", len(photo), hashlib.sha256(photo).hexdigest())
    opened = case_of(
        take_in(
            uow,
            kit,
            Incoming(
                message("The tumbler arrived dented, order #2001. Photo attached.", attachments=(meta,)),
                "test",
                [(meta, photo)],
            ),
            now=at(24, 10),
        )
    )
    assert case_row(uow, opened).decision["stop_line_clear"] is True
    text = "We will send a replacement tumbler. I'll update you by tomorrow 3 pm with the tracking number."

    promised = send_reply(uow, kit, Reply(case_id=opened, text=text, author=BY, at=at(24, 10, 30)))

    assert promised == at(25, 15)
    assert events(uow, opened)[-2][:2] == ("reply_sent", BY)
    assert events(uow, opened)[-2][2]["forced"] is False


def test_a_second_reply_keeps_the_status_and_the_first_response_and_moves_the_next_update(
    uow: SqlUnitOfWork, kit: RoutingKit, case_id: int
) -> None:
    send_reply(uow, kit, Reply(case_id=case_id, text=PROMISE, author=BY, at=at(24, 10, 30)))
    second = "The carrier opened a trace; I'll update you by Friday at noon."

    promised = send_reply(
        uow, kit, Reply(case_id=case_id, text=second, author="Dana Whitfield", at=at(25, 14))
    )

    assert promised == at(27, 12)
    assert [kind for kind, _, _ in events(uow, case_id)] == [
        "case_opened",
        "routed",
        "reply_sent",
        "status_changed",
        "reply_sent",
    ]
    case = case_row(uow, case_id)
    assert case.status == "open"
    assert case.clocks[0]["met_at"] == iso(24, 10, 30)
    assert clocks(uow, case_id)["next_update"] == ("on_track", iso(27, 12))

"""A public reply to the customer: checked, its promised next update read, the clocks moved.

A reply must say when the buyer hears from us next (the seed's SLA rule). One without a
time, or that fails another reply check, is refused with the reasons unless forced.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from aftersales.domain.cases import CaseStatus, Event
from aftersales.domain.errors import AftersalesError
from aftersales.domain.messages import Channel, Direction, InboundMessage
from aftersales.domain.replies import ReplyProblem, check_reply
from aftersales.domain.sla.promises import promised_time
from aftersales.ports import UnitOfWork
from aftersales.services.clocks import refresh_clocks
from aftersales.services.routing import RoutingKit


class ReplyRefused(AftersalesError):
    """The reply fails its checks; ``problems`` says which sentence and how to fix it."""

    def __init__(self, problems: tuple[ReplyProblem, ...]) -> None:
        self.problems = problems
        reasons = "; ".join(
            f"{p.check}: {p.fix}" + (f' ("{p.sentence}")' if p.sentence else "") for p in problems
        )
        super().__init__(f"the reply was not sent: {reasons} (use --force to send it anyway)")


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    case_id: int
    text: str
    author: str
    at: datetime
    next_update: datetime | None = None  # an explicit promise overrides the one in the text
    force: bool = False


def send_reply(uow: UnitOfWork, kit: RoutingKit, reply: Reply) -> datetime | None:
    """Record the reply and return the promised next-update time (None if none was found)."""
    with uow() as cases:
        row = cases.case_row(reply.case_id)
        decision = row["decision"] or {}
        check = check_reply(
            reply.text,
            stop_line_clear=bool(decision.get("stop_line_clear")),
            stop_line=decision.get("stop_line", ""),
        )
        promise = reply.next_update or _promise(reply.text, reply.at, kit)
        problems = tuple(
            p for p in check.problems if not (p.check == "no_next_step_time" and reply.next_update)
        )
        if problems and not reply.force:
            raise ReplyRefused(problems)
        cases.add_message(
            reply.case_id, _as_message(reply, row["customer"] or ""), Direction.OUTBOUND, promise
        )
        data = {"promised_update_at": promise.isoformat() if promise else None, "forced": bool(problems)}
        cases.add_event(reply.case_id, Event("reply_sent", reply.at, reply.author, data))
        if CaseStatus(row["status"]) is CaseStatus.NEW:
            cases.update_case(reply.case_id, {"status": CaseStatus.OPEN.value})
            cases.add_event(
                reply.case_id, Event("status_changed", reply.at, reply.author, {"from": "new", "to": "open"})
            )
        cases.update_case(reply.case_id, {"updated_at": reply.at})
        refresh_clocks(cases, kit, reply.case_id, reply.at)
        return promise


def _promise(text: str, at: datetime, kit: RoutingKit) -> datetime | None:
    found = promised_time(text, at, kit.calendar)
    return found.at if found else None


def _as_message(reply: Reply, customer: str) -> InboundMessage:
    digest = hashlib.sha256(f"{reply.case_id}|{reply.at.isoformat()}|{reply.text}".encode()).hexdigest()
    return InboundMessage(
        message_id=f"reply-{digest[:24]}@aftersales",
        dedupe_key=f"reply|{digest}",
        channel=Channel.EMAIL,
        from_address="",
        from_name=reply.author,
        to_addresses=(customer,) if customer else (),
        subject="",
        sent_at=reply.at,
        body=reply.text,
        full_body=reply.text,
        html="",
    )

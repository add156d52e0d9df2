"""Fair review timing: ask every buyer for a review once they have used the product, later
while their automation is on hold, and never skip anyone.

A request is due ``review_request_days`` after delivery (the store policy's usage window).
When it is due and the buyer has an automation hold (a damaged, wrong-item or chargeback
case, an angry message, a low review), it is *deferred*, with the hold's reason logged; the
first run after the last hold is lifted sends it. A request is never dropped: asking only
the happy buyers ("review gating") is what review platforms and the FTC forbid, so a
deferral only moves the time, and the log shows every deferral and the send.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class RequestStatus(StrEnum):
    """Stable in the database (``review_requests.status``)."""

    SCHEDULED = "scheduled"  # waiting for its due time
    DEFERRED = "deferred"  # due, but the buyer's automation is on hold
    SENT = "sent"  # handed to the review tool (see docs/integrations.md); final


class LogAction(StrEnum):
    SCHEDULED = "scheduled"
    DEFERRED = "deferred"
    SENT = "sent"


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One line of a request's log: what happened, when, and why."""

    at: datetime
    action: LogAction
    reason: str


@dataclass(frozen=True, slots=True)
class Hold:
    """An automation hold in force on a buyer: why, since when, and for which case."""

    reason: str
    since: datetime
    case_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BuyerState:
    """What marketing tools need to know of one buyer: open cases, holds in force, and the
    last review request handed over."""

    email: str
    open_cases: int
    holds: tuple[Hold, ...]
    updated_at: datetime  # the latest change of a case or hold of theirs
    review_request_order: str = ""
    review_requested_at: datetime | None = None

    @property
    def has_open_case(self) -> bool:
        return self.open_cases > 0

    @property
    def on_hold(self) -> bool:
        return bool(self.holds)

    @property
    def hold_reason(self) -> str:
        """The reasons of the holds in force, oldest first ("" when none)."""
        ordered = sorted(self.holds, key=lambda h: (h.since, h.case_id or 0))
        return "; ".join(dict.fromkeys(hold.reason for hold in ordered))

    @property
    def on_hold_since(self) -> datetime | None:
        return min((hold.since for hold in self.holds), default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewRequest:
    order_number: str
    customer_id: int | None
    delivered_at: datetime
    due_at: datetime
    status: RequestStatus = RequestStatus.SCHEDULED
    sent_at: datetime | None = None
    log: tuple[LogEntry, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Suppression:
    """A row of the suppression list: leave this address out of marketing and review mail."""

    email: str
    reason: str
    since: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleasedRequest:
    """A review request handed to the review tool, with its buyer's address."""

    email: str
    request: ReviewRequest


def request_due_at(delivered_at: datetime, usage_days: int) -> datetime:
    """When the buyer has had the product for the policy's usage window."""
    return delivered_at + timedelta(days=usage_days)


def schedule(
    order_number: str, customer_id: int | None, delivered_at: datetime, usage_days: int, *, now: datetime
) -> ReviewRequest:
    """A new request for a delivered order, due after the usage window."""
    due = request_due_at(delivered_at, usage_days)
    reason = f"delivered {delivered_at.isoformat()} + {usage_days} days"
    return ReviewRequest(
        order_number=order_number,
        customer_id=customer_id,
        delivered_at=delivered_at,
        due_at=due,
        log=(LogEntry(now, LogAction.SCHEDULED, reason),),
    )


def hold_reason(holds: Sequence[Hold]) -> str:
    """The holds in one sentence, oldest first: 'on hold: wrong_item: ... (case 4, since ...)'."""
    parts = [_described(hold) for hold in sorted(holds, key=lambda h: (h.since, h.case_id or 0))]
    return "on hold: " + "; ".join(parts)


def _described(hold: Hold) -> str:
    case = f"case {hold.case_id}, " if hold.case_id is not None else ""
    return f"{hold.reason} ({case}since {hold.since.isoformat()})"


def advance(request: ReviewRequest, holds: Sequence[Hold], *, now: datetime) -> ReviewRequest:
    """The request after a run at ``now``: unchanged until due; then deferred while ``holds``
    (the buyer's holds in force) are not empty, else sent. A request still deferred for the
    same reasons gets no new log line, so running the job every few minutes keeps the log
    short; a change of reasons is logged again."""
    if request.status is RequestStatus.SENT or now < request.due_at:
        return request
    if holds:
        reason = hold_reason(holds)
        if request.status is RequestStatus.DEFERRED and _last_deferral(request) == reason:
            return request
        entry = LogEntry(now, LogAction.DEFERRED, reason)
        return replace(request, status=RequestStatus.DEFERRED, log=(*request.log, entry))
    entry = LogEntry(now, LogAction.SENT, _send_reason(request, now))
    return replace(request, status=RequestStatus.SENT, sent_at=now, log=(*request.log, entry))


def _last_deferral(request: ReviewRequest) -> str | None:
    deferrals = [entry.reason for entry in request.log if entry.action is LogAction.DEFERRED]
    return deferrals[-1] if deferrals else None


def _send_reason(request: ReviewRequest, now: datetime) -> str:
    if request.status is RequestStatus.DEFERRED:
        return f"no hold in force any more; sent {_days(now - request.due_at)} after it was due"
    return "due, and no automation hold on the buyer"


def _days(span: timedelta) -> str:
    days = span.total_seconds() / 86_400
    return f"{days:.1f} days"


def deferred_days(request: ReviewRequest) -> float:
    """How long holds moved the request: from due to sent, for a request that was deferred
    (0 for one never deferred, even when the job ran late)."""
    if request.sent_at is None or _last_deferral(request) is None:
        return 0.0
    return round(max((request.sent_at - request.due_at).total_seconds(), 0.0) / 86_400, 2)


# ---------------------------------------------------------------- the stored shape


def log_to_json(log: Sequence[LogEntry]) -> list[dict[str, str]]:
    return [{"at": e.at.isoformat(), "action": e.action.value, "reason": e.reason} for e in log]


def log_from_json(data: Sequence[Mapping[str, Any]]) -> tuple[LogEntry, ...]:
    return tuple(
        LogEntry(datetime.fromisoformat(str(e["at"])), LogAction(str(e["action"])), str(e["reason"]))
        for e in data
    )


def request_to_dict(request: ReviewRequest) -> dict[str, Any]:
    """The JSON shape the CLI prints and the export writes."""
    return {
        "order_number": request.order_number,
        "customer_id": request.customer_id,
        "delivered_at": request.delivered_at.isoformat(),
        "due_at": request.due_at.isoformat(),
        "status": request.status.value,
        "sent_at": request.sent_at.isoformat() if request.sent_at else None,
        "deferred_days": deferred_days(request),
        "log": log_to_json(request.log),
    }

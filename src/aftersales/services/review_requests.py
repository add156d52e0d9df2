"""The review-request job: schedule a request for every delivered order, defer those due
while the buyer's automation is on hold, send the rest, and log why (``domain/review_requests``).

"Sent" means handed to the review tool: the request is released, and the exports carry it
(`aftersales export review-requests`, and the ``review_requested_at`` property of the
open-cases feed that a Klaviyo flow can trigger on). aftersales does not e-mail the request
itself: the review platform sends it with its own template, links and reminders.

One run is one transaction, so a run stopped half-way changes nothing, and running it again
at once does nothing more: a request is created once per order (the order number is unique),
sent once, and a deferral for unchanged reasons is not logged twice.
"""

from __future__ import annotations

from collections.abc import Collection
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from aftersales.domain.review_requests import (
    Hold,
    LogAction,
    RequestStatus,
    ReviewRequest,
    advance,
    schedule,
)

RUN_LIMIT = 100_000  # requests a run takes on; the next run takes the rest


class ReviewRequestRepository(Protocol):
    def delivered_without_request(
        self, since: datetime | None, limit: int
    ) -> list[tuple[str, int, datetime]]:
        """(order number, customer id, delivered at) of delivered orders without a request."""
        ...

    def due(self, now: datetime, limit: int) -> list[ReviewRequest]: ...
    def requests(self, status: RequestStatus | None = None) -> list[ReviewRequest]: ...
    def holds_in_force(self, customer_ids: Collection[int]) -> dict[int, list[Hold]]: ...
    def emails(self, customer_ids: Collection[int]) -> dict[int, str]: ...
    def add(self, request: ReviewRequest, at: datetime) -> bool:
        """Store a new request; False when one for its order exists (another run's)."""
        ...

    def save(self, request: ReviewRequest, at: datetime) -> None: ...


class ReviewRequestUnitOfWork(Protocol):
    """``with requests() as repo:`` runs one transaction; leaving the block commits it."""

    def __call__(self) -> AbstractContextManager[ReviewRequestRepository]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """What a run did to one request."""

    order_number: str
    email: str
    action: str  # scheduled | deferred | sent
    reason: str
    due_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSummary:
    scheduled: int = 0
    deferred: int = 0  # newly deferred, or deferred for other reasons than before
    still_deferred: int = 0  # deferred before, for the same holds
    sent: int = 0
    steps: tuple[Step, ...] = ()


def schedule_and_send(
    uow: ReviewRequestUnitOfWork, *, usage_days: int, now: datetime, since: datetime | None = None
) -> RunSummary:
    """One run at ``now``: requests for orders delivered (since ``since``) that have none, due
    ``usage_days`` after delivery; then every due request deferred or sent."""
    with uow() as repo:
        created = _schedule_new(repo, usage_days, since, now)
        due = repo.due(now, RUN_LIMIT)
        customers = {r.customer_id for r in due if r.customer_id is not None}
        holds = repo.holds_in_force(customers)
        emails = repo.emails(customers | {r.customer_id for r in created if r.customer_id is not None})
        steps = [_step(r, emails) for r in created]
        still_deferred = 0
        for request in due:
            after = advance(request, holds.get(request.customer_id or 0, []), now=now)
            if after == request:
                still_deferred += 1
                continue
            repo.save(after, now)
            steps.append(_step(after, emails))
    return RunSummary(
        scheduled=len(created),
        deferred=sum(1 for s in steps if s.action == LogAction.DEFERRED.value),
        still_deferred=still_deferred,
        sent=sum(1 for s in steps if s.action == LogAction.SENT.value),
        steps=tuple(steps),
    )


def _schedule_new(
    repo: ReviewRequestRepository, usage_days: int, since: datetime | None, now: datetime
) -> list[ReviewRequest]:
    created = []
    for number, customer_id, delivered_at in repo.delivered_without_request(since, RUN_LIMIT):
        request = schedule(number, customer_id, delivered_at, usage_days, now=now)
        if repo.add(request, now):
            created.append(request)
    return created


def _step(request: ReviewRequest, emails: dict[int, str]) -> Step:
    last = request.log[-1]
    return Step(
        order_number=request.order_number,
        email=emails.get(request.customer_id or 0, ""),
        action=last.action.value,
        reason=last.reason,
        due_at=request.due_at,
    )


def review_requests(uow: ReviewRequestUnitOfWork, status: RequestStatus | None = None) -> list[ReviewRequest]:
    """The stored requests (of one status), soonest due first."""
    with uow() as repo:
        return repo.requests(status)

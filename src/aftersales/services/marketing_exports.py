"""What marketing and review tools must know of each buyer: who is on hold and why, who has
an open case, and which review requests were released (see docs/integrations.md).

These are reads: every export is taken in one read-only transaction, so a file is one
consistent moment of the desk.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from aftersales.domain.review_requests import BuyerState, ReleasedRequest, RequestStatus, Suppression
from aftersales.services.review_requests import ReviewRequestUnitOfWork


class HoldRepository(Protocol):
    def held_buyers(self) -> list[BuyerState]:
        """Buyers with an automation hold in force, by e-mail."""
        ...

    def buyer_states(self) -> list[BuyerState]:
        """Every buyer who has had a case, a hold or a released review request, by e-mail."""
        ...


class HoldUnitOfWork(Protocol):
    def __call__(self) -> AbstractContextManager[HoldRepository]: ...


def held_buyers(uow: HoldUnitOfWork) -> list[BuyerState]:
    with uow() as repo:
        return repo.held_buyers()


def suppression_list(uow: HoldUnitOfWork) -> list[Suppression]:
    """Buyers on hold, with the reasons of their holds and since when the first one holds."""
    return [
        Suppression(email=buyer.email, reason=buyer.hold_reason, since=since)
        for buyer in held_buyers(uow)
        if (since := buyer.on_hold_since) is not None
    ]


def open_case_properties(uow: HoldUnitOfWork) -> list[BuyerState]:
    """The per-buyer property feed: a buyer whose cases are all closed is listed with
    ``has_open_case`` false, so the marketing tool's property turns false again."""
    with uow() as repo:
        return repo.buyer_states()


def judgeme_blocklist(uow: HoldUnitOfWork) -> list[str]:
    """The addresses Judge.me must not send review requests to now: the buyers on hold."""
    return [buyer.email for buyer in held_buyers(uow)]


def released_requests(uow: ReviewRequestUnitOfWork) -> list[ReleasedRequest]:
    """The review requests sent (handed over), soonest due first, with the buyer's address."""
    with uow() as repo:
        sent = repo.requests(RequestStatus.SENT)
        emails = repo.emails({r.customer_id for r in sent if r.customer_id is not None})
    return [ReleasedRequest(email=emails.get(r.customer_id or 0, ""), request=r) for r in sent]

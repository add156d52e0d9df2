"""The satisfaction survey's use cases: a rating link issued with the reply that resolves a
case, a rating recorded once through it, and a bad rating's flag cleared by a person.

A rating is written in the unit of work that uses its link: the link's row (locked), the
rating on it and the case's ``rated`` timeline event commit together, so a link rates once
even when two posts of it race. The event is what the trends and the outbound webhooks read;
the notifications job tells the case's lead of a bad one (services/notifications.py).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from aftersales.domain.cases import Event
from aftersales.domain.policy import SurveyPolicy
from aftersales.domain.satisfaction import (
    LinkState,
    Rating,
    RatingLink,
    clean_comment,
    link_expiry,
    rating_event,
    refusal,
    survey_footer,
)
from aftersales.ports import MailLinks, Ratings, UnitOfWork


def survey_for(
    ratings: Ratings, links: MailLinks | None, policy: SurveyPolicy, case_id: int, at: datetime
) -> str:
    """Issue a rating link for the case and return the mail's footer with its two one-click
    answers; "" when the survey is off or the desk's public address is unknown."""
    if links is None or not policy.survey or not links.can_link:
        return ""
    token = secrets.token_urlsafe(24)
    link = RatingLink(case_id=case_id, token=token, issued_at=at, expires_at=link_expiry(at, policy))
    ratings.add_rating_link(link)
    return survey_footer(links.rating_url(token, Rating.GOOD), links.rating_url(token, Rating.BAD))


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkView:
    """What the public rating page shows before the customer sends their answer."""

    case_id: int
    expires_at: datetime


def usable_link(uow: UnitOfWork, token: str | None, *, now: datetime) -> LinkView:
    """The link a rating page opens; raises LinkRefused when it cannot rate. Reads only:
    opening the page (a mail scanner does) records nothing."""
    if token is None:
        raise refusal(None)
    with uow() as cases:
        link = cases.rating_link(token)
    if link is None:
        raise refusal(None)
    state = link.state(now)
    if state is not LinkState.USABLE:
        raise refusal(state)
    return LinkView(case_id=link.case_id, expires_at=link.expires_at)


def rate(uow: UnitOfWork, token: str | None, rating: Rating, comment: str, *, now: datetime) -> int:
    """Record the rating through its link, once; returns the case's id. Raises LinkRefused
    (nothing written) for an unknown, used or expired link."""
    if token is None:
        raise refusal(None)
    with uow() as cases:
        link = cases.rating_link(token, lock=True)
        if link is None:
            raise refusal(None)
        state = link.state(now)
        if state is not LinkState.USABLE:
            raise refusal(state)
        kept = clean_comment(comment)
        if not cases.record_rating(token, rating, kept, now):
            raise refusal(LinkState.USED)
        cases.add_event(link.case_id, rating_event(rating, kept, now))
        return link.case_id


def clear_flag(uow: UnitOfWork, case_id: int, *, by: str, at: datetime) -> int:
    """A person has seen the case's bad rating: its flag goes, the timeline says who cleared
    it. Returns how many flags were cleared (0: none was up)."""
    with uow() as cases:
        cases.case_row(case_id)  # raises CaseNotFound
        cleared = cases.clear_rating_flag(case_id, by, at)
        if cleared:
            cases.add_event(case_id, Event("rating_flag_cleared", at, by, {}))
        return cleared


def rating_flags(uow: UnitOfWork, case_ids: list[int]) -> dict[int, str]:
    """Of ``case_ids``, the cases flagged by a bad rating: case id → the rating's comment."""
    with uow() as cases:
        return cases.flagged_cases(case_ids)

"""The satisfaction survey: the reply that resolves a case carries a one-click rating link
(good or bad, and a comment); each link is single-use and expires; a bad rating reopens
nothing but flags the case for its lead until a person clears the flag.

Mail link scanners (Outlook Safe Links and the like) open every link in a mail, so opening a
link never records a rating: the page it shows has the choice made and one button to send it
(with an optional comment); only that POST records it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from aftersales.domain.cases import Event
from aftersales.domain.errors import AftersalesError
from aftersales.domain.policy import SurveyPolicy

RATING_EVENT = "rated"  # the timeline event: Event("rated", at, "customer", {"rating", "comment"})
MAX_COMMENT = 2000  # characters kept of a comment


class Rating(StrEnum):
    GOOD = "good"
    BAD = "bad"


class LinkState(StrEnum):
    USABLE = "usable"
    USED = "used"  # rated already: a link rates once
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True, kw_only=True)
class RatingLink:
    """One rating link as stored: its case, when it was sent and stops working, and the
    rating once given."""

    case_id: int
    token: str
    issued_at: datetime
    expires_at: datetime
    rated_at: datetime | None = None
    rating: Rating | None = None
    comment: str = ""

    def state(self, now: datetime) -> LinkState:
        if self.rated_at is not None:
            return LinkState.USED
        if now >= self.expires_at:
            return LinkState.EXPIRED
        return LinkState.USABLE


def link_expiry(issued_at: datetime, policy: SurveyPolicy) -> datetime:
    return issued_at + timedelta(days=policy.link_days)


def rating_event(rating: Rating, comment: str, at: datetime) -> Event:
    """The timeline's record of a rating; the trends and the outbound webhooks read it."""
    return Event(RATING_EVENT, at, "customer", {"rating": rating.value, "comment": clean_comment(comment)})


def clean_comment(text: str) -> str:
    """The comment as kept: trimmed, at most MAX_COMMENT characters, no NUL (PostgreSQL
    refuses it in text)."""
    return text.replace("\x00", "").strip()[:MAX_COMMENT]


def parse_rating(text: str) -> Rating | None:
    """``good`` or ``bad`` (any case, spaces around); None for anything else."""
    try:
        return Rating(text.strip().lower())
    except ValueError:
        return None


def survey_footer(good_url: str, bad_url: str) -> str:
    """What the resolving reply's mail ends with: one link per answer."""
    return (
        "\n\n--\nHow did we do? One click tells us:\n"
        f"  Good: {good_url}\n"
        f"  Bad:  {bad_url}\n"
        "(You can add a comment on the page that opens.)\n"
    )


def needs_lead(rating: Rating) -> bool:
    """A bad rating flags the case for its lead; it reopens nothing."""
    return rating is Rating.BAD


class LinkRefused(AftersalesError):
    """A rating link that cannot rate: unknown (or forged), used already, or expired. The
    message is what the public page tells the customer."""

    def __init__(self, state: LinkState | None, message: str) -> None:
        self.state = state  # None: no such link
        super().__init__(message)


REFUSALS: dict[LinkState | None, str] = {
    None: "This rating link is not valid. Please use the link in our e-mail as it came.",
    LinkState.USED: "This link was used already: thank you, we have your rating.",
    LinkState.EXPIRED: "This rating link has expired. Reply to our e-mail if you want to tell us more.",
}


def refusal(state: LinkState | None) -> LinkRefused:
    return LinkRefused(state, REFUSALS[state])

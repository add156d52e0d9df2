"""Notifications to desk users: which events of the case timeline someone is told of, who,
and what the mail says. Each user chooses the topics they hear of and, per topic, at once or
in the daily digest; nobody is told of anything they did not choose. Mail goes to desk
users' own addresses, never to a customer, and links to the case.

Who is told, per topic:
- a new chargeback-risk case (routed or re-routed into the route): everyone who chose it;
- a breach: the case's lead (the policy's person for its lead role, or the user named as its
  lead) and its assignee;
- a bad rating: the lead and the assignee, and every admin.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from enum import StrEnum
from itertools import groupby

from aftersales.domain.accounts import Role
from aftersales.domain.event_feed import FeedEvent
from aftersales.domain.policy import Lead
from aftersales.domain.routes import Route
from aftersales.domain.satisfaction import RATING_EVENT, Rating


class Topic(StrEnum):
    CHARGEBACK_RISK = "chargeback_risk"
    BREACH = "breach"
    BAD_RATING = "bad_rating"


TOPIC_LABELS: Mapping[Topic, str] = {
    Topic.CHARGEBACK_RISK: "a new chargeback-risk case",
    Topic.BREACH: "a breach on a case I lead or am assigned",
    Topic.BAD_RATING: "a bad rating on a case I lead or am assigned (admins: any case)",
}


class Timing(StrEnum):
    IMMEDIATE = "immediate"  # one mail per event, within minutes
    DIGEST = "digest"  # one mail a day listing the day's events


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscriber:
    """An active desk user and what they chose."""

    user_id: int
    email: str
    name: str
    role: Role
    choices: Mapping[Topic, Timing] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class NoticeCase:
    """What deciding who hears of a case's event reads."""

    case_id: int
    subject: str
    route: str
    lead_role: str
    lead_name: str
    assignee_user_id: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    """One event for one user: sent at once, or kept for their digest."""

    user_id: int
    email: str
    case_id: int
    event_id: int
    topic: Topic
    at: datetime
    summary: str
    delivery: Timing


def topic_of(event: FeedEvent) -> Topic | None:
    """The topic an event of the feed is, or None when nobody is told of it."""
    data = event.data
    chargeback = Route.CHARGEBACK_RISK.value
    if (
        event.kind in {"routed", "rerouted"}
        and data.get("route") == chargeback
        and data.get("from") != chargeback
    ):
        return Topic.CHARGEBACK_RISK
    if event.kind == "clock_breached":
        return Topic.BREACH
    if event.kind == RATING_EVENT and data.get("rating") == Rating.BAD.value:
        return Topic.BAD_RATING
    return None


def leads_case(user: Subscriber, case: NoticeCase, leads: Mapping[str, Lead]) -> bool:
    """Whether the user is the case's lead: the policy's person for its lead role (by e-mail
    address, while the case still names that person), or the user a person named as its lead."""
    lead = leads.get(case.lead_role)
    if lead is not None and lead.email and lead.email.lower() == user.email.lower():
        return not case.lead_name or case.lead_name == lead.name
    return bool(case.lead_name) and bool(user.name) and case.lead_name.casefold() == user.name.casefold()


def concerned(topic: Topic, user: Subscriber, case: NoticeCase, leads: Mapping[str, Lead]) -> bool:
    if topic is Topic.CHARGEBACK_RISK:
        return True
    own = leads_case(user, case, leads) or case.assignee_user_id == user.user_id
    return own or (topic is Topic.BAD_RATING and user.role is Role.ADMIN)


def notices(
    event: FeedEvent, case: NoticeCase, users: Sequence[Subscriber], leads: Mapping[str, Lead]
) -> list[Notice]:
    """Who is told of ``event``, and how: only users who chose its topic."""
    topic = topic_of(event)
    if topic is None:
        return []
    return [
        Notice(
            user_id=user.user_id,
            email=user.email,
            case_id=case.case_id,
            event_id=event.id,
            topic=topic,
            at=event.at,
            summary=summary(topic, event, case),
            delivery=user.choices[topic],
        )
        for user in users
        if topic in user.choices and concerned(topic, user, case, leads)
    ]


def summary(topic: Topic, event: FeedEvent, case: NoticeCase) -> str:
    """One line about the event, as the mail and the digest say it (at most 500 characters)."""
    subject = case.subject or "(no subject)"
    if topic is Topic.CHARGEBACK_RISK:
        line = f"new chargeback-risk case: {subject}"
    elif topic is Topic.BREACH:
        clock = str(event.data.get("name", "a clock")).replace("_", " ")
        line = f"{clock} breached: {subject}"
    else:
        comment = str(event.data.get("comment", "")).strip()
        line = f"rated bad{f' ({comment})' if comment else ''}: {subject}"
    return f"Case #{case.case_id} {line}"[:500]


def notice_subject(item: Notice) -> str:
    return f"[aftersales] {item.summary}"[:200]


def notice_text(item: Notice, case_url: str) -> str:
    return (
        f"{item.summary}\n\n"
        f"Open the case: {case_url}\n\n"
        "You get this mail because you chose to hear of "
        f"{TOPIC_LABELS[item.topic]} at once; change that on your account page.\n"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class DigestLine:
    case_id: int
    topic: Topic
    at: datetime
    summary: str


def digest_day(at: datetime, zone: tzinfo) -> date:
    """The store's day an event belongs to: a digest covers one day of the store's clock."""
    return at.astimezone(zone).date()


def digest_text(day: date, lines: Sequence[DigestLine], case_url: Mapping[int, str]) -> str:
    """The day's digest: its events grouped by topic, oldest first, each with its case's link."""
    parts = [f"What happened on {day.isoformat()} that you chose to hear of:"]
    ordered = sorted(lines, key=lambda line: (list(Topic).index(line.topic), line.at))
    for topic, group in groupby(ordered, key=lambda line: line.topic):
        items = list(group)
        label = TOPIC_LABELS[topic]
        parts.append(f"\n{label[0].upper()}{label[1:]} ({len(items)}):")
        parts.extend(f"- {line.summary}\n  {case_url[line.case_id]}" for line in items)
    parts.append("\nChange what you hear of, and when, on your account page.\n")
    return "\n".join(parts)


def digest_subject(day: date, count: int) -> str:
    return f"[aftersales] your digest for {day.isoformat()}: {count} event{'s' if count != 1 else ''}"

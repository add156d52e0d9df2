"""Notifications: desk users told by e-mail of the events they chose (domain/notifications.py),
at once or in a daily digest.

``notify`` reads the case timeline as the ``notifications`` consumer of the event feed and, in
the same unit of work, queues each immediate mail in the outbox, keeps each digest item, and
moves the feed's cursor: an event is acted on once however many workers run the job, and a
run that fails writes nothing. Every mail's Message-ID is made from what it is about (event,
user, topic; a digest's first item), so the outbox takes it once even if asked twice.

``send_digests`` queues, per user, one mail for each past day of the store's calendar that has
items, and marks the items sent in the same unit of work.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time

from aftersales.domain.event_feed import FeedConsumer
from aftersales.domain.notifications import (
    DigestLine,
    Notice,
    Timing,
    Topic,
    digest_day,
    digest_subject,
    digest_text,
    notice_subject,
    notice_text,
    notices,
    topic_of,
)
from aftersales.domain.outgoing import MailKind, OutgoingMail, mail_domain, new_message_id
from aftersales.ports import MailLinks, UnitOfWork
from aftersales.services.routing import RoutingKit

FEED_BATCH = 500  # events read per run; a longer feed is read by the next runs


@dataclass(frozen=True, slots=True, kw_only=True)
class NotifySummary:
    events: int = 0  # events read from the feed
    mailed: int = 0  # immediate mails queued
    kept: int = 0  # items kept for digests


def notify(uow: UnitOfWork, kit: RoutingKit, links: MailLinks, *, limit: int = FEED_BATCH) -> NotifySummary:
    """Tell desk users of the feed's next events, as each chose; one transaction."""
    domain = mail_domain(kit.policy.support_email)
    with uow() as cases:
        events = cases.feed_events(FeedConsumer.NOTIFICATIONS, limit=limit)
        if not events:
            return NotifySummary()
        relevant = [e for e in events if topic_of(e) is not None]
        users = cases.subscribers() if relevant else []
        facts = cases.notice_cases({e.case_id for e in relevant}) if users else {}
        told: list[Notice] = []
        for event in relevant:
            if event.case_id in facts:
                told.extend(notices(event, facts[event.case_id], users, kit.policy.leads))
        mailed = 0
        for item in (i for i in told if i.delivery is Timing.IMMEDIATE):
            mailed += cases.queue_mail(_notice_mail(item, links, domain), item.at)
        kept = [i for i in told if i.delivery is Timing.DIGEST]
        cases.keep_for_digest(kept)
        cases.advance_feed(FeedConsumer.NOTIFICATIONS, events[-1].id)
        return NotifySummary(events=len(events), mailed=mailed, kept=len(kept))


def _notice_mail(item: Notice, links: MailLinks, domain: str) -> OutgoingMail:
    return OutgoingMail(
        case_id=item.case_id,
        kind=MailKind.NOTIFICATION,
        message_id=new_message_id(domain, f"notify-{item.event_id}-{item.user_id}-{item.topic.value}"),
        to_address=item.email,
        subject=notice_subject(item),
        body=notice_text(item, links.case_url(item.case_id)),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class DigestSummary:
    digests: int = 0  # mails queued
    items: int = 0  # items they list


def send_digests(uow: UnitOfWork, kit: RoutingKit, links: MailLinks, *, now: datetime) -> DigestSummary:
    """Queue each user's digest of every past day (the store's days) with items; one
    transaction: the items are marked sent with their mail queued."""
    zone = kit.calendar.tz
    today = now.astimezone(zone).date()
    start_of_today = datetime.combine(today, time.min, tzinfo=zone)
    domain = mail_domain(kit.policy.support_email)
    with uow() as cases:
        waiting = cases.waiting_digest_items(start_of_today)
        emails = cases.user_emails(waiting.keys())
        digests = listed = 0
        for user_id, items in waiting.items():
            email = emails.get(user_id)
            by_day: dict[date, list[tuple[int, DigestLine]]] = defaultdict(list)
            for item_id, line in items:
                by_day[digest_day(line.at, zone)].append((item_id, line))
            for day, day_items in sorted(by_day.items()):
                if email:  # a user disabled since: the items go unsent
                    lines = [line for _, line in day_items]
                    cases.queue_mail(_digest_mail(user_id, email, day, day_items, lines, links, domain), now)
                    digests += 1
                    listed += len(lines)
            cases.mark_digested([item_id for item_id, _ in items], now)
        return DigestSummary(digests=digests, items=listed)


def _digest_mail(  # noqa: PLR0913  (the mail's parts)
    user_id: int,
    email: str,
    day: date,
    day_items: list[tuple[int, DigestLine]],
    lines: list[DigestLine],
    links: MailLinks,
    domain: str,
) -> OutgoingMail:
    first = min(item_id for item_id, _ in day_items)
    urls = {line.case_id: links.case_url(line.case_id) for line in lines}
    return OutgoingMail(
        case_id=None,
        kind=MailKind.DIGEST,
        message_id=new_message_id(domain, f"digest-{user_id}-{day.isoformat()}-{first}"),
        to_address=email,
        subject=digest_subject(day, len(lines)),
        body=digest_text(day, lines, urls),
    )


def choices_of(uow: UnitOfWork, user_id: int) -> dict[Topic, Timing]:
    with uow() as cases:
        return cases.notification_choices(user_id)


def choose(uow: UnitOfWork, user_id: int, chosen: dict[Topic, Timing]) -> None:
    """Replace the user's choices (a topic left out: not told of it)."""
    with uow() as cases:
        cases.set_notification_choices(user_id, chosen)

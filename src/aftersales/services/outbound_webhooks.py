"""Outbound webhooks: register and remove endpoints, relay the case timeline's events into
deliveries, send the due ones, replay one by hand.

Relaying reads the event feed after the webhooks' cursor (locked for this transaction) and,
in the same transaction, queues one delivery per subscribed endpoint and moves the cursor:
an event is relayed once however many workers run the job. Sending is apart, one delivery
at a time, each claimed in a short transaction of its own, posted with no database lock held,
and its attempt recorded in another; a failed attempt is tried again after the backoff of
domain/outbound_webhooks.py::RETRY, and after the last one the delivery is failed until an
admin replays it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from aftersales.domain.errors import InputError
from aftersales.domain.event_feed import FeedConsumer
from aftersales.domain.jobs import RetryPolicy
from aftersales.domain.outbound_webhooks import (
    DELIVERY_HEADER,
    DELIVERY_LOG_DAYS,
    EVENT_HEADER,
    EVENT_OF_KIND,
    RETRY,
    SIGNATURE_HEADER,
    TEST_EVENT,
    Endpoint,
    SendAttempt,
    WebhookSend,
    body_of,
    excerpt,
    next_attempt_at,
    parse_events,
    payload,
    ping_payload,
    signature_header,
    url_problem,
)
from aftersales.ports import WebhookPoster, WebhookUnitOfWork

RELAY_BATCH = 500  # feed events read per transaction
SEND_BATCH = 50  # deliveries posted per run; a longer backlog goes on the next run
# A delivery claimed longer ago than this was never finished (its worker stopped): it is sent
# again. Far longer than one attempt (TIMEOUT_SECONDS) takes.
SEND_LEASE = timedelta(minutes=5)
_STOPPED = "the worker stopped while sending this delivery; it is sent again and may arrive twice"
_USER_AGENT = "aftersales-webhooks/1"


def new_secret() -> str:
    """An endpoint's signing secret: 32 random bytes, URL-safe text, marked as ours."""
    return f"whsec_{secrets.token_urlsafe(32)}"


def add_endpoint(
    webhooks: WebhookUnitOfWork, url: str, events: Collection[str], *, by: str, at: datetime
) -> tuple[Endpoint, str]:
    """Register ``url`` for ``events``; the endpoint and its secret (shown once). InputError
    says what is wrong with the URL or the events, and nothing is written."""
    url = url.strip()
    problem = url_problem(url)
    if problem is not None:
        raise InputError(problem, url[:200])
    try:
        chosen = parse_events(events)
    except ValueError as error:
        raise InputError(str(error)) from None
    secret = new_secret()
    with webhooks() as store:
        return store.add_endpoint(url, chosen, secret, by, at), secret


def remove_endpoint(webhooks: WebhookUnitOfWork, endpoint_id: int, *, at: datetime) -> None:
    with webhooks() as store:
        if not store.remove_endpoint(endpoint_id, at):
            raise InputError(f"no webhook endpoint {endpoint_id} (see `aftersales webhooks list`)")


@dataclass(frozen=True, slots=True)
class Relayed:
    read: int  # feed events read (``limit`` of them: there may be more)
    queued: int  # deliveries queued


def relay_events(webhooks: WebhookUnitOfWork, *, now: datetime, limit: int = RELAY_BATCH) -> Relayed:
    """Queue a delivery of each new feed event to each endpoint subscribed to it, and move
    the cursor, in one transaction. An endpoint hears of events from when it was added."""
    with webhooks() as store:
        if not store.endpoints():  # nobody to tell: keep up without reading (after a big import)
            store.skip_feed(FeedConsumer.WEBHOOKS)
            return Relayed(0, 0)
        events = store.feed_events(FeedConsumer.WEBHOOKS, limit=limit)
        if not events:
            return Relayed(0, 0)
        told = [e for e in events if e.kind in EVENT_OF_KIND]
        endpoints = store.endpoints() if told else []
        facts = store.case_facts({e.case_id for e in told}) if endpoints else {}
        queued = 0
        for event in told:
            public = EVENT_OF_KIND[event.kind]
            takers = [p for p in endpoints if public in p.events]
            if not takers or event.case_id not in facts:
                continue
            document = payload(
                event_id=event.id,
                kind=event.kind,
                at=event.at,
                actor=event.actor,
                data=event.data,
                case=facts[event.case_id],
            )
            body = body_of(document)
            for endpoint in takers:
                queued += store.add_send(endpoint.id, event.id, public.value, body, now) is not None
        store.advance_feed(FeedConsumer.WEBHOOKS, events[-1].id)
        return Relayed(len(events), queued)


@dataclass(frozen=True, slots=True, kw_only=True)
class SendRules:
    """How deliveries are sent: ``by`` names the worker in its claims (host:pid); a claim
    older than ``lease`` is a worker that stopped; ``clock`` dates each claim and attempt as
    it happens (None: the run's ``now``, as tests do)."""

    by: str = ""
    limit: int = SEND_BATCH
    lease: timedelta = SEND_LEASE
    retry: RetryPolicy = RETRY
    clock: Callable[[], datetime] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SendSummary:
    sent: int = 0
    retrying: int = 0  # failed this time; tried again after the backoff
    failed: int = 0  # failed for the last time: replay it by hand

    def as_dict(self) -> dict[str, int]:
        return {"sent": self.sent, "retrying": self.retrying, "failed": self.failed}


def send_due(
    webhooks: WebhookUnitOfWork, poster: WebhookPoster, *, now: datetime, rules: SendRules | None = None
) -> SendSummary:
    """Post the deliveries due at ``now``, oldest first, each claimed, posted and recorded in
    transactions of its own."""
    rules = rules or SendRules()
    with webhooks() as store:
        store.release_stale_sends(now - rules.lease, _STOPPED)
        due = store.due_sends(now, rules.limit)
    outcomes = [o for send_id in due if (o := _send_one(webhooks, poster, send_id, now, rules)) is not None]
    return SendSummary(
        sent=sum(1 for o in outcomes if o.succeeded),
        retrying=sum(1 for o in outcomes if not o.succeeded and o.again),
        failed=sum(1 for o in outcomes if not o.succeeded and not o.again),
    )


@dataclass(frozen=True, slots=True)
class _Outcome:
    succeeded: bool
    again: bool


def _send_one(
    webhooks: WebhookUnitOfWork, poster: WebhookPoster, send_id: int, now: datetime, rules: SendRules
) -> _Outcome | None:
    """One attempt at one delivery; None when another worker took it meanwhile."""
    at = rules.clock() if rules.clock is not None else now
    with webhooks() as store:
        send = store.claim_send(send_id, at, rules.by)
        secret = store.endpoint_secret(send.endpoint_id) if send is not None else ""
    if send is None:
        return None
    attempt = post_once(poster, send, secret, at=at)
    again = None if attempt.succeeded else next_attempt_at(send.attempts + 1, at, rules.retry)
    with webhooks() as store:
        store.record_attempt(attempt)
        store.finish_send(send_id, attempt, again)
    return _Outcome(attempt.succeeded, again is not None)


def post_once(poster: WebhookPoster, send: WebhookSend, secret: str, *, at: datetime) -> SendAttempt:
    """Sign the delivery at ``at`` and post it; the attempt as the log keeps it."""
    body = send.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": _USER_AGENT,
        SIGNATURE_HEADER: signature_header(secret, int(at.timestamp()), body),
        EVENT_HEADER: send.event,
        DELIVERY_HEADER: str(send.id),
    }
    answer = poster.post(send.url, body, headers)
    code = answer.status_code
    if code is None:
        error = answer.error or "no answer"
    elif 200 <= code < 300:  # noqa: PLR2004
        error = ""
    else:
        error = f"the receiver answered {code}"
    return SendAttempt(
        send_id=send.id,
        at=at,
        status_code=code,
        excerpt=excerpt(answer.body),
        error=error,
        milliseconds=round(answer.seconds * 1000),
    )


def replay(webhooks: WebhookUnitOfWork, send_id: int, *, now: datetime) -> WebhookSend:
    """Send a delivery again (a new round of attempts, from ``now``), whatever became of it;
    the same body and id, so the receiver can tell it has it already."""
    with webhooks() as store:
        if not store.replay(send_id, now):
            found = store.send(send_id)
            if found is None:
                raise InputError(f"no webhook delivery {send_id} (see `aftersales webhooks log`)")
            raise InputError(f"webhook delivery {send_id} is being sent right now; replay it once it is done")
        replayed = store.send(send_id)
    assert replayed is not None  # noqa: S101 - replayed in this transaction
    return replayed


def queue_test(webhooks: WebhookUnitOfWork, endpoint_id: int, *, now: datetime) -> WebhookSend:
    """Queue a ``webhook.test`` delivery to an endpoint, due now."""
    with webhooks() as store:
        endpoint = store.endpoint(endpoint_id)
        if endpoint is None or not endpoint.active:
            raise InputError(f"no webhook endpoint {endpoint_id} (see `aftersales webhooks list`)")
        body = body_of(ping_payload(endpoint_id=endpoint_id, at=now))
        send_id = store.add_send(endpoint_id, None, TEST_EVENT, body, now)
        assert send_id is not None  # noqa: S101 - a test delivery has no event id to collide on
        send = store.send(send_id)
    assert send is not None  # noqa: S101
    return send


def send_now(
    webhooks: WebhookUnitOfWork, poster: WebhookPoster, send_id: int, *, now: datetime, by: str = ""
) -> WebhookSend:
    """Post one delivery that is due now (a test, a replay) at once; it as it stands after."""
    _send_one(webhooks, poster, send_id, now, SendRules(by=by))
    with webhooks() as store:
        send = store.send(send_id)
    assert send is not None  # noqa: S101
    return send


def forget_old_deliveries(webhooks: WebhookUnitOfWork, *, now: datetime) -> int:
    """Forget the deliveries that ended more than DELIVERY_LOG_DAYS ago (the log stays short)."""
    with webhooks() as store:
        return store.forget_sends(now - timedelta(days=DELIVERY_LOG_DAYS))

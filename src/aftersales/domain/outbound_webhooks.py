"""Outbound webhooks as data: which timeline events are told to outside tools and under which
public name, the JSON each delivery carries, and its signature.

A delivery's body is a stable JSON document (docs/webhooks.md): ``event``, ``id`` (the same on
every attempt and replay: a receiver dedupes on it), ``occurred_at``, ``case`` (what the case
is: route, status, order; never a customer's words) and ``data`` (what happened). It is signed
like Stripe's webhooks: ``Aftersales-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
"<t>.<body>" under the endpoint's secret>``; a receiver recomputes it and refuses a timestamp
older than ``TOLERANCE_SECONDS``, so a captured delivery cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from aftersales.domain.jobs import RetryPolicy, backoff_seconds


class WebhookEvent(StrEnum):
    """The public events an endpoint subscribes to; the values are a public contract."""

    CASE_OPENED = "case.opened"
    CASE_ROUTED = "case.routed"
    CASE_STATUS_CHANGED = "case.status_changed"
    CASE_BREACHED = "case.breached"
    CASE_RATED = "case.rated"


TEST_EVENT = "webhook.test"  # `aftersales webhooks test`: a delivery about no case

# timeline kinds (domain/cases.py::Event.kind) -> the public event they are told as
EVENT_OF_KIND: Mapping[str, WebhookEvent] = {
    "case_opened": WebhookEvent.CASE_OPENED,
    "routed": WebhookEvent.CASE_ROUTED,
    "rerouted": WebhookEvent.CASE_ROUTED,
    "status_changed": WebhookEvent.CASE_STATUS_CHANGED,
    "clock_breached": WebhookEvent.CASE_BREACHED,
    "rated": WebhookEvent.CASE_RATED,
}

SIGNATURE_HEADER = "Aftersales-Signature"
EVENT_HEADER = "Aftersales-Event"
DELIVERY_HEADER = "Aftersales-Delivery"
TOLERANCE_SECONDS = 300  # a receiver refuses a signature older (or further ahead) than this
TIMEOUT_SECONDS = 10.0  # one attempt waits this long for an answer at most
DELIVERY_LOG_DAYS = 30  # how long an ended delivery and its attempts are kept (and replayable)
EXCERPT_LENGTH = 200  # characters of a receiver's answer kept in the delivery log
MAX_URL_LENGTH = 2000
# Attempts spread over about nine hours: a receiver down for a deploy or a night gets its
# events once it is back; after the last one a delivery is failed and replayed by hand.
RETRY = RetryPolicy(max_attempts=8, first_seconds=30.0, factor=3.0, longest_seconds=6 * 3600.0)


class SendStatus(StrEnum):
    PENDING = "pending"  # due at ``next_attempt_at``
    SENDING = "sending"  # claimed by a worker (its lease runs from ``claimed_at``)
    SENT = "sent"  # the receiver answered 2xx
    FAILED = "failed"  # the last attempt failed: replay it by hand


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    """A receiver an admin registered; its secret is shown once, when it is made."""

    id: int
    url: str
    events: tuple[WebhookEvent, ...]
    created_at: datetime
    created_by: str
    active: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "events": [e.value for e in self.events],
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "active": self.active,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseFacts:
    """What a payload says of a case: its shape, never its customer's words or address."""

    id: int
    route: str
    status: str
    order_number: str
    lead_role: str
    opened_at: datetime
    assignee: str  # the assigned desk user's e-mail, "" when nobody is


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookSend:
    """One delivery of one event to one endpoint, as the delivery log holds it."""

    id: int
    endpoint_id: int
    url: str
    event: str
    body: str
    status: SendStatus
    attempts: int  # made since it was queued or last replayed
    next_attempt_at: datetime | None
    created_at: datetime
    sent_at: datetime | None
    last_status_code: int | None
    last_error: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "endpoint_id": self.endpoint_id,
            "url": self.url,
            "event": self.event,
            "status": self.status.value,
            "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at.isoformat() if self.next_attempt_at else None,
            "created_at": self.created_at.isoformat(),
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "last_status_code": self.last_status_code,
            "last_error": self.last_error,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class SendAttempt:
    """One HTTP attempt at a delivery: the status code (None: no answer), what came back."""

    send_id: int
    at: datetime
    status_code: int | None
    excerpt: str  # the answer's first EXCERPT_LENGTH characters
    error: str  # "" when the receiver answered 2xx
    milliseconds: int

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300  # noqa: PLR2004

    def as_dict(self) -> dict[str, Any]:
        return {
            "send_id": self.send_id,
            "at": self.at.isoformat(),
            "status_code": self.status_code,
            "excerpt": self.excerpt,
            "error": self.error,
            "milliseconds": self.milliseconds,
        }


def parse_events(names: Collection[str]) -> tuple[WebhookEvent, ...]:
    """The events named (``case.opened`` ...), in the documented order; ValueError names an
    unknown one and lists the known ones."""
    known = {e.value: e for e in WebhookEvent}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown event {unknown[0]!r}; known events: {', '.join(known)}")
    if not names:
        raise ValueError(f"name at least one event: {', '.join(known)}")
    return tuple(e for e in WebhookEvent if e.value in names)


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be an endpoint (None: it can): http or https only, a host, no
    user name or password in it (secrets go in the signature, not the URL)."""
    if len(url) > MAX_URL_LENGTH:
        return f"the URL is longer than {MAX_URL_LENGTH} characters"
    if any(c.isspace() for c in url):
        return "the URL has a space in it"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        return f"the URL cannot be read: {error}"
    if parts.scheme not in {"http", "https"}:
        return (
            f"only http and https URLs can receive webhooks, not {parts.scheme or 'a URL without a scheme'}"
        )
    if not parts.hostname:
        return "the URL names no host"
    if parts.username is not None or parts.password is not None:
        return "the URL carries a user name or password; the signature authenticates deliveries"
    if port == 0:
        return "the URL names port 0"
    return None


def public_data(kind: str, data: Mapping[str, Any], actor: str) -> dict[str, Any]:
    """What happened, in the public shape of the event ``kind`` is told as: named fields
    only (a rating's comment and a re-route's reason are a person's words: they stay)."""
    if kind == "case_opened":
        return {"channel": str(data.get("channel", ""))}
    if kind in {"routed", "rerouted"}:
        return {
            "route": str(data.get("to") or data.get("route", "")),
            "previous_route": data.get("from"),
            "confidence": data.get("confidence"),
            "by": "router" if kind == "routed" else "person",
        }
    if kind == "status_changed":
        return {
            "from": data.get("from"),
            "to": data.get("to"),
            "by": actor,
        }
    if kind == "clock_breached":
        return {
            "clock": data.get("name"),
            "due_at": data.get("due_at"),
            "breached_at": data.get("breached_at"),
        }
    if kind == "rated":
        return {"rating": data.get("rating"), "has_comment": bool(data.get("comment"))}
    raise ValueError(f"the timeline event {kind!r} is not told to webhooks")


def payload(  # noqa: PLR0913 - the parts of the documented document
    *, event_id: int, kind: str, at: datetime, actor: str, data: Mapping[str, Any], case: CaseFacts
) -> dict[str, Any]:
    """The delivery's document for timeline event ``event_id`` of ``case``. The case is as
    it stands when the event is relayed (seconds later), except that a status change or a
    routing says the status or route it made."""
    told = public_data(kind, data, actor)
    status = told["to"] if kind == "status_changed" and told.get("to") else case.status
    route = told["route"] if kind in {"routed", "rerouted"} and told.get("route") else case.route
    return {
        "event": EVENT_OF_KIND[kind].value,
        "id": f"evt_{event_id}",
        "occurred_at": at.isoformat(),
        "case": {
            "id": case.id,
            "route": route,
            "status": status,
            "order_number": case.order_number,
            "lead_role": case.lead_role,
            "assignee": case.assignee,
            "opened_at": case.opened_at.isoformat(),
        },
        "data": told,
    }


def ping_payload(*, endpoint_id: int, at: datetime) -> dict[str, Any]:
    """The document of a test delivery (`aftersales webhooks test`)."""
    return {
        "event": TEST_EVENT,
        "id": f"test_{endpoint_id}_{int(at.timestamp())}",
        "occurred_at": at.isoformat(),
        "case": None,
        "data": {"endpoint_id": endpoint_id},
    }


def body_of(document: Mapping[str, Any]) -> str:
    """The exact bytes (as text) a delivery carries and its signature covers."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"{timestamp}.{body}"`` under ``secret``."""
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def signature_problem(
    secret: str, header: str, body: bytes, *, now: int, tolerance: int = TOLERANCE_SECONDS
) -> str | None:
    """Why a delivery's ``Aftersales-Signature`` header does not prove it (None: it does):
    unreadable, too old (or from the future) by more than ``tolerance`` seconds, or no
    ``v1`` signature matching the body under ``secret`` (compared in constant time)."""
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        name, equals, value = part.strip().partition("=")
        if equals:
            fields.setdefault(name, []).append(value)
    stamps = fields.get("t", [])
    if len(stamps) != 1 or not stamps[0].isascii() or not stamps[0].isdigit():
        return "the signature header has no timestamp t=<unix seconds>"
    timestamp = int(stamps[0])
    if abs(now - timestamp) > tolerance:
        return f"the signature is {abs(now - timestamp)} s from now, more than {tolerance} s"
    expected = signature(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, given) for given in fields.get("v1", [])):
        return "no v1 signature matches the body"
    return None


def next_attempt_at(attempts: int, now: datetime, policy: RetryPolicy = RETRY) -> datetime | None:
    """When a delivery that failed ``attempts`` times is tried again; None: it has failed."""
    wait = backoff_seconds(policy, attempts)
    return None if wait is None else now + timedelta(seconds=wait)


def excerpt(answer: bytes) -> str:
    """The start of a receiver's answer, on one line, for the delivery log."""
    text = answer[: EXCERPT_LENGTH * 4].decode("utf-8", errors="replace")
    return " ".join(text.split())[:EXCERPT_LENGTH]

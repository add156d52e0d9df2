"""Mail the desk sends: threading headers, subjects, and when not to answer at all.

Threading follows RFC 5322 §3.6.4: a reply's In-Reply-To is the parent's Message-ID, and its
References are the parent's References (or, lacking them, its In-Reply-To) plus the parent's
Message-ID. Loop protection follows RFC 3834 §2: an automatic answer is never sent to
automatic mail, list mail, bounces, ourselves, or twice a day to the same address.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from aftersales.domain.errors import AftersalesError
from aftersales.domain.messages import InboundMessage
from aftersales.domain.policy import Interval, StorePolicy

# The thread root and the most recent ids carry the threading; mail programs cut the middle
# of long chains the same way (RFC 5322 §3.6.4 allows it), and servers limit header length.
REFERENCES_KEPT = 20
_SUBJECT_KEPT = 200  # characters of the original subject a reply's subject keeps
ACKNOWLEDGEMENT_INTERVAL_HOURS = 24  # at most one acknowledgement per address in this time
# Older mail (a first poll's backfill, an import) gets no receipt: days later it says nothing.
ACKNOWLEDGEMENT_MAX_AGE = timedelta(hours=24)
# Local parts that never read their mail: bounces, and senders that say so.
_MACHINE_SENDERS = frozenset(
    {"mailer-daemon", "postmaster", "noreply", "no-reply", "no_reply", "donotreply", "do-not-reply"}
)
_LIST_HEADERS = frozenset({"list-id", "list-unsubscribe", "list-post", "list-help"})
_BULK_PRECEDENCE = frozenset({"bulk", "list", "junk"})
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|aw|sv|antw)\s*(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_CASE_TAG = re.compile(r"\s*\[\s*(?:case\s*[:#]?\s*|#)\d{1,12}\s*\]", re.IGNORECASE)
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]")
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class MailKind(StrEnum):
    REPLY = "reply"  # an agent's public reply
    ACKNOWLEDGEMENT = "acknowledgement"  # the automatic receipt for a new case
    NOTIFICATION = "notification"  # a desk user told of one event (domain/notifications.py)
    DIGEST = "digest"  # a desk user's daily digest: about many cases, so no case of its own


class MailStatus(StrEnum):
    PENDING = "pending"  # queued, or failed and to be tried again
    # handed to a sender at ``sent_at``; no database lock is held while the server talks, and
    # a sender that stops mid-send leaves it here until the lease runs out (then pending)
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the last attempt; ``last_error`` says why


class MailNotSent(AftersalesError):
    """The mail server did not take a mail; the message names the server, never a password."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingMail:
    """One mail to send; ids are without angle brackets, as messages store them."""

    case_id: int | None  # None: about no one case (a digest)
    kind: MailKind
    message_id: str
    to_address: str
    subject: str
    body: str
    in_reply_to: str = ""
    references: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class QueuedMail:
    """A mail in the outbox, with its delivery state."""

    id: int
    mail: OutgoingMail
    status: MailStatus
    attempts: int
    last_error: str
    queued_at: datetime
    sent_at: datetime | None = None


class DeliveryState(StrEnum):
    """What became of a reply's mail, as the case page and the case JSON show it."""

    QUEUED = "queued"  # in the outbox (pending or being sent; a failed try is retried)
    SENT = "sent"  # the mail server took it
    FAILED = "failed"  # the last attempt failed: ``error`` says why
    NOT_MAILED = "not_mailed"  # no mail was queued (no e-mail address to send it to)


@dataclass(frozen=True, slots=True)
class Delivery:
    state: DeliveryState
    at: datetime | None  # when it was sent; queued or failed: when it was queued
    error: str = ""  # the mail server's answer to the last failed try

    def as_dict(self) -> dict[str, str | None]:
        return {
            "state": self.state.value,
            "at": self.at.isoformat() if self.at else None,
            "error": self.error,
        }


NOT_MAILED = Delivery(DeliveryState.NOT_MAILED, None, "no mail was queued for this reply (no e-mail address)")


def delivery_of(
    status: MailStatus, *, queued_at: datetime, sent_at: datetime | None, last_error: str
) -> Delivery:
    """A mail's delivery state from its outbox row; a pending mail whose last try failed is
    still queued (it is tried again), with the failure as its error."""
    if status is MailStatus.SENT:
        return Delivery(DeliveryState.SENT, sent_at, "")
    if status is MailStatus.FAILED:
        return Delivery(DeliveryState.FAILED, queued_at, last_error)
    return Delivery(DeliveryState.QUEUED, queued_at, last_error)


class Threadable(Protocol):
    """What threading reads of a parent message (an InboundMessage has all three)."""

    @property
    def message_id(self) -> str: ...
    @property
    def in_reply_to(self) -> str: ...
    @property
    def references(self) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True)
class Parent:
    """A stored message as a threading parent."""

    message_id: str
    in_reply_to: str = ""
    references: tuple[str, ...] = ()


def thread_headers(original: Threadable) -> tuple[str, tuple[str, ...]]:
    """(In-Reply-To, References) of a reply to ``original``, per RFC 5322 §3.6.4."""
    if not original.message_id:
        return "", ()
    ancestors = list(original.references) or ([original.in_reply_to] if original.in_reply_to else [])
    chain = list(dict.fromkeys(i for i in [*ancestors, original.message_id] if i))
    if len(chain) > REFERENCES_KEPT:
        chain = [chain[0], *chain[1 - REFERENCES_KEPT :]]
    return original.message_id, tuple(chain)


def new_message_id(domain: str, unique: str) -> str:
    """``unique@domain`` (no angle brackets), with characters an id may not hold replaced."""
    left = _ID_UNSAFE.sub("-", unique).strip(".") or "message"
    right = _ID_UNSAFE.sub("-", domain.strip().lower()).strip(".") or "aftersales.invalid"
    return f"{left}@{right}"


def unguessable_message_id(domain: str, kind: str, token: str) -> str:
    """``kind-token@domain``: ``token`` is random (the caller draws it; the core has no
    randomness), so no one can forge a reply header that threads into a case by guessing the
    desk's Message-ID from what they know (a dispute id, an order number, a shop name)."""
    return new_message_id(domain, f"{kind}-{token}")


def mail_domain(address: str) -> str:
    """The domain of an address ("support@northwind.example" → "northwind.example")."""
    _, _, domain = address.strip().rpartition("@")
    return domain.lower() or "aftersales.invalid"


def can_receive_mail(address: str) -> bool:
    """Whether a customer address is one mail can go to (not a stand-in for "unknown")."""
    local, at, domain = address.strip().rpartition("@")
    return bool(local and at and "." in domain and not domain.lower().endswith(".invalid"))


def reply_subject(subject: str, case_id: int) -> str:
    """'Re: <subject> [case 42]': one "Re:", one case tag (intake threads on the tag)."""
    # a case without a subject is named after its first words, which may span lines
    bare = " ".join(_without_tags(_REPLY_PREFIX.sub("", subject)).split())
    if len(bare) > _SUBJECT_KEPT:
        bare = bare[:_SUBJECT_KEPT].rstrip() + "…"
    return f"Re: {bare or 'your message'} [case {case_id}]"


def _without_tags(subject: str) -> str:
    """The subject without case tags, also those a removal would join ("[case [case 1]5]")."""
    while (bare := _CASE_TAG.sub("", subject)) != subject:
        subject = bare
    return subject


def acknowledgement_refusal(
    message: InboundMessage, own_addresses: Collection[str], *, recently_acknowledged: bool
) -> str | None:
    """Why ``message`` must get no automatic answer (RFC 3834), or None when it may get one."""
    sender = message.from_address.strip().lower()
    if message.auto_kind is not None:
        return f"screened as {message.auto_kind.value}"
    if not sender:
        return "the message has no sender address"
    if sender in {a.strip().lower() for a in own_addresses}:
        return f"{sender} is our own address"
    if sender.partition("@")[0] in _MACHINE_SENDERS:
        return f"{sender} is an automatic sender"
    header_reason = _automatic_by_headers(_first_values(message.raw_headers))
    if header_reason:
        return header_reason
    if recently_acknowledged:
        return f"{sender} got an acknowledgement in the last {ACKNOWLEDGEMENT_INTERVAL_HOURS} hours"
    return None


def acknowledgement_lateness(
    sent_at: datetime, first_response_due: datetime | None, now: datetime
) -> str | None:
    """Why a receipt would come too late to say anything, or None: the mail is old, or its
    first answer is already overdue (a receipt promising a past time helps no one)."""
    if now - sent_at > ACKNOWLEDGEMENT_MAX_AGE:
        return f"the message was sent {sent_at.isoformat()}, too long ago for a receipt"
    if first_response_due is not None and first_response_due <= now:
        return f"the first answer was due {first_response_due.isoformat()}"
    return None


def _first_values(headers: Sequence[tuple[str, str]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in headers:
        found.setdefault(name.strip().lower(), value.strip())
    return found


def _automatic_by_headers(headers: Mapping[str, str]) -> str | None:
    auto_submitted = _first_word(headers.get("auto-submitted", ""))
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"
    listed = sorted(_LIST_HEADERS & headers.keys())
    if listed:
        return f"list mail ({listed[0]})"
    precedence = _first_word(headers.get("precedence", ""))
    if precedence in _BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    if headers.get("return-path", "").strip() == "<>":
        return "an empty return path (a bounce)"
    return None


def _first_word(value: str) -> str:
    words = value.strip().lower().replace(";", " ").split()
    return words[0] if words else ""


def acknowledgement_text(
    policy: StorePolicy, case_id: int, first_response_due: datetime | None, customer_name: str = ""
) -> str:
    """The receipt for a new case: its reference and, in the store's zone and business
    hours, when the first answer is due."""
    hours = business_hours_text(policy.business_hours)
    when = "as soon as we can"
    if first_response_due is not None:
        due = first_response_due.astimezone(ZoneInfo(policy.time_zone))
        when = f"by {format_due(due)} ({policy.time_zone})"
    timing = f"We will reply {when}" + (f", within our business hours {hours}." if hours else ".")
    greeting = f"Hello {customer_name}," if customer_name else "Hello,"
    return "\n\n".join(
        (
            greeting,
            f"thank you for writing to {policy.store_name}. We have your message: it is case {case_id}.",
            timing,
            f'To add anything, reply to this e-mail and keep "[case {case_id}]" in the subject.',
            "This is an automatic message; you do not need to answer it.",
            policy.store_name,
        )
    )


def format_due(moment: datetime) -> str:
    """'Tuesday 1 December, 11:00' in the moment's own zone."""
    return f"{moment:%A} {moment.day} {moment:%B}, {moment:%H:%M}"


def business_hours_text(weekly: Mapping[int, tuple[Interval, ...]]) -> str:
    """'Mon–Thu 9:00–12:00 and 13:00–17:00, Fri 9:00–16:00': runs of days with equal hours."""
    runs: list[tuple[int, int, tuple[Interval, ...]]] = []
    for day in range(7):
        intervals = tuple(weekly.get(day, ()))
        if intervals and runs and runs[-1][1] == day - 1 and runs[-1][2] == intervals:
            runs[-1] = (runs[-1][0], day, intervals)
        elif intervals:
            runs.append((day, day, intervals))
    return ", ".join(f"{_days(first, last)} {_intervals(hours)}" for first, last, hours in runs)


def _days(first: int, last: int) -> str:
    return _DAY_NAMES[first] if first == last else f"{_DAY_NAMES[first]}–{_DAY_NAMES[last]}"


def _intervals(intervals: tuple[Interval, ...]) -> str:
    def clock(moment: Interval, *, end: bool) -> str:
        value = moment.end if end else moment.start
        if end and value.hour == 0 and value.minute == 0:
            return "24:00"
        return f"{value.hour}:{value.minute:02d}"

    return " and ".join(f"{clock(i, end=False)}–{clock(i, end=True)}" for i in intervals)

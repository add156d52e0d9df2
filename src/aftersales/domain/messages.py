"""Messages as the desk sees them: already parsed, no MIME, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from aftersales.domain.routes import Route


class Direction(StrEnum):
    INBOUND = "inbound"  # from the customer
    OUTBOUND = "outbound"  # a public reply to the customer
    NOTE = "note"  # an internal note, never sent


class Channel(StrEnum):
    EMAIL = "email"
    FORM = "form"
    CHAT = "chat"
    SOCIAL = "social"
    REVIEW = "review"
    API = "api"


class AutoKind(StrEnum):
    """Mail that must not open or update a case (it goes to the screened bucket)."""

    AUTO_REPLY = "auto_reply"  # Auto-Submitted, X-Auto-Response-Suppress, out-of-office, read receipts
    MAILING_LIST = "mailing_list"  # List-Id, List-Unsubscribe, Precedence: bulk/list
    DELIVERY_REPORT = "delivery_report"  # multipart/report; report-type=delivery-status
    OWN_MAIL = "own_mail"  # sent by the store's own address (loop protection)


@dataclass(frozen=True, slots=True)
class AttachmentMeta:
    filename: str
    content_type: str
    size: int  # bytes, as received
    sha256: str  # of the content; the content itself is stored by an adapter, size-capped


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundMessage:
    """One customer message, parsed; the key the desk deduplicates on is ``dedupe_key``."""

    message_id: str  # the Message-ID header without <>, or a generated one for non-mail input
    # Message-ID plus a hash of sender, Date header ("" when absent) and body: carriers reuse
    # Message-IDs for different mail, and the same bytes must give the same key on every import
    dedupe_key: str
    channel: Channel
    from_address: str  # lower-cased e-mail address ("" when unknown)
    from_name: str
    to_addresses: tuple[str, ...]  # To and Cc
    subject: str
    sent_at: datetime  # aware; the Date header, or when it was received when absent or broken
    body: str  # the new text only: quoted replies and signatures stripped
    full_body: str  # the whole text as received (kept for the record)
    html: str  # the HTML part as received ("" if none); sanitised only when displayed
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    attachments: tuple[AttachmentMeta, ...] = ()
    auto_kind: AutoKind | None = None  # set: screened out, never opens or updates a case
    order_hint: str = ""  # an order number given by a form or JSONL input, if any
    case_hint: str = ""  # an explicit case reference ("[case 42]"), if any
    raw_headers: tuple[tuple[str, str], ...] = field(default=())  # for threading and audits
    # the route a source knows for certain (a Shopify dispute, a one-star review): it leads
    # whatever the text says, and the router's own reading stays as secondary routes
    route_hint: Route | None = None


@dataclass(frozen=True, slots=True)
class ParseProblem:
    """Input that could not be read as a message; quarantined with its reason, never fatal."""

    source: str  # file and position, e.g. "inbox.mbox#17"
    reason: str

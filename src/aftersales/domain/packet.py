"""The dispute evidence packet: everything the desk holds about an order in dispute, mapped to
Shopify's dispute evidence fields, with a checklist of what the dispute's reason needs and
what is still missing.

The seed's list is kept for every packet: order, payment, tracking, delivery proof, support
conversation, photos, refund or reship decision, policy page version and timeline. A dispute
adds what its reason needs (``REASON_PARTS``, after the reason → evidence table of Shopify's
``ShopifyPaymentsDisputeEvidence``); a packet built with no dispute uses the chargeback
route's list. Shopify publishes no per-reason help text, so the table is derived from the
field list and chargeback guides (see docs/disputes.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from aftersales.domain.dispute_evidence import (
    EVIDENCE_FIELDS,
    LABELS,
    SEED_PARTS,
    TO_DO,
    Part,
    parts_for,
)
from aftersales.domain.orders import Address, Dispute, OrderFacts, ScanStatus, TrackingEvent

# Photos back a claim about the goods; for other reasons they are kept when there are any.
_OPTIONAL_SEED_PARTS = frozenset({Part.PHOTOS})
_REFUSAL = re.compile(r"\b(?:reject|refus|declin|den(?:y|ied)|defen[cd]|no refund)", re.IGNORECASE)
_PROOF_KEYS = re.compile(r"deliver|proof|signature|pod\b", re.IGNORECASE)
_AUTOMATIC = frozenset({"", "router"})  # who marks evidence without a person looking
_DISPUTE_NOTICE = "shopify-dispute|"  # the dedupe key prefix of a dispute's notice on its case
# reasons where the card's owner says they did not buy: whether the goods went to the card's
# billing address is evidence
_NOT_THE_BUYER = frozenset({"fraudulent", "unrecognized"})


@dataclass(frozen=True, slots=True, kw_only=True)
class FileRef:
    """An attachment of a message (its content is stored apart, by SHA-256)."""

    filename: str
    content_type: str
    size: int
    sha256: str
    case_id: int
    sent_at: datetime

    @property
    def is_image(self) -> bool:
        return self.content_type.lower().startswith("image/")


@dataclass(frozen=True, slots=True, kw_only=True)
class PacketMessage:
    case_id: int
    direction: str  # inbound | outbound
    channel: str
    author: str
    from_address: str
    subject: str
    sent_at: datetime
    body: str
    attachments: tuple[FileRef, ...] = ()
    is_notice: bool = False  # the shop's own notice of the dispute, not the buyer's words


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceRecord:
    case_id: int
    key: str
    label: str
    present: bool
    source: str
    marked_by: str
    marked_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseEvent:
    case_id: int
    kind: str
    at: datetime
    actor: str
    data: Mapping[str, object]


@dataclass(frozen=True, slots=True, kw_only=True)
class PacketCase:
    id: int
    route: str
    status: str
    subject: str
    opened_at: datetime
    lead: str
    sender_mark: str = ""  # domain/trust.py: who wrote it ("" the order's buyer)


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyInForce:
    label: str  # "v3", or the source's own name when the texts are not stored
    effective_at: datetime | None = None
    sha256: str = ""
    texts: Mapping[str, str] = field(default_factory=dict)  # kind → text


@dataclass(frozen=True, slots=True, kw_only=True)
class PacketData:
    """What the desk holds about one order (or one case with no order), as read."""

    subject: str  # "case 42", "order #1043"
    order: OrderFacts | None = None
    customer_email: str = ""
    customer_name: str = ""
    prior_orders: tuple[str, ...] = ()  # the buyer's other orders, by number
    tracking: tuple[TrackingEvent, ...] = ()
    disputes: tuple[Dispute, ...] = ()
    cases: tuple[PacketCase, ...] = ()
    messages: tuple[PacketMessage, ...] = ()
    evidence: tuple[EvidenceRecord, ...] = ()
    events: tuple[CaseEvent, ...] = ()
    policy: PolicyInForce | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordedDecision:
    case_id: int
    decision: str
    amount: str | None
    by: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class PacketTimelineEntry:
    at: datetime
    what: str
    source: str  # "order", "carrier", "case 42", "dispute 77"


@dataclass(frozen=True, slots=True, kw_only=True)
class ChecklistItem:
    part: Part
    label: str
    shopify_fields: tuple[str, ...]
    required: bool  # the reason needs it; else kept for the record (the seed's list)
    present: bool
    detail: str  # what the packet holds, when present
    to_do: str  # what to do, when missing


@dataclass(frozen=True, slots=True, kw_only=True)
class Packet:
    data: PacketData
    built_at: datetime
    dispute: Dispute | None  # the one the checklist is for: the open one, else the latest
    decisions: tuple[RecordedDecision, ...]
    timeline: tuple[PacketTimelineEntry, ...]
    checklist: tuple[ChecklistItem, ...]

    @property
    def reason(self) -> str:
        return self.dispute.reason if self.dispute is not None else ""

    @property
    def missing(self) -> tuple[ChecklistItem, ...]:
        return tuple(i for i in self.checklist if not i.present)

    @property
    def conversation(self) -> tuple[PacketMessage, ...]:
        return tuple(m for m in self.data.messages if not m.is_notice)

    @property
    def photos(self) -> tuple[FileRef, ...]:
        return tuple(a for m in self.data.messages for a in m.attachments if a.is_image)

    @property
    def files(self) -> tuple[FileRef, ...]:
        return tuple(a for m in self.data.messages for a in m.attachments if not a.is_image)


def is_dispute_notice(dedupe_key: str) -> bool:
    return dedupe_key.startswith(_DISPUTE_NOTICE)


def build_packet(data: PacketData, now: datetime) -> Packet:
    """The packet over what the desk holds: decisions, one timeline, and the checklist."""
    dispute = _dispute_in_question(data.disputes)
    decisions = tuple(
        RecordedDecision(
            case_id=e.case_id,
            decision=str(e.data.get("decision", "")),
            amount=_text_or_none(e.data.get("amount")),
            by=e.actor,
            at=e.at,
        )
        for e in data.events
        if e.kind == "decision_recorded"
    )
    packet = Packet(
        data=data,
        built_at=now,
        dispute=dispute,
        decisions=decisions,
        timeline=build_timeline(data),
        checklist=(),
    )
    return replace(packet, checklist=checklist(packet))


def checklist(packet: Packet) -> tuple[ChecklistItem, ...]:
    """The reason's parts first, then the rest of the seed's list; present or what to do."""
    needed = parts_for(packet.reason if packet.dispute is not None else None)
    required = set(needed) | (set(SEED_PARTS) - _OPTIONAL_SEED_PARTS)
    order = f"#{packet.data.order.number}" if packet.data.order else "the order"
    items = []
    for part in dict.fromkeys((*needed, *SEED_PARTS)):
        detail = _FINDERS[part](packet)
        items.append(
            ChecklistItem(
                part=part,
                label=LABELS[part],
                shopify_fields=EVIDENCE_FIELDS[part],
                required=part in required,
                present=bool(detail),
                detail=detail,
                to_do="" if detail else TO_DO[part].format(order=order),
            )
        )
    return tuple(items)


def build_timeline(data: PacketData) -> tuple[PacketTimelineEntry, ...]:
    """Order, carrier, dispute and case moments, oldest first."""
    entries: list[PacketTimelineEntry] = []
    if data.order is not None:
        entries += _order_moments(data.order)
    entries += [
        PacketTimelineEntry(at=s.happened_at, what=_scan_text(s), source="carrier") for s in data.tracking
    ]
    for d in data.disputes:
        if d.initiated_at is not None:
            entries.append(
                PacketTimelineEntry(
                    at=d.initiated_at,
                    what=f"{d.kind or 'dispute'} opened: {d.reason or 'no reason given'}",
                    source=f"dispute {d.dispute_id}",
                )
            )
    entries += [
        PacketTimelineEntry(at=m.sent_at, what=_message_text(m), source=f"case {m.case_id}")
        for m in data.messages
    ]
    entries += [
        PacketTimelineEntry(at=e.at, what=_event_text(e), source=f"case {e.case_id}")
        for e in data.events
        if e.kind not in _QUIET_EVENTS
    ]
    return tuple(sorted(entries, key=lambda e: e.at))


# timeline events the messages themselves already show
_QUIET_EVENTS = frozenset({"message_received", "reply_sent"})


def _order_moments(order: OrderFacts) -> list[PacketTimelineEntry]:
    moments = (
        (order.placed_at, f"order #{order.number} placed"),
        (order.fulfilled_at, f"order #{order.number} fulfilled"),
        (order.delivered_at, f"order #{order.number} delivered"),
        (order.cancelled_at, f"order #{order.number} cancelled"),
    )
    entries = [
        PacketTimelineEntry(at=at, what=what, source="order") for at, what in moments if at is not None
    ]
    entries += [
        PacketTimelineEntry(at=r.at, what=f"refund of {r.amount} {order.currency}".strip(), source="order")
        for r in order.refunds
    ]
    return entries


def _scan_text(scan: TrackingEvent) -> str:
    where = f" at {scan.location}" if scan.location else ""
    said = f": {scan.message}" if scan.message else ""
    return f"{scan.carrier or 'carrier'} scan {scan.status.value}{where}{said}"


def _message_text(message: PacketMessage) -> str:
    who = message.author or message.from_address or "customer"
    kind = "notice" if message.is_notice else ("reply" if message.direction == "outbound" else "message")
    return f"{kind} from {who}: {message.subject or message.body[:60]}"


def _event_text(event: CaseEvent) -> str:
    shown = ", ".join(f"{k}={v}" for k, v in event.data.items() if isinstance(v, str | int | float) and v)
    return f"{event.kind.replace('_', ' ')} by {event.actor}" + (f" ({shown[:160]})" if shown else "")


def _dispute_in_question(disputes: tuple[Dispute, ...]) -> Dispute | None:
    """The open dispute, else the most recent one."""
    if not disputes:
        return None
    open_ones = [d for d in disputes if d.is_open]
    return (open_ones or list(disputes))[-1]


def _utc(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _text_or_none(value: object) -> str | None:
    return None if value is None else str(value)


# ---------------------------------------------------------------- what each part finds


def _order(p: Packet) -> str:
    o = p.data.order
    if o is None:
        return ""
    lines = ", ".join(f"{i.quantity} × {i.title or i.sku}" for i in o.items)
    placed = f" placed {o.placed_at:%Y-%m-%d}" if o.placed_at else ""
    return f"order #{o.number}{placed}" + (f": {lines}" if lines else "")


def _payment(p: Packet) -> str:
    o = p.data.order
    if o is None or not o.financial_status:
        return ""
    return f"{o.financial_status}, {o.order_value} {o.currency}".strip()


def _refunds(p: Packet) -> str:
    o = p.data.order
    if o is None:
        return ""
    if not o.refunds:
        return "no refunds on the order"
    return f"{len(o.refunds)} refund(s), {o.refunded} {o.currency}".strip()


def _customer(p: Packet) -> str:
    if not p.data.customer_email:
        return ""
    return f"{buyer_name(p)} <{p.data.customer_email}>".strip()


def buyer_name(p: Packet) -> str:
    """The buyer's name as stored, else as their own messages sign it."""
    if p.data.customer_name:
        return p.data.customer_name
    email = p.data.customer_email.lower()
    signed = (m.author for m in p.data.messages if m.from_address.lower() == email and not m.is_notice)
    return next((name for name in signed if name and "@" not in name), "")


def _fulfilment(p: Packet) -> str:
    o = p.data.order
    if o is None or not (o.carrier or o.tracking_numbers):
        return ""
    numbers = ", ".join(o.tracking_numbers) or "no tracking number"
    return f"{o.carrier or 'carrier not named'} {numbers}"


def _tracking(p: Packet) -> str:
    if not p.data.tracking:
        return ""
    last = p.data.tracking[-1]
    where = f" at {last.location}" if last.location else ""
    return f"{len(p.data.tracking)} scan(s); last {last.status.value}{where} on {last.happened_at:%Y-%m-%d}"


def _delivery_proof(p: Packet) -> str:
    delivered = [s for s in p.data.tracking if s.status is ScanStatus.DELIVERED]
    if delivered:
        scan = delivered[-1]
        return f"delivery scan {_utc(scan.happened_at)}" + (f" at {scan.location}" if scan.location else "")
    # a person's mark only: the router ticks "tracking and delivery proof" for a tracking
    # number in a message, which proves nothing was delivered
    marked = [
        e
        for e in p.data.evidence
        if e.present and e.marked_by not in _AUTOMATIC and _PROOF_KEYS.search(f"{e.key} {e.label}")
    ]
    if marked:
        return f"{marked[0].label}: {marked[0].source or 'marked by ' + marked[0].marked_by}"
    order = p.data.order
    if order is not None and order.delivered_at is not None:
        return f"the shop reports delivery on {order.delivered_at:%Y-%m-%d}"
    return ""


def _street_address(address: Address | None) -> Address | None:
    """An address the packet can show: one with a street line (a country alone proves nothing)."""
    return address if address is not None and address.address1 else None


def _shipping_address(p: Packet) -> str:
    address = _street_address(p.data.order.shipping_address if p.data.order else None)
    return address.formatted() if address else ""


def _billing_address(p: Packet) -> str:
    address = _street_address(p.data.order.billing_address if p.data.order else None)
    if address is None:
        return ""
    match = _address_match(p)
    return address.formatted() + (f" ({match})" if match else "")


def _address_match(p: Packet) -> str:
    """For a buyer who says they did not order: whether the goods went to the billing address
    (street line, zip and country, compared without case or punctuation); "" otherwise."""
    order = p.data.order
    if p.reason.lower() not in _NOT_THE_BUYER or order is None:
        return ""
    billing, shipping = _street_address(order.billing_address), _street_address(order.shipping_address)
    if billing is None or shipping is None:
        return ""
    same = billing.is_same_place(shipping)
    return f"billing address {'matches' if same else 'differs from'} the shipping address"


def _conversation(p: Packet) -> str:
    talk = p.conversation
    inbound = sum(1 for m in talk if m.direction == "inbound")
    return f"{inbound} message(s) from the buyer, {len(talk) - inbound} from the store" if inbound else ""


def _photos(p: Packet) -> str:
    photos = p.photos
    return f"{len(photos)} photo(s): " + ", ".join(a.filename for a in photos) if photos else ""


def _product_description(p: Packet) -> str:
    o = p.data.order
    if o is None or not o.items:
        return ""
    return "; ".join(f"{i.title or i.sku} {i.variant}".strip() + f" (SKU {i.sku})" for i in o.items)


def _decision(p: Packet) -> str:
    if p.decisions:
        d = p.decisions[-1]
        money = f" {d.amount}" if d.amount else ""
        return f"{d.decision}{money} by {d.by} on {_utc(d.at)}"
    o = p.data.order
    if o is not None and o.refunds:
        return f"refund of {o.refunded} recorded in the shop"
    return ""


def _refund_refusal(p: Packet) -> str:
    refusals = [d for d in p.decisions if _REFUSAL.search(d.decision)]
    return f"{refusals[-1].decision} by {refusals[-1].by}" if refusals else ""


def _policy(p: Packet) -> str:
    policy = p.data.policy
    if policy is None or not policy.label:
        return ""
    since = f", in force since {policy.effective_at:%Y-%m-%d}" if policy.effective_at else ""
    kinds = ", ".join(policy.texts) or "texts not stored"
    return f"policy {policy.label}{since} ({kinds})"


def _cancellation_policy(p: Packet) -> str:
    policy = p.data.policy
    if policy is None:
        return ""
    kinds = [kind for kind, text in policy.texts.items() if "cancel" in text.lower()]
    return f"cancellation terms in the {', '.join(kinds)} policy {policy.label}" if kinds else ""


def _prior_orders(p: Packet) -> str:
    prior = p.data.prior_orders
    return f"{len(prior)} other order(s): " + ", ".join(f"#{n}" for n in prior) if prior else ""


def _timeline(p: Packet) -> str:
    known = p.data.order is not None or bool(p.data.cases)
    return "order, carrier, dispute and case moments in order" if known else ""


def _never(p: Packet) -> str:
    """Parts the desk does not store: the person fills them in Shopify."""
    return ""


_FINDERS: Mapping[Part, Callable[[Packet], str]] = {
    Part.ORDER: _order,
    Part.PAYMENT: _payment,
    Part.REFUNDS: _refunds,
    Part.CUSTOMER: _customer,
    Part.FULFILMENT: _fulfilment,
    Part.TRACKING: _tracking,
    Part.DELIVERY_PROOF: _delivery_proof,
    Part.SHIPPING_ADDRESS: _shipping_address,
    Part.BILLING_ADDRESS: _billing_address,
    Part.PURCHASE_IP: _never,
    Part.PAYMENT_CHECKS: _never,
    Part.PRIOR_ORDERS: _prior_orders,
    Part.CONVERSATION: _conversation,
    Part.PHOTOS: _photos,
    Part.PRODUCT_DESCRIPTION: _product_description,
    Part.DECISION: _decision,
    Part.REFUND_REFUSAL: _refund_refusal,
    Part.POLICY: _policy,
    Part.CANCELLATION_POLICY: _cancellation_policy,
    Part.CANCELLATION_REBUTTAL: _never,
    Part.DISTINCT_CHARGES: _never,
    Part.TIMELINE: _timeline,
}


# ---------------------------------------------------------------- Shopify's evidence fields


def shopify_evidence(packet: Packet) -> dict[str, object]:
    """The packet as ShopifyPaymentsDisputeEvidence fields: text fields hold the text to
    paste, file fields name the packet section to upload; None where the desk has nothing."""
    found = {item.part: item for item in packet.checklist}
    first, _, last = buyer_name(packet).partition(" ")
    policy = packet.data.policy
    order = packet.data.order

    def section(part: Part, name: str) -> str | None:
        item = found.get(part)
        present = item.present if item is not None else bool(_FINDERS[part](packet))
        return f"the packet's {name} section (PDF)" if present else None

    return {
        "accessActivityLog": None,
        "billingAddress": _mailing_address(order.billing_address if order else None),
        "cancellationPolicyDisclosure": _cancellation_policy(packet) or None,
        "cancellationPolicyFile": section(Part.CANCELLATION_POLICY, "Policy"),
        "cancellationRebuttal": None,
        "customerCommunicationFile": section(Part.CONVERSATION, "Conversation"),
        "customerEmailAddress": packet.data.customer_email or None,
        "customerFirstName": first or None,
        "customerLastName": last or None,
        "customerPurchaseIp": None,
        "fulfillments": _fulfillments(packet.data.order),
        "productDescription": _product_description(packet) or None,
        "refundPolicyDisclosure": _policy(packet) or None,
        "refundPolicyFile": section(Part.POLICY, "Policy") if policy and policy.texts else None,
        "refundRefusalExplanation": _refund_refusal(packet) or None,
        "serviceDocumentationFile": None,
        "shippingAddress": _mailing_address(order.shipping_address if order else None),
        "shippingDocumentationFile": section(Part.TRACKING, "Tracking and delivery"),
        "uncategorizedFile": section(Part.PHOTOS, "Photos and files"),
        "uncategorizedText": _summary(packet),
    }


def _mailing_address(address: Address | None) -> dict[str, str | None] | None:
    """An address as Shopify's MailingAddressInput; None when the packet has no street for it."""
    shown = _street_address(address)
    if shown is None:
        return None
    first, _, last = shown.name.partition(" ")
    fields = {
        "firstName": first,
        "lastName": last,
        "company": shown.company,
        "address1": shown.address1,
        "address2": shown.address2,
        "city": shown.city,
        "provinceCode": shown.province,
        "zip": shown.zip,
        "countryCode": shown.country,
        "phone": shown.phone,
    }
    return {key: value or None for key, value in fields.items()}


def _fulfillments(order: OrderFacts | None) -> list[dict[str, str | None]]:
    if order is None or not (order.carrier or order.tracking_numbers):
        return []
    shipped = order.fulfilled_at.isoformat() if order.fulfilled_at else None
    return [
        {"shippingCarrier": order.carrier or None, "shippingTrackingNumber": number, "shippingDate": shipped}
        for number in (order.tracking_numbers or ("",))
    ]


def _summary(packet: Packet) -> str:
    """A few plain sentences: the order, payment, refunds, decisions and the dispute."""
    details = ((part, _FINDERS[part](packet)) for part in _SUMMARY_PARTS)
    lines = [f"{LABELS[part]}: {detail}." for part, detail in details if detail]
    if match := _address_match(packet):
        lines.append(f"The {match}.")
    if packet.dispute is not None:
        d = packet.dispute
        lines.append(f"Dispute {d.dispute_id}: {d.kind} for {d.reason}, status {d.status}.")
    return "\n".join(lines)


_SUMMARY_PARTS = (Part.ORDER, Part.PAYMENT, Part.REFUNDS, Part.DECISION, Part.TRACKING, Part.DELIVERY_PROOF)

"""A planted "product not received" dispute, built the way production builds it: the order
and carrier scans through the webhook service, the buyer's messages through intake, the
dispute through the webhook service, and the lead's decision through the desk. Shared by the
packet's service, command-line and web tests."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from aftersales.adapters.mail.parse import dedupe_key
from aftersales.domain.messages import AttachmentMeta, Channel, InboundMessage
from aftersales.domain.orders import Dispute, LineItem, OrderFacts, ScanStatus, TrackingEvent
from aftersales.domain.shop_events import ScanReport, ShopOrder
from aftersales.ports import UnitOfWork
from aftersales.services.desk import record_decision
from aftersales.services.intake import Incoming, take_in
from aftersales.services.routing import RoutingKit
from aftersales.services.shopify_events import apply_event

NY = ZoneInfo("America/New_York")
PLACED = datetime(2026, 11, 16, 10, 0, tzinfo=NY)
NOW = datetime(2026, 11, 27, 16, 0, tzinfo=NY)
PHOTO = b"\xff\xd8\xff\xe0 not really a jpeg"
DECISION = "reship with signature confirmation"


def order_1043(placed: datetime = PLACED) -> OrderFacts:
    """Order #1043: one black tumbler, shipped by UPS the day after it was placed."""
    return OrderFacts(
        number="1043",
        shopify_id="5550001043",
        placed_at=placed,
        fulfilled_at=placed + timedelta(days=1),
        carrier="UPS",
        tracking_numbers=("1Z999AA10123456784",),
        destination="US",
        items=(LineItem("TMB-20-BLK", "20oz tumbler", "Black", 1, Decimal("34.00")),),
        currency="USD",
        total=Decimal("34.00"),
        financial_status="paid",
    )


SCANS = (
    (ScanStatus.CARRIER_PICKED_UP, 1, "Columbus, OH"),
    (ScanStatus.IN_TRANSIT, 2, "Louisville, KY"),
    (ScanStatus.IN_TRANSIT, 3, "Memphis, TN"),
)


def buyer_message(text: str, sent: datetime, *, photo: bool = False) -> Incoming:
    digest = hashlib.sha256(f"{sent.isoformat()}|{text}".encode()).hexdigest()[:12]
    message_id = f"{digest}@cust.example"
    meta = AttachmentMeta("parcel-label.jpg", "image/jpeg", len(PHOTO), hashlib.sha256(PHOTO).hexdigest())
    message = InboundMessage(
        message_id=message_id,
        dedupe_key=dedupe_key(message_id, "ana.silva@example.com", sent.isoformat(), text),
        channel=Channel.EMAIL,
        from_address="ana.silva@example.com",
        from_name="Ana Silva",
        to_addresses=("support@northwind.example",),
        subject="Order #1043 not moving",
        sent_at=sent,
        body=text,
        full_body=text,
        html="",
        attachments=(meta,) if photo else (),
    )
    return Incoming(message, "tests", [(meta, PHOTO)] if photo else [])


def plant_dispute(
    uow: UnitOfWork, kit: RoutingKit, *, reason: str = "product_not_received", decide: bool = True
) -> int:
    """The dispute's case id; order #1043 stalled in Memphis, the buyer wrote twice (once with
    a photo), then charged it back."""
    with uow() as cases:
        apply_event(cases, kit, ShopOrder(order_1043(), "ana.silva@example.com", "Ana Silva"), now=PLACED)
        for number, (status, days, place) in enumerate(SCANS):
            scan = TrackingEvent(
                event_id=f"scan-{number}",
                status=status,
                happened_at=PLACED + timedelta(days=days),
                location=place,
                carrier="UPS",
                tracking_number="1Z999AA10123456784",
            )
            apply_event(cases, kit, ScanReport("5550001043", scan), now=PLACED + timedelta(days=days))
    first = datetime(2026, 11, 24, 10, 15, tzinfo=NY)
    take_in(
        uow,
        kit,
        buyer_message("Where is my order #1043? It's stuck in Memphis.", first, photo=True),
        now=first,
    )
    later = first + timedelta(days=1)
    take_in(uow, kit, buyer_message("Any news on order #1043?", later), now=later)
    dispute = Dispute(
        dispute_id="9000001043",
        order_shopify_id="5550001043",
        kind="chargeback",
        reason=reason,
        status="needs_response",
        amount=Decimal("34.00"),
        currency="USD",
        initiated_at=NOW - timedelta(hours=6),
        evidence_due_by=NOW + timedelta(days=7),
    )
    with uow() as cases:
        _, case_id = apply_event(cases, kit, dispute, now=NOW - timedelta(hours=5), shop="northwind")
    assert case_id is not None
    if decide:
        record_decision(uow, case_id, DECISION, by="Lee (operations)", at=NOW - timedelta(hours=4))
    return case_id

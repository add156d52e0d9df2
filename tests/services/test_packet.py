"""The dispute evidence packet over a real database (SQLite, and PostgreSQL when configured):
a planted "product not received" dispute holds every item the seed lists, each present or
marked missing with the Shopify evidence field it fills and what to do."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine

from aftersales.adapters.db.packet_queries import packet_unit_of_work
from aftersales.adapters.db.policy_texts import policy_texts_unit_of_work
from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.domain.dispute_evidence import SEED_PARTS, Part
from aftersales.domain.errors import InputError
from aftersales.domain.orders import Address, OrderFacts, ScanStatus, TrackingEvent
from aftersales.domain.packet import Packet
from aftersales.domain.policy_texts import PolicyKind, PolicyTexts
from aftersales.domain.shop_events import ScanReport, ShopOrder
from aftersales.services.intake import Incoming, take_in
from aftersales.services.packet import PacketNotFound, evidence_packet
from aftersales.services.routing import RoutingKit
from aftersales.services.shopify_events import apply_event
from support.packet_story import DECISION, NOW, PLACED, buyer_message, order_1043, plant_dispute

# each item of the seed's list, and the Shopify dispute evidence field(s) it fills
SEED_FIELDS = {
    Part.ORDER: ("uncategorizedText",),
    Part.PAYMENT: ("uncategorizedText",),
    Part.TRACKING: ("shippingDocumentationFile",),
    Part.DELIVERY_PROOF: ("shippingDocumentationFile",),
    Part.CONVERSATION: ("customerCommunicationFile",),
    Part.PHOTOS: ("uncategorizedFile",),
    Part.DECISION: ("uncategorizedText",),
    Part.POLICY: ("refundPolicyDisclosure", "refundPolicyFile"),
    Part.TIMELINE: ("uncategorizedText",),
}
REFUND_TEXT = "Refunds within 30 days of delivery. The buyer pays return shipping; send photos."


def _add_policy(engine: Engine) -> None:
    texts = PolicyTexts({PolicyKind.REFUND: REFUND_TEXT})
    with policy_texts_unit_of_work(engine)() as repo:
        repo.add_version(texts, PLACED - timedelta(days=30), PLACED - timedelta(days=30), "owner")


def _packet(engine: Engine, reference: str) -> Packet:
    return evidence_packet(packet_unit_of_work(engine), reference, now=NOW)


def _states(packet: Packet) -> dict[Part, bool]:
    return {item.part: item.present for item in packet.checklist}


def test_a_product_not_received_packet_holds_every_seed_item(
    uow: SqlUnitOfWork, engine: Engine, kit: RoutingKit
) -> None:
    _add_policy(engine)
    case_id = plant_dispute(uow, kit)
    packet = _packet(engine, "#1043")
    states = _states(packet)
    assert set(SEED_PARTS) <= set(states)
    assert packet.reason == "product_not_received"
    assert {p for p, present in states.items() if not present} == {Part.DELIVERY_PROOF, Part.SHIPPING_ADDRESS}
    assert {i.part: i.shopify_fields for i in packet.checklist if i.part in SEED_PARTS} == SEED_FIELDS
    missing = {i.part: i for i in packet.missing}
    assert missing[Part.DELIVERY_PROOF].shopify_fields == ("shippingDocumentationFile",)
    assert "proof of delivery" in missing[Part.DELIVERY_PROOF].to_do
    assert missing[Part.SHIPPING_ADDRESS].shopify_fields == ("shippingAddress",)
    # who decided what, and when
    assert [(d.case_id, d.decision, d.by, d.at) for d in packet.decisions] == [
        (case_id, DECISION, "Lee (operations)", NOW - timedelta(hours=4))
    ]
    # every scan, the whole conversation (the dispute's notice apart), the photo, the policy
    assert [s.location for s in packet.data.tracking] == ["Columbus, OH", "Louisville, KY", "Memphis, TN"]
    assert [m.body[:8] for m in packet.conversation] == ["Where is", "Any news"]
    assert [a.filename for a in packet.photos] == ["parcel-label.jpg"]
    assert packet.data.policy is not None
    assert packet.data.policy.label == "v1"
    assert packet.data.policy.texts == {"refund": REFUND_TEXT}
    assert packet.data.customer_email == "ana.silva@example.com"


@pytest.mark.parametrize(
    ("with_policy", "decide", "photo_scan", "missing"),
    [
        (False, False, False, {Part.DELIVERY_PROOF, Part.SHIPPING_ADDRESS, Part.POLICY, Part.DECISION}),
        (True, True, False, {Part.DELIVERY_PROOF, Part.SHIPPING_ADDRESS}),
        (True, True, True, {Part.SHIPPING_ADDRESS}),
    ],
    ids=["nothing-decided-no-policy", "decided", "delivered-scan"],
)
def test_what_is_missing_follows_what_the_desk_holds(
    uow: SqlUnitOfWork,
    engine: Engine,
    kit: RoutingKit,
    with_policy: bool,
    decide: bool,
    photo_scan: bool,
    missing: set[Part],
) -> None:
    if with_policy:
        _add_policy(engine)
    plant_dispute(uow, kit, decide=decide)
    if photo_scan:
        delivered = TrackingEvent(
            event_id="scan-delivered",
            status=ScanStatus.DELIVERED,
            happened_at=PLACED + timedelta(days=4),
            location="Austin, TX",
            carrier="UPS",
        )
        with uow() as cases:
            apply_event(cases, kit, ScanReport("5550001043", delivered), now=NOW)
    packet = _packet(engine, "1043")
    assert {i.part for i in packet.missing if i.required} == missing


HOME = Address(
    name="Ana Silva", address1="1820 Division St", city="Nashville", province="TN", zip="37203", country="US"
)
OFFICE = Address(name="Ana Silva", company="Silva & Co", address1="1 Music Sq W", zip="37203", country="US")


@pytest.mark.parametrize(
    ("reason", "billing", "billing_detail"),
    [
        ("product_not_received", None, None),  # billing is not asked for
        ("fraudulent", None, ""),
        ("fraudulent", HOME, f"{HOME} (billing address matches the shipping address)"),
        ("unrecognized", OFFICE, f"{OFFICE} (billing address differs from the shipping address)"),
    ],
)
def test_the_packet_shows_the_orders_addresses_and_a_later_payload_without_them_keeps_them(
    uow: SqlUnitOfWork,
    engine: Engine,
    kit: RoutingKit,
    reason: str,
    billing: Address | None,
    billing_detail: str | None,
) -> None:
    plant_dispute(uow, kit, reason=reason)
    with_addresses = replace(order_1043(), shipping_address=HOME, billing_address=billing)
    with uow() as cases:
        apply_event(cases, kit, ShopOrder(with_addresses, "ana.silva@example.com", "Ana Silva"), now=NOW)
        outcome, _ = apply_event(cases, kit, ShopOrder(order_1043(), "ana.silva@example.com", "Ana"), now=NOW)
    assert outcome == "order 1043 unchanged"
    details = {i.part: i.detail for i in _packet(engine, "#1043").checklist}
    assert details[Part.SHIPPING_ADDRESS] == "Ana Silva, 1820 Division St, Nashville TN 37203, US"
    assert details.get(Part.BILLING_ADDRESS) == billing_detail


def test_a_case_and_its_order_give_one_packet_with_every_case(
    uow: SqlUnitOfWork, engine: Engine, kit: RoutingKit
) -> None:
    case_id = plant_dispute(uow, kit)
    # someone else (a gift's recipient) writes about the same order: a second case
    sent = datetime.fromisoformat("2026-11-26T09:00-05:00")
    gift = buyer_message("Order #1043 was a gift to me, where is it?", sent)
    message = replace(gift.message, from_address="bo@example.com", message_id="bo-1@x", dedupe_key="bo-1")
    other = Incoming(message, "tests")
    second = take_in(uow, kit, other, now=sent).case_id
    assert second is not None
    assert second != case_id
    by_case = _packet(engine, f"case:{case_id}")
    by_order = _packet(engine, "#1043")
    assert (
        [c.id for c in by_case.data.cases] == [c.id for c in by_order.data.cases] == sorted([case_id, second])
    )
    assert by_case.data.subject == f"case {case_id} (order #1043)"
    assert by_order.data.subject == "order #1043"
    assert by_case.data.messages == by_order.data.messages


@pytest.mark.parametrize(
    ("reference", "error", "words"),
    [
        ("#9999", PacketNotFound, "no order #9999"),
        ("case:777", PacketNotFound, "no case 777"),
        ("777", PacketNotFound, "no case 777 and no order #777"),
        ("  ", InputError, "give a case id"),
    ],
)
def test_a_reference_to_nothing_names_what_was_not_found(
    uow: SqlUnitOfWork, engine: Engine, reference: str, error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        _packet(engine, reference)


def test_a_bare_number_that_is_both_a_case_and_an_order_must_be_said(
    uow: SqlUnitOfWork, engine: Engine, kit: RoutingKit
) -> None:
    case_id = plant_dispute(uow, kit)
    clash = OrderFacts(number=str(case_id), shopify_id="5550000001", placed_at=PLACED)
    with uow() as cases:
        apply_event(cases, kit, ShopOrder(clash, "zed@example.com", "Zed"), now=NOW)
    with pytest.raises(InputError, match=f"write case:{case_id} or #{case_id}"):
        _packet(engine, str(case_id))
    assert _packet(engine, f"#{case_id}").data.order is not None


def test_a_case_without_a_dispute_is_checked_against_the_chargeback_route(
    uow: SqlUnitOfWork, engine: Engine, kit: RoutingKit
) -> None:
    with uow() as cases:
        apply_event(cases, kit, ShopOrder(order_1043(), "ana.silva@example.com", "Ana Silva"), now=PLACED)
    sent = datetime.fromisoformat("2026-11-24T10:15-05:00")
    case_id = take_in(uow, kit, buyer_message("Where is order #1043?", sent), now=sent).case_id
    packet = _packet(engine, f"case:{case_id}")
    assert packet.dispute is None
    assert [i.part for i in packet.checklist][:7] == [
        Part.ORDER,
        Part.TIMELINE,
        Part.TRACKING,
        Part.DELIVERY_PROOF,
        Part.POLICY,
        Part.CONVERSATION,
        Part.DECISION,
    ]

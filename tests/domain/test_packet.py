"""The packet's checklist per dispute reason, what each part finds, Shopify's fields, and
the reference a packet is asked for by."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersales.domain.dispute_evidence import (
    EVIDENCE_FIELDS,
    LABELS,
    REASON_PARTS,
    ROUTE_PARTS,
    SEED_PARTS,
    TO_DO,
    Part,
)
from aftersales.domain.errors import InputError
from aftersales.domain.orders import Address, Dispute, LineItem, OrderFacts, ScanStatus, TrackingEvent
from aftersales.domain.packet import (
    CaseEvent,
    EvidenceRecord,
    FileRef,
    PacketData,
    PacketMessage,
    build_packet,
    shopify_evidence,
)
from aftersales.domain.packet_reference import PacketReference, packet_reference

NOW = datetime(2026, 11, 27, 21, 0, tzinfo=UTC)
P = Part
# Shopify's ShopifyPaymentsDisputeEvidenceUpdateInput fields (field-and-formats §5.3)
SHOPIFY_FIELDS = {
    "accessActivityLog",
    "billingAddress",
    "cancellationPolicyDisclosure",
    "cancellationPolicyFile",
    "cancellationRebuttal",
    "customerCommunicationFile",
    "customerEmailAddress",
    "customerFirstName",
    "customerLastName",
    "customerPurchaseIp",
    "fulfillments",
    "productDescription",
    "refundPolicyDisclosure",
    "refundPolicyFile",
    "refundRefusalExplanation",
    "serviceDocumentationFile",
    "shippingAddress",
    "shippingDocumentationFile",
    "uncategorizedFile",
    "uncategorizedText",
}


def _data(reason: str | None = None, **fields: object) -> PacketData:
    if reason is None:
        return PacketData(subject="order #1043", disputes=(), **fields)  # type: ignore[arg-type]
    disputes = (Dispute(dispute_id="77", kind="chargeback", reason=reason, status="needs_response"),)
    return PacketData(subject="order #1043", disputes=disputes, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("reason", "needs"),
    [
        (
            "product_not_received",
            {P.FULFILMENT, P.TRACKING, P.DELIVERY_PROOF, P.SHIPPING_ADDRESS, P.CONVERSATION},
        ),
        (
            "fraudulent",
            {P.PURCHASE_IP, P.BILLING_ADDRESS, P.PAYMENT_CHECKS, P.PRIOR_ORDERS, P.DELIVERY_PROOF},
        ),
        ("unrecognized", {P.PURCHASE_IP, P.BILLING_ADDRESS, P.PRIOR_ORDERS}),
        ("product_unacceptable", {P.PRODUCT_DESCRIPTION, P.PHOTOS, P.POLICY, P.REFUND_REFUSAL}),
        ("credit_not_processed", {P.POLICY, P.REFUNDS, P.REFUND_REFUSAL}),
        ("subscription_cancelled", {P.CANCELLATION_POLICY, P.CANCELLATION_REBUTTAL}),
        ("duplicate", {P.DISTINCT_CHARGES, P.PAYMENT}),
        ("general", {P.CONVERSATION, P.CUSTOMER}),
        ("customer_initiated", {P.CONVERSATION}),
        ("insufficient_funds", {P.PAYMENT}),
        ("PRODUCT_NOT_RECEIVED", {P.DELIVERY_PROOF}),  # as the GraphQL enum spells it
        ("a_reason_shopify_adds_later", {P.CONVERSATION, P.CUSTOMER}),
    ],
)
def test_each_reason_needs_its_evidence_and_keeps_the_seed_list(reason: str, needs: set[Part]) -> None:
    packet = build_packet(_data(reason), NOW)
    required = {i.part for i in packet.checklist if i.required}
    assert needs <= required
    assert set(SEED_PARTS) <= {i.part for i in packet.checklist}


@pytest.mark.parametrize(
    ("reason", "photos_required"),
    [("product_not_received", False), ("product_unacceptable", True), (None, False)],
)
def test_photos_are_kept_for_every_reason_but_needed_for_the_goods(
    reason: str | None, photos_required: bool
) -> None:
    photos = next(i for i in build_packet(_data(reason), NOW).checklist if i.part is P.PHOTOS)
    assert photos.required is photos_required


def test_with_no_dispute_the_chargeback_routes_list_comes_first() -> None:
    packet = build_packet(_data(None), NOW)
    assert tuple(i.part for i in packet.checklist)[: len(ROUTE_PARTS)] == ROUTE_PARTS


def test_an_empty_packet_marks_everything_missing_with_what_to_do() -> None:
    packet = build_packet(_data("product_not_received"), NOW)
    assert all(not i.present and i.to_do for i in packet.checklist)
    assert "#" not in next(i for i in packet.checklist if i.part is P.SHIPPING_ADDRESS).to_do


def test_every_part_has_a_label_a_field_and_a_to_do() -> None:
    assert set(LABELS) == set(EVIDENCE_FIELDS) == set(TO_DO) == set(Part)
    assert {f for fields in EVIDENCE_FIELDS.values() for f in fields} <= SHOPIFY_FIELDS


ORDER = OrderFacts(
    number="1043",
    placed_at=NOW - timedelta(days=10),
    fulfilled_at=NOW - timedelta(days=9),
    carrier="UPS",
    tracking_numbers=("1Z999AA10123456784",),
    items=(LineItem("TMB-20-BLK", "20oz tumbler", "Black", 1, Decimal("34.00")),),
    currency="USD",
    financial_status="paid",
)


HOME = Address(
    name="Ana Silva", address1="1820 Division St", city="Nashville", province="TN", zip="37203", country="US"
)


def _scan(status: ScanStatus, days_ago: int) -> TrackingEvent:
    return TrackingEvent(event_id=f"s{days_ago}", status=status, happened_at=NOW - timedelta(days=days_ago))


def _message(body: str, *, notice: bool = False, photo: bool = False) -> PacketMessage:
    files = (
        FileRef(filename="dent.jpg", content_type="image/jpeg", size=3, sha256="ab", case_id=1, sent_at=NOW),
        FileRef(
            filename="receipt.pdf",
            content_type="application/pdf",
            size=3,
            sha256="cd",
            case_id=1,
            sent_at=NOW,
        ),
    )
    return PacketMessage(
        case_id=1,
        direction="inbound",
        channel="api" if notice else "email",
        author="Ana Silva",
        from_address="ana@example.com",
        subject="",
        sent_at=NOW - timedelta(days=2),
        body=body,
        attachments=files if photo else (),
        is_notice=notice,
    )


def _decision(text: str) -> CaseEvent:
    return CaseEvent(
        case_id=1, kind="decision_recorded", at=NOW, actor="Lee", data={"decision": text, "amount": None}
    )


@pytest.mark.parametrize(
    ("fields", "part", "present"),
    [
        ({"order": ORDER, "tracking": (_scan(ScanStatus.IN_TRANSIT, 5),)}, P.DELIVERY_PROOF, False),
        ({"order": ORDER, "tracking": (_scan(ScanStatus.DELIVERED, 5),)}, P.DELIVERY_PROOF, True),
        ({"order": ORDER}, P.FULFILMENT, True),
        ({"order": ORDER}, P.PAYMENT, True),
        ({"order": OrderFacts(number="1043")}, P.PAYMENT, False),
        ({"messages": (_message("dispute notice", notice=True),)}, P.CONVERSATION, False),
        ({"messages": (_message("where is it?"),)}, P.CONVERSATION, True),
        ({"messages": (_message("dented", photo=True),)}, P.PHOTOS, True),
        ({"events": (_decision("refund 34.00"),)}, P.DECISION, True),
        ({"events": (_decision("refund 34.00"),)}, P.REFUND_REFUSAL, False),
        ({"events": (_decision("reject: used item"),)}, P.REFUND_REFUSAL, True),
        ({"order": ORDER, "prior_orders": ("1001",)}, P.PRIOR_ORDERS, True),
        ({"order": ORDER}, P.SHIPPING_ADDRESS, False),
        ({"order": replace(ORDER, shipping_address=HOME)}, P.SHIPPING_ADDRESS, True),
        ({"order": replace(ORDER, shipping_address=Address(country="US"))}, P.SHIPPING_ADDRESS, False),
        ({"order": replace(ORDER, billing_address=HOME)}, P.BILLING_ADDRESS, True),
        ({"order": replace(ORDER, shipping_address=HOME)}, P.BILLING_ADDRESS, False),
    ],
)
def test_what_each_part_finds(fields: dict[str, object], part: Part, present: bool) -> None:
    reason = next((r for r, parts in REASON_PARTS.items() if part in parts), "general")
    item = next(i for i in build_packet(_data(reason, **fields), NOW).checklist if i.part is part)
    assert item.present is present
    assert bool(item.to_do) is not present


@pytest.mark.parametrize(
    ("reason", "billing", "match"),
    [
        ("fraudulent", HOME, "matches"),
        # street, zip and country compared without case or punctuation; names may differ
        (
            "unrecognized",
            replace(HOME, name="A. Silva", address1="1820 division st.", country="us"),
            "matches",
        ),
        ("fraudulent", replace(HOME, address1="9 Elm St"), "differs from"),
        ("fraudulent", replace(HOME, zip="37204"), "differs from"),
        ("fraudulent", replace(HOME, country="CA"), "differs from"),
        ("product_not_received", replace(HOME, address1="9 Elm St"), ""),  # not asked for
    ],
)
def test_the_billing_address_says_whether_it_is_the_shipping_address_when_the_buyer_denies_buying(
    reason: str, billing: Address, match: str
) -> None:
    order = replace(ORDER, shipping_address=HOME, billing_address=billing)
    packet = build_packet(_data(reason, order=order), NOW)
    said = f"billing address {match} the shipping address"
    items = [i for i in packet.checklist if i.part is P.BILLING_ADDRESS]
    assert [(i.present, i.detail) for i in items] == ([(True, f"{billing} ({said})")] if match else [])
    assert (f"The {said}." in str(shopify_evidence(packet)["uncategorizedText"])) is bool(match)


def test_the_addresses_fill_shopifys_mailing_address_fields() -> None:
    order = replace(ORDER, shipping_address=replace(HOME, address2="Apt 3", phone="+1 615 555 0101"))
    evidence = shopify_evidence(build_packet(_data("fraudulent", order=order), NOW))
    assert evidence["shippingAddress"] == {
        "firstName": "Ana",
        "lastName": "Silva",
        "company": None,
        "address1": "1820 Division St",
        "address2": "Apt 3",
        "city": "Nashville",
        "provinceCode": "TN",
        "zip": "37203",
        "countryCode": "US",
        "phone": "+1 615 555 0101",
    }
    assert evidence["billingAddress"] is None


def test_shopify_evidence_uses_shopifys_field_names() -> None:
    data = _data(
        "product_not_received",
        order=ORDER,
        customer_email="ana@example.com",
        messages=(_message("where is it?", photo=True),),
    )
    evidence = shopify_evidence(build_packet(data, NOW))
    assert set(evidence) == SHOPIFY_FIELDS
    assert evidence["customerFirstName"] == "Ana"  # from her own messages: no stored name
    assert evidence["customerLastName"] == "Silva"
    assert evidence["fulfillments"] == [
        {
            "shippingCarrier": "UPS",
            "shippingTrackingNumber": "1Z999AA10123456784",
            "shippingDate": ORDER.fulfilled_at.isoformat() if ORDER.fulfilled_at else None,
        }
    ]
    assert evidence["shippingAddress"] is None


def test_the_timeline_merges_order_carrier_and_case_moments_in_order() -> None:
    data = _data(
        "product_not_received",
        order=ORDER,
        tracking=(_scan(ScanStatus.IN_TRANSIT, 5),),
        messages=(_message("where is it?"),),
        events=(_decision("reship"),),
    )
    timeline = build_packet(data, NOW).timeline
    assert [e.source for e in timeline] == ["order", "order", "carrier", "case 1", "case 1"]
    assert timeline == tuple(sorted(timeline, key=lambda e: e.at))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", PacketReference("42", case_id=42, order_number="42")),
        ("case:42", PacketReference("case:42", case_id=42)),
        ("Case 42", PacketReference("Case 42", case_id=42)),
        ("#1043", PacketReference("#1043", order_number="1043")),
        ("order:1043", PacketReference("order:1043", order_number="1043")),
        (" order #1043 ", PacketReference("order #1043", order_number="1043")),
        ("NW-1043", PacketReference("NW-1043", order_number="NW-1043")),
        ("99999999999", PacketReference("99999999999", order_number="99999999999")),
    ],
)
def test_a_reference_names_a_case_an_order_or_either(text: str, expected: PacketReference) -> None:
    assert packet_reference(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "case:0", "case:99999999999"])
def test_a_reference_to_no_possible_case_is_refused(text: str) -> None:
    with pytest.raises(InputError):
        packet_reference(text)


@given(st.text(max_size=40))
def test_any_reference_parses_or_is_refused_with_a_reason(text: str) -> None:
    try:
        ref = packet_reference(text)
    except InputError:
        # only an empty reference, or a case number no case can have, is refused
        assert not text.strip() or text.strip().lower().startswith("case")
        return
    assert ref.case_id is not None or ref.order_number


@pytest.mark.parametrize(
    ("marked_by", "present"),
    [("router", False), ("Lee (operations)", True)],
)
def test_delivery_proof_marked_on_a_case_counts_when_a_person_marked_it(
    marked_by: str, present: bool
) -> None:
    item = EvidenceRecord(
        case_id=1,
        key="tracking",
        label="Tracking and delivery proof",
        present=True,
        source="UPS proof of delivery, signed J. Smith",
        marked_by=marked_by,
        marked_at=NOW,
    )
    packet = build_packet(_data("product_not_received", evidence=(item,)), NOW)
    proof = next(i for i in packet.checklist if i.part is P.DELIVERY_PROOF)
    assert proof.present is present

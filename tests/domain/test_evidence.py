"""Evidence from facts: for each way an item is detected, which facts make it present, which
words only suggest it, and what stays missing; a person's latest mark decides over both."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from aftersales.domain.evidence import (
    EvidenceFacts,
    EvidenceState,
    Hint,
    PersonMark,
    assess_evidence,
    check_evidence,
    word_hints,
)
from aftersales.domain.orders import LineItem, OrderFacts, Refund, ScanStatus
from aftersales.domain.routes import EvidenceSpec
from aftersales.domain.signals import Signal

AT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
ORDER = OrderFacts(number="1043")
SHIPPED = OrderFacts(
    number="1043",
    fulfilled_at=AT,
    carrier="UPS",
    tracking_numbers=("1Z999AA10123456784",),
    last_scan_at=AT,
    last_scan_status=ScanStatus.IN_TRANSIT,
    items=(LineItem("TMB-20-BLK", "Tumbler 20oz", quantity=1, price=Decimal("24.00")),),
)
REFUNDED = OrderFacts(number="1043", refunds=(Refund(Decimal("12.00"), AT),), currency="USD")
PS = EvidenceState.PRESENT
SG = EvidenceState.SUGGESTED
MS = EvidenceState.MISSING


@dataclass(frozen=True)
class Row:
    detected_by: str | None
    facts: EvidenceFacts
    state: EvidenceState
    says: str  # a fragment of the source (present) or the suggestion (suggested); "" for missing
    ask_again: bool = False
    key: str = "item"
    extra: dict[str, str] = field(default_factory=dict)


def hint(text: str, *, ask_again: bool = False) -> dict[str, Hint]:
    return {"item": Hint(text, ask_again)}


ROWS = [
    # a photo: an image the customer sent, or a file a person added; the words only suggest it
    pytest.param(Row("photo", EvidenceFacts(images=("dent.jpg",)), PS, "image attached: dent.jpg"), id="photo: an image came"),
    pytest.param(
        Row("photo", EvidenceFacts(uploads={"item": ("box.png",)}), PS, "file added: box.png"),
        id="photo: a person uploaded one",
    ),
    pytest.param(
        Row(
            "photo",
            EvidenceFacts(hints=hint("the customer mentions photos ('photos attached'): none found", ask_again=True)),
            SG,
            "none found",
            ask_again=True,
        ),
        id="photo: 'photos attached' and no image is only a suggestion, asked for again",
    ),
    pytest.param(Row("photo", EvidenceFacts(), MS, ""), id="photo: nothing"),
    pytest.param(
        Row("photo", EvidenceFacts(images=tuple(f"p{n}.jpg" for n in range(5))), PS, "p0.jpg, p1.jpg, p2.jpg and 2 more"),
        id="photo: many images are counted",
    ),
    # an order number: an order the desk holds for this buyer
    pytest.param(Row("order_number", EvidenceFacts(order=ORDER), PS, "order #1043 linked"), id="order number: stored order"),
    pytest.param(
        Row("order_number", EvidenceFacts(hints=hint("the message names '#1043'")), SG, "'#1043'"),
        id="order number: typed only",
    ),
    pytest.param(Row("order_number", EvidenceFacts(), MS, ""), id="order number: none"),
    # tracking: a number or a carrier scan stored on the order
    pytest.param(
        Row("tracking_number", EvidenceFacts(order=SHIPPED, scans=3), PS, "UPS 1Z999AA10123456784; 3 carrier scans"),
        id="tracking: stored on the order",
    ),
    pytest.param(
        Row("tracking_number", EvidenceFacts(order=ORDER, scans=1), PS, "1 carrier scan"),
        id="tracking: a scan without a number",
    ),
    pytest.param(
        Row("tracking_number", EvidenceFacts(order=ORDER, hints=hint("the message gives '1Z…'")), SG, "1Z"),
        id="tracking: typed, not on the order",
    ),
    # SKU: the order's lines
    pytest.param(Row("sku", EvidenceFacts(order=SHIPPED), PS, "TMB-20-BLK"), id="sku: the order's lines"),
    pytest.param(
        Row("sku", EvidenceFacts(order=ORDER, hints=hint("the message names 'TMB-20-BLK'")), SG, "TMB-20-BLK"),
        id="sku: named in words, the order has no lines",
    ),
    # money: a recorded decision's amount or a refund on the order
    pytest.param(Row("money", EvidenceFacts(recorded_amount="24.00"), PS, "decision recorded: 24.00"), id="money: decided"),
    pytest.param(Row("money", EvidenceFacts(order=REFUNDED), PS, "refunded 12.00 USD"), id="money: refunded"),
    pytest.param(Row("money", EvidenceFacts(order=ORDER, hints=hint("names '$24'")), SG, "$24"), id="money: words"),
    # order facts and the policy version
    pytest.param(Row("order.last_scan", EvidenceFacts(order=SHIPPED), PS, "last_scan"), id="last scan: stored"),
    pytest.param(Row("order.last_scan", EvidenceFacts(order=ORDER), MS, ""), id="last scan: none stored"),
    pytest.param(Row("order.delivered", EvidenceFacts(order=SHIPPED), MS, ""), id="delivered: not yet"),
    pytest.param(Row("order.refunds", EvidenceFacts(order=ORDER), PS, "refunds"), id="refunds: the order says"),
    pytest.param(Row("order.refunds", EvidenceFacts(), MS, ""), id="refunds: no order"),
    pytest.param(
        Row("policy.version", EvidenceFacts(policy_version="v3"), PS, "policy version v3"), id="policy version"
    ),
    # only a person ticks it
    pytest.param(Row(None, EvidenceFacts(), MS, ""), id="a person's item: untouched"),
    pytest.param(
        Row(None, EvidenceFacts(marks={"item": PersonMark(present=True, by="Sam", note="in the 10:14 mail")}), PS,
            "marked by Sam: in the 10:14 mail"),
        id="a person's item: ticked",
    ),
    pytest.param(
        Row(None, EvidenceFacts(recorded={"item": "judgeme: 1 stars"}), PS, "judgeme: 1 stars"),
        id="an import's mark stands",
    ),
    # a person's latest mark decides over facts and words
    pytest.param(
        Row("photo", EvidenceFacts(images=("receipt.jpg",), marks={"item": PersonMark(present=False, by="Sam")}), SG,
            "image attached: receipt.jpg, but Sam unticked it"),
        id="an untick wins over an image (it was a receipt)",
    ),
    pytest.param(
        Row("order_number", EvidenceFacts(hints=hint("names '#1043'"), marks={"item": PersonMark(present=False, by="Sam")}), MS,
            ""),
        id="an untick silences the words",
    ),
    pytest.param(
        Row("order_number", EvidenceFacts(hints=hint("names '#1043'"), marks={"item": PersonMark(present=True, by="Sam")}), PS,
            "marked by Sam"),
        id="a tick confirms a suggestion",
    ),
]  # fmt: skip


@pytest.mark.parametrize("row", ROWS)
def test_an_item_is_present_from_its_fact_and_only_suggested_by_words(row: Row) -> None:
    (item,) = assess_evidence([EvidenceSpec("item", "The item", row.detected_by)], row.facts).items

    assert item.state is row.state
    shown = {PS: item.source, SG: item.suggestion, MS: item.source + item.suggestion}[row.state]
    assert row.says in shown if row.says else shown == ""
    assert item.ask_again is row.ask_again


def test_the_checklist_asks_the_buyer_only_for_what_they_did_not_give() -> None:
    specs = [
        EvidenceSpec("order_number", "Order number", "order_number"),
        EvidenceSpec("damage_photo", "Damage photo", "photo"),
        EvidenceSpec("batch", "Batch clue"),
    ]
    facts = EvidenceFacts(
        hints={"order_number": Hint("names '#1043'"), "damage_photo": Hint("mentions photos", ask_again=True)}
    )

    checklist = assess_evidence(specs, facts)

    assert [i.key for i in checklist.to_ask] == ["damage_photo", "batch"]
    assert [i.key for i in checklist.suggested] == ["order_number", "damage_photo"]
    assert [i.key for i in checklist.missing] == ["order_number", "damage_photo", "batch"]
    assert (checklist.given("order_number"), checklist.has("order_number")) == (True, False)


WORDS = "Order #1043 arrived dented, photos attached."
SIGNALS = (
    Signal("order_number", "1043", 6, 11),
    Signal("photo", "mentioned", 28, 43),
)
SPECS = (
    EvidenceSpec("order_number", "Order number", "order_number"),
    EvidenceSpec("photo", "Damage photo", "photo"),
)


@pytest.mark.parametrize(
    ("signals", "order", "expected"),
    [
        pytest.param(SIGNALS, None, [("order_number", SG), ("photo", SG)], id="words only: both suggested"),
        pytest.param(
            (*SIGNALS, Signal("attachment_image", "dent.jpg", -1, -1, "image/jpeg")),
            None,
            [("order_number", SG), ("photo", PS)],
            id="an image attached: the photo is present",
        ),
        pytest.param(SIGNALS, ORDER, [("order_number", PS), ("photo", SG)], id="the order is stored"),
    ],
)
def test_a_message_checklist_ticks_facts_not_words(
    signals: tuple[Signal, ...], order: OrderFacts | None, expected: list[tuple[str, EvidenceState]]
) -> None:
    checklist = check_evidence(SPECS, signals, WORDS, order)

    assert [(i.key, i.state) for i in checklist.items] == expected


def test_word_hints_quote_the_words() -> None:
    hints = word_hints(SPECS, SIGNALS, WORDS)

    assert hints == {
        "order_number": Hint("the message names '#1043': no stored order of theirs by that number"),
        "photo": Hint("the customer mentions photos ('photos attached'): none found", ask_again=True),
    }

"""The case's evidence as it stands now, from what the desk holds (`case_side`), on SQLite and
PostgreSQL.

Given Ben's damaged-item case, when messages, images, an order and a person's marks come in
(in the order each row lists), then each item is present from its fact, suggested by words, or
missing, and a person's latest mark decides.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

import pytest

from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.domain.messages import AttachmentMeta
from aftersales.domain.orders import LineItem, OrderFacts
from aftersales.services.case_side import Upload, add_upload, case_side
from aftersales.services.desk import EvidenceMark, mark_evidence
from aftersales.services.intake import Incoming, take_in
from aftersales.services.routing import RoutingKit
from support.messages import at, case_of, message

JPEG = b"\xff\xd8\xff\xe0 not really a jpeg"
OPENING = "My tumbler from order #2001 arrived with a big dent."


@dataclass(frozen=True)
class Step:
    kind: str  # "mail" (text, file), "order", "mark" (key, present), "upload" (key)
    text: str = ""
    file: str = ""  # "name:type"
    key: str = ""
    present: bool = True


def mail(text: str, file: str = "") -> Step:
    return Step("mail", text=text, file=file)


ORDER = Step("order")


def mark(key: str, *, present: bool) -> Step:
    return Step("mark", key=key, present=present)


SCENARIOS = [
    pytest.param(
        [],
        {"order_number": "suggested", "damage_photo": "missing", "sku": "missing"},
        id="the order only named",
    ),
    pytest.param(
        [mail("Photos attached.")],
        {"order_number": "suggested", "damage_photo": "suggested", "sku": "missing"},
        id="a follow-up says photos are attached: suggested only",
    ),
    pytest.param(
        [mail("Here is the photo.", "dent.jpg:image/jpeg")],
        {"order_number": "suggested", "damage_photo": "present", "sku": "missing"},
        id="a follow-up carries an image: present",
    ),
    pytest.param(
        [ORDER],
        {"order_number": "present", "damage_photo": "missing", "sku": "present"},
        id="the order is imported later: present from its facts",
    ),
    pytest.param(
        [mail("Here is the photo.", "dent.jpg:image/jpeg"), mark("damage_photo", present=False)],
        {"order_number": "suggested", "damage_photo": "suggested", "sku": "missing"},
        id="a person unticks the image (it shows the receipt)",
    ),
    pytest.param(
        [mark("order_number", present=True)],
        {"order_number": "present"},
        id="a person confirms the typed number",
    ),
    pytest.param(
        [mark("outer_box_photo", present=True), mark("outer_box_photo", present=False)],
        {"outer_box_photo": "missing"},
        id="ticked then unticked",
    ),
    pytest.param(
        [Step("upload", key="outer_box_photo")],
        {"outer_box_photo": "present", "damage_photo": "missing"},
        id="an upload ticks its own item",
    ),
]


@pytest.mark.parametrize(("steps", "expected"), SCENARIOS)
def test_evidence_follows_the_facts_the_desk_holds(
    uow: SqlUnitOfWork, kit: RoutingKit, steps: list[Step], expected: dict[str, str]
) -> None:
    case_id = case_of(take_in(uow, kit, Incoming(message(OPENING, sent=at(24, 10)), "t"), now=at(24, 10)))
    for hour, step in enumerate(steps, start=11):
        apply(uow, kit, case_id, step, hour)

    items = {i.key: i for i in case_side(uow, kit.specs, case_id, shop=None).evidence.items}

    assert {key: items[key].state.value for key in expected} == expected


def apply(uow: SqlUnitOfWork, kit: RoutingKit, case_id: int, step: Step, hour: int) -> None:
    if step.kind == "mail":
        files = []
        if step.file:
            name, kind = step.file.split(":")
            files = [(AttachmentMeta(name, kind, len(JPEG), hashlib.sha256(JPEG).hexdigest()), JPEG)]
        sent = message(step.text, sent=at(24, hour), in_reply_to=f"{case_id}-open@cust.example")
        sent = replace(sent, attachments=tuple(meta for meta, _ in files), case_hint=str(case_id))
        take_in(uow, kit, Incoming(sent, "t", attachments=files), now=at(24, hour))
    elif step.kind == "order":
        with uow() as cases:
            customer = cases.customer_id("ana@example.com", "Ana", at(24, hour))
            order = OrderFacts(number="2001", items=(LineItem("TMB-20-BLK", "Tumbler"),))
            cases.save_order(order, customer, at(24, hour))
    elif step.kind == "mark":
        mark_evidence(
            uow, case_id, EvidenceMark(key=step.key, present=step.present, note="", by="Sam", at=at(24, hour))
        )
    else:
        meta = AttachmentMeta("box.jpg", "image/jpeg", len(JPEG), hashlib.sha256(JPEG).hexdigest())
        upload = Upload(
            case_id=case_id,
            evidence_key=step.key,
            meta=meta,
            content=JPEG,
            note="",
            by="Sam",
            at=at(24, hour),
        )
        add_upload(uow, upload)

"""A case as it stands now, for its page: one read of the case, and one card computed from it
that every panel shows (header, routing card, decision, evidence checklist).

Nothing on the page is a snapshot from intake: the card reads the customer's messages so far
on the case's current route, with the order facts the store holds now and the evidence in hand
now (services/case_side.py: present from facts, suggested by words), at the moment of the view. So a case re-routed by a dispute shows
the chargeback card and lead everywhere, and a promise window that has passed since intake
is missed in the decision and the card alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aftersales.domain.card import DecisionCard
from aftersales.domain.cases import CaseRecord
from aftersales.domain.evidence import EvidenceChecklist
from aftersales.domain.orders import OrderFacts
from aftersales.domain.signals import Attachment
from aftersales.ports import UnitOfWork
from aftersales.services.case_side import case_evidence
from aftersales.services.desk import with_delivery
from aftersales.services.rerouting import customer_first_name
from aftersales.services.routing import MAX_MESSAGE_CHARS, RoutingKit, build_card, read_text, routable_text


@dataclass(frozen=True, slots=True)
class CaseView:
    case: CaseRecord
    messages: list[Mapping[str, Any]]
    timeline: list[Mapping[str, Any]]
    evidence: EvidenceChecklist  # the route's checklist as it stands now
    card: DecisionCard | None  # None: the case has no customer message to read
    # the cases that name this one but were opened by someone not proven to be its customer
    linked_from: tuple[int, ...] = ()

    @property
    def latest_event_id(self) -> int:
        """The newest timeline event the view shows (the page's ``seen_event_id``)."""
        return max((int(e["id"]) for e in self.timeline), default=0)


def case_view(kit: RoutingKit, read: UnitOfWork, case_id: int, *, now: datetime) -> CaseView:
    """The case, its messages and timeline, read in one transaction, and its card as of ``now``."""
    with read() as cases:
        case = cases.case_row(case_id)
        linked_from = tuple(cases.related_cases(case_id))
        messages = with_delivery(cases.messages_of(case_id), cases.mail_deliveries(case_id))
        timeline = cases.timeline(case_id)
        order = cases.order(case.order_number) if case.order_number else None
        evidence = case_evidence(cases, kit.specs, case)
        first = next((m for m in messages if m["direction"] == "inbound"), None)
        name = customer_first_name(cases, case, first) if first is not None else ""
    card = _card(kit, case, messages, order, evidence, now, name)
    return CaseView(case, messages, timeline, evidence, card, linked_from)


def _card(  # noqa: PLR0913  (the case's parts, read once by case_view)
    kit: RoutingKit,
    case: CaseRecord,
    messages: Sequence[Mapping[str, Any]],
    order: OrderFacts | None,
    evidence: EvidenceChecklist,
    now: datetime,
    first_name: str,
) -> DecisionCard | None:
    """The card of the customer's messages so far, on the case's route (the text's own reading
    is kept in the trace), with the case's checklist as it stands."""
    inbound = [m for m in messages if m["direction"] == "inbound"]
    if not inbound:
        return None
    text = conversation_text(inbound)
    images = _attachments(inbound)
    routing, _, reading = read_text(kit, text, images, order=order)
    same = routing.route is case.route
    card = build_card(
        kit,
        text,
        now=now,
        order=order,
        attachments=images,
        route=None if same else case.route,
        sender_is_buyer=case.sender_mark.trusts_order,
        reading=reading if same else None,
        evidence=evidence,
        customer_first_name=first_name,
    )
    if same:
        return card
    why = f"set on the case ({case.route.value}); the text reads as {routing.route.value}"
    return dataclasses.replace(card, routing=dataclasses.replace(card.routing, decided_by=why))


def conversation_text(inbound: Sequence[Mapping[str, Any]]) -> str:
    """What the card reads: the customer's messages in order, the first one whole and the latest
    ones that fit in one message's length (a long thread keeps its start and its end)."""
    parts = [routable_text(m["subject"], m["body"]) for m in inbound]
    kept = [parts[0]]
    room = MAX_MESSAGE_CHARS - len(parts[0])
    latest: list[str] = []
    for part in reversed(parts[1:]):
        if len(part) + 2 > room:
            break
        latest.insert(0, part)
        room -= len(part) + 2
    return "\n\n".join(kept + latest)


def _attachments(messages: Sequence[Mapping[str, Any]]) -> list[Attachment]:
    return [
        Attachment(a.get("filename", ""), a.get("content_type", ""), int(a.get("size", 0) or 0))
        for m in messages
        for a in m.get("attachments") or ()
    ]

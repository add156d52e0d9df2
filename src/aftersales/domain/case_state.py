"""A case's evidence checklist as it stands now: one reading of the case's facts that the case
page (its evidence list, routing card and decision) and the dispute packet (its evidence table)
all show, so no panel says "present" while another says "missing".

An item is in hand when a person (or intake) marked it so, or when its fact is known now: the
order linked, an image the customer sent, the order's scans, refunds and policy version, a
message from the customer, a decision recorded. Facts are read on every view, never copied from the case's intake:
order facts and messages that arrive later count at once. A word in a message (a tracking
number typed, "photos attached") is not a fact; it is ticked only when intake or a person did.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aftersales.domain.evidence import EvidenceChecklist, EvidenceItem
from aftersales.domain.orders import OrderFacts
from aftersales.domain.packet import EvidenceRecord, PacketData, PacketMessage
from aftersales.domain.routes import EvidenceSpec, Route, RouteSpec
from aftersales.domain.trust import SenderMark


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseFacts:
    """What the desk knows about a case now, as its evidence reads it."""

    order_number: str = ""  # the order linked to the case ("" none)
    order: OrderFacts | None = None  # that order's stored facts, when the store holds them
    buyer_messages: int = 0  # the customer's own messages (a payment dispute's notice apart)
    images: tuple[str, ...] = ()  # file names of the images the customer sent
    policy_version: str = ""  # the store policy's version in force for the order
    decision: str = ""  # the decision a person recorded on the case ("" none yet)


def policy_in_force(order: OrderFacts | None, versions: Sequence[tuple[datetime, str]]) -> str:
    """The version the order names, else the one in force when it was placed (as the dispute
    packet reads it); ``versions``: (effective at, label), oldest first."""
    if order is None:
        return ""
    if order.policy_version or order.placed_at is None:
        return order.policy_version
    placed = order.placed_at
    in_force = [label for effective, label in versions if effective <= placed]
    return in_force[-1] if in_force else ""


def fact_source(fact: str | None, facts: CaseFacts) -> str:
    """What shows the fact now ("order #1043: last scan", "1 image: box.jpg"), "" when unknown
    (or when only a person can tell: ``fact`` None, or a word that is not a fact)."""
    if fact is None:
        return ""
    reader = _FACTS.get(fact) or (_order_fact if fact.startswith("order.") else None)
    return reader(fact, facts) if reader is not None else ""


def _order_number(fact: str, facts: CaseFacts) -> str:
    return f"order #{facts.order_number.lstrip('#')} linked" if facts.order_number else ""


def _photo(fact: str, facts: CaseFacts) -> str:
    count = len(facts.images)
    return f"{count} image{'s' if count != 1 else ''}: {', '.join(facts.images)}" if count else ""


def _sku(fact: str, facts: CaseFacts) -> str:
    order = facts.order
    skus = [i.sku for i in order.items if i.sku] if order is not None else []
    return f"order #{order.number}: {', '.join(skus)}" if order is not None and skus else ""


def _tracking(fact: str, facts: CaseFacts) -> str:
    order = facts.order
    if order is None or not order.tracking_numbers:
        return ""
    return f"order #{order.number}: {order.carrier or 'tracking'} {', '.join(order.tracking_numbers)}"


def _conversation(fact: str, facts: CaseFacts) -> str:
    count = facts.buyer_messages
    return f"{count} message{'s' if count != 1 else ''} from the customer" if count else ""


def _decision(fact: str, facts: CaseFacts) -> str:
    """A refund or reship on record: the case's recorded decision, else the order's refunds (as
    the dispute packet's "refund or reship decision" reads it)."""
    if facts.decision:
        return f"decision: {facts.decision}"
    order = facts.order
    if order is not None and order.refunds:
        return f"order #{order.number}: refund of {order.refunded} recorded in the shop"
    return ""


def _policy(fact: str, facts: CaseFacts) -> str:
    return f"policy version {facts.policy_version}" if facts.policy_version else ""


def _order_fact(fact: str, facts: CaseFacts) -> str:
    order = facts.order
    if order is None:
        return ""
    known = {
        "order.last_scan": order.last_scan_at is not None,
        "order.promise_window": order.promise_window_end is not None or order.fulfilled_at is not None,
        "order.items": bool(order.items),
        "order.refunds": True,  # an order's facts always say what was refunded, even nothing
        "order.fulfilled": order.fulfilled_at is not None,
        "order.fulfillment_known": True,
        "order.delivered": order.delivered_at is not None,
    }
    return (
        f"order #{order.number}: {fact.removeprefix('order.').replace('_', ' ')}" if known.get(fact) else ""
    )


_FACTS: Mapping[str, Callable[[str, CaseFacts], str]] = {
    "order_number": _order_number,
    "photo": _photo,
    "sku": _sku,
    "tracking_number": _tracking,
    "case.conversation": _conversation,
    "case.decision": _decision,
    "policy.version": _policy,
}


def evidence_now(
    wanted: Sequence[EvidenceSpec], stored: Sequence[Mapping[str, Any]], facts: CaseFacts
) -> EvidenceChecklist:
    """The route's checklist (``wanted``) over what is stored (``evidence_items`` rows: key,
    label, present, source): an item is present when it was marked so or its fact is known now.
    Items of an earlier route stay listed once in hand; those still missing are left out."""
    by_key = {str(row["key"]): row for row in stored}
    items = []
    for spec in wanted:
        row = by_key.get(spec.key)
        if row is not None and row["present"]:
            items.append(EvidenceItem(spec.key, spec.label, present=True, source=str(row["source"] or "")))
            continue
        source = fact_source(spec.detected_by, facts)
        items.append(EvidenceItem(spec.key, spec.label, present=bool(source), source=source))
    keys = {spec.key for spec in wanted}
    kept = [
        EvidenceItem(str(row["key"]), str(row["label"]), present=True, source=str(row["source"] or ""))
        for row in stored
        if row["present"] and row["key"] not in keys
    ]
    return EvidenceChecklist((*items, *kept))


def packet_evidence(
    data: PacketData, specs: Mapping[Route, RouteSpec], order_number: str
) -> tuple[EvidenceRecord, ...]:
    """The packet's evidence table with each case's checklist as the case page shows it
    (``order_number``: the order the packet's cases share, "" none)."""
    routes = {r.value: r for r in Route}
    records: list[EvidenceRecord] = []
    for case in data.cases:
        stored = [e for e in data.evidence if e.case_id == case.id]
        rows = [{"key": e.key, "label": e.label, "present": e.present, "source": e.source} for e in stored]
        spec = specs.get(routes[case.route]) if case.route in routes else None
        facts = _packet_facts(data, case.id, order_number if order_trusted(case.sender_mark) else "")
        marks = {e.key: e for e in stored}
        for item in evidence_now(spec.evidence if spec else (), rows, facts).items:
            mark = marks.get(item.key)
            person = mark is not None and mark.present
            records.append(
                EvidenceRecord(
                    case_id=case.id,
                    key=item.key,
                    label=item.label,
                    present=item.present,
                    source=item.source,
                    marked_by=mark.marked_by if person and mark else "",
                    marked_at=mark.marked_at if person and mark else None,
                )
            )
    return tuple(records)


def _packet_facts(data: PacketData, case_id: int, order_number: str) -> CaseFacts:
    """``order_number`` "": the case's sender is not the order's buyer (or it names none)."""
    own = [m for m in data.messages if m.case_id == case_id]
    order = data.order if order_number else None
    return CaseFacts(
        order_number=order_number,
        order=order,
        buyer_messages=sum(1 for m in own if is_buyer_message(m)),
        images=tuple(a.filename for m in own if is_buyer_message(m) for a in m.attachments if a.is_image),
        policy_version=data.policy.label if data.policy is not None and order is not None else "",
        decision=next(
            (
                str(e.data.get("decision", ""))
                for e in reversed(data.events)
                if e.case_id == case_id and e.kind == "decision_recorded"
            ),
            "",
        ),
    )


def order_trusted(sender_mark: str) -> bool:
    """Whether the order's facts count as the case's evidence: not when someone other than the
    order's buyer wrote (a stranger naming an order proves nothing about it)."""
    return SenderMark(sender_mark or "").trusts_order


def is_buyer_message(message: PacketMessage) -> bool:
    return message.direction == "inbound" and not message.is_notice

"""The dispute packet's evidence table: each case's checklist read exactly as its case page
reads it (``evidence.case_checklist``), from the facts the packet holds, so the packet never
says "present" where the page says "missing".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aftersales.domain.evidence import EvidenceFacts, case_checklist, person_marks
from aftersales.domain.packet import EvidenceRecord, PacketCase, PacketData
from aftersales.domain.routes import Route, RouteSpec
from aftersales.domain.trust import SenderMark


def packet_evidence(
    data: PacketData, specs: Mapping[Route, RouteSpec], order_number: str
) -> tuple[EvidenceRecord, ...]:
    """Each case's evidence items as they stand (``order_number``: the order the packet's
    cases share, "" none)."""
    records: list[EvidenceRecord] = []
    for case in data.cases:
        stored = [e for e in data.evidence if e.case_id == case.id]
        rows: list[Mapping[str, Any]] = [
            {
                "key": e.key,
                "label": e.label,
                "present": e.present,
                "source": e.source,
                "marked_by": e.marked_by,
            }
            for e in stored
        ]
        marks = {e.key: e for e in stored}
        for item in case_checklist(specs, case.route, rows, _case_facts(data, case, order_number)).items:
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


def _case_facts(data: PacketData, case: PacketCase, order_number: str) -> EvidenceFacts:
    """What the packet holds about one case, as its case page reads it: the order and its
    scans only when the order's buyer wrote (a stranger naming an order proves nothing)."""
    trusted = bool(order_number) and SenderMark(case.sender_mark or "").trusts_order
    order = data.order if trusted else None
    buyer = [
        m for m in data.messages if m.case_id == case.id and m.direction == "inbound" and not m.is_notice
    ]
    events = [e for e in data.events if e.case_id == case.id]
    decided = next((e.data for e in reversed(events) if e.kind == "decision_recorded"), {})
    return EvidenceFacts(
        order=order,
        scans=len(data.tracking) if order is not None else 0,
        images=tuple(a.filename for m in buyer for a in m.attachments if a.is_image),
        recorded_amount=str(decided.get("amount") or ""),
        recorded_decision=str(decided.get("decision") or ""),
        buyer_messages=len(buyer),
        marks=person_marks((e.kind, e.actor, e.data) for e in events),
    )

"""What a case page shows beside the conversation, read from the case's current state every
time: its evidence checklist (from facts: see ``aftersales.domain.evidence``), its files, and
the order with the customer's other cases. Also serving one file, and adding an uploaded one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from aftersales.domain.attachments import CaseFile
from aftersales.domain.cases import CaseNotFound, CaseRecord
from aftersales.domain.evidence import (
    EvidenceChecklist,
    EvidenceFacts,
    EvidenceItem,
    case_checklist,
    person_marks,
)
from aftersales.domain.messages import AttachmentMeta
from aftersales.domain.order_side import OrderSide, OtherCase, order_side, order_side_to_dict
from aftersales.domain.packet import is_dispute_notice
from aftersales.domain.routes import Route, RouteSpec
from aftersales.domain.trust import SenderMark
from aftersales.ports import CaseRepository, CaseStore, CaseTimeline, EvidenceStore, OrderStore, UnitOfWork
from aftersales.services.desk import EvidenceMark, record_mark

OTHER_CASES = 20  # the customer's newest other cases listed beside a case


class _CasesAndOrders(CaseStore, OrderStore, Protocol):
    """What the order side reads: the order, its scans and the customer's other cases."""


class _EvidenceAndTimeline(EvidenceStore, CaseTimeline, Protocol):
    """What the checklist reads: the evidence rows and the messages and events behind them."""


class FileNotFound(CaseNotFound):
    """No file by that id, or its content was not kept."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseSide:
    evidence: EvidenceChecklist
    files: tuple[CaseFile, ...]
    order: OrderSide


def case_side(
    uow: UnitOfWork, specs: Mapping[Route, RouteSpec], case_id: int, *, shop: str | None
) -> CaseSide:
    """The case's evidence, files and order, read in one transaction."""
    with uow() as cases:
        row = cases.case_row(case_id)
        files = tuple(cases.files_of(case_id))
        side = _order_side(cases, row, shop)
        evidence = _evidence(cases, specs, row, files, side)
    return CaseSide(evidence=evidence, files=files, order=side)


def case_evidence(
    cases: CaseRepository, specs: Mapping[Route, RouteSpec], row: CaseRecord
) -> EvidenceChecklist:
    """The case's checklist as it stands, inside the caller's transaction: what the case page's
    every panel (card, decision, checklist) reads (services/case_view.py)."""
    files = tuple(cases.files_of(row.id))
    return _evidence(cases, specs, row, files, _order_side(cases, row, None))


def _order_side(cases: _CasesAndOrders, row: CaseRecord, shop: str | None) -> OrderSide:
    number = row.order_number
    order = cases.order(number) if number else None
    scans = tuple(cases.tracking_events(number)) if order is not None else ()
    others: tuple[OtherCase, ...] = ()
    if row.customer_id is not None:
        others = tuple(cases.customer_cases(row.customer_id, except_case=row.id, limit=OTHER_CASES))
    return order_side(number, order, scans, others, shop)


def _evidence(
    cases: _EvidenceAndTimeline,
    specs: Mapping[Route, RouteSpec],
    row: CaseRecord,
    files: Sequence[CaseFile],
    side: OrderSide,
) -> EvidenceChecklist:
    stored = cases.evidence_of(row.id)
    buyer_wrote = row.sender_mark is SenderMark.NONE
    uploads: dict[str, tuple[str, ...]] = {}
    for file in files:
        if file.evidence_key:
            uploads[file.evidence_key] = (*uploads.get(file.evidence_key, ()), file.filename)
    facts = EvidenceFacts(
        # a sender who is not the order's buyer proves nothing with the buyer's order
        order=side.order if buyer_wrote else None,
        scans=side.scan_count if buyer_wrote else 0,
        images=tuple(f.filename for f in files if f.from_customer and f.looks_like_image),
        uploads=uploads,
        recorded_amount=str(row.decision.get("recorded_amount") or ""),
        recorded_decision=str(row.decision.get("recorded") or ""),
        buyer_messages=_customer_messages(cases.messages_of(row.id)),
        marks=person_marks((e["kind"], e["actor"], e["data"]) for e in cases.timeline(row.id)),
    )
    return case_checklist(specs, row.route, stored, facts)


def _customer_messages(messages: Sequence[Mapping[str, Any]]) -> int:
    """The customer's own messages (a shop's dispute notice is not the conversation)."""
    return sum(1 for m in messages if m["direction"] == "inbound" and not is_dispute_notice(m["dedupe_key"]))


# ---------------------------------------------------------------- files


@dataclass(frozen=True, slots=True, kw_only=True)
class Upload:
    case_id: int
    evidence_key: str
    meta: AttachmentMeta
    content: bytes
    note: str
    by: str
    at: datetime


def add_upload(uow: UnitOfWork, upload: Upload) -> int:
    """Keep a file a person uploaded for an evidence item, list it on the case and tick the
    item (the file is the fact), in one transaction; returns the file's id."""
    said = f"file {upload.meta.filename}"
    mark = EvidenceMark(
        key=upload.evidence_key,
        present=True,
        note=f"{upload.note} ({said})" if upload.note else said,
        by=upload.by,
        at=upload.at,
    )
    with uow() as cases:
        cases.case_row(upload.case_id)  # raises CaseNotFound
        record_mark(cases, upload.case_id, mark)  # raises EvidenceNotFound: nothing is kept
        cases.save_attachment(upload.meta, upload.content)
        return cases.add_upload(upload.case_id, upload.evidence_key, upload.meta, upload.by, upload.at)


def case_file(uow: UnitOfWork, file_id: int) -> tuple[CaseFile, bytes]:
    """A file and its bytes; ``FileNotFound`` when there is no such file or its content was
    not kept (over the size cap)."""
    with uow() as cases:
        file = cases.case_file(file_id)
        content = cases.file_content(file) if file is not None else None
    if file is None:
        raise FileNotFound(f"no file {file_id}")
    if content is None:
        raise FileNotFound(f"the content of file {file_id} ({file.filename}) was not kept")
    return file, content


# ---------------------------------------------------------------- as JSON (the API's case)


def side_to_dict(side: CaseSide, stored: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The case's ``evidence`` (each stored item as it stands now), ``files`` and ``order``."""
    rows = {row["key"]: row for row in stored}
    evidence = [
        evidence_to_dict(item)
        | {
            "marked_by": rows.get(item.key, {}).get("marked_by", ""),
            "marked_at": rows.get(item.key, {}).get("marked_at"),
        }
        for item in side.evidence.items
    ]
    return {
        "evidence": evidence,
        "files": [file_to_dict(f) for f in side.files],
        "order": order_side_to_dict(side.order),
    }


def evidence_to_dict(item: EvidenceItem) -> dict[str, Any]:
    return {
        "key": item.key,
        "label": item.label,
        "present": item.present,
        "state": item.state.value,
        "source": item.source,
        "suggestion": item.suggestion,
    }


def evidence_now(uow: UnitOfWork, specs: Mapping[Route, RouteSpec], case_id: int, key: str) -> EvidenceItem:
    """One item of the case's checklist as it stands now (after a tick, say)."""
    items = case_side(uow, specs, case_id, shop=None).evidence.items
    return next(item for item in items if item.key == key)


def file_to_dict(file: CaseFile) -> dict[str, Any]:
    return {
        "id": file.id,
        "url": f"/attachments/{file.id}",
        "filename": file.filename,
        "content_type": file.content_type,
        "size": file.size,
        "sha256": file.sha256,
        "message_id": file.message_id,
        "evidence_key": file.evidence_key,
        "from_customer": file.from_customer,
        "added_by": file.added_by,
        "added_at": file.added_at,
    }

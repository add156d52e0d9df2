"""Reading and working a case: its record, notes, status moves (replies are in replies.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aftersales.domain.cases import CaseStatus, Event, check_transition
from aftersales.ports import UnitOfWork
from aftersales.services.clocks import refresh_clocks
from aftersales.services.routing import RoutingKit


def case_record(uow: UnitOfWork, case_id: int) -> dict[str, Any]:
    """Everything the next teammate needs: the case, its messages, evidence and timeline."""
    with uow() as cases:
        return {
            "case": dict(cases.case_row(case_id)),
            "messages": cases.messages_of(case_id),
            "evidence": cases.evidence_of(case_id),
            "timeline": cases.timeline(case_id),
        }


def add_note(uow: UnitOfWork, case_id: int, text: str, *, by: str, at: datetime) -> None:
    with uow() as cases:
        cases.case_row(case_id)  # raises CaseNotFound
        cases.add_event(case_id, Event("note_added", at, by, {"text": text}))
        cases.update_case(case_id, {"updated_at": at})


def change_status(
    uow: UnitOfWork, kit: RoutingKit, case_id: int, status: CaseStatus, *, by: str, at: datetime
) -> None:
    with uow() as cases:
        row = cases.case_row(case_id)
        current = CaseStatus(row["status"])
        check_transition(current, status)
        fields: dict[str, Any] = {"status": status.value, "updated_at": at}
        if status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
            fields["resolved_at"] = at
            cases.release_automation(case_id, at)
        cases.update_case(case_id, fields)
        cases.add_event(case_id, Event("status_changed", at, by, {"from": current.value, "to": status.value}))
        refresh_clocks(cases, kit, case_id, at)

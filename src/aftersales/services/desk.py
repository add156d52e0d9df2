"""Reading and working a case: its record, notes, status moves (replies are in replies.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from aftersales.domain.cases import (
    OPEN_STATUSES,
    CaseRecord,
    CaseStatus,
    Event,
    check_transition,
    record_to_dict,
)
from aftersales.domain.errors import AftersalesError, InputError
from aftersales.domain.evidence import EvidenceItem
from aftersales.domain.messages import Direction
from aftersales.domain.outgoing import NOT_MAILED, Delivery
from aftersales.domain.trust import SenderMark
from aftersales.ports import AutomationHolds, CaseTimeline, EvidenceStore, UnitOfWork
from aftersales.services.clocks import refresh_clocks
from aftersales.services.collisions import lock_unchanged
from aftersales.services.routing import RoutingKit


class _EvidenceAndTimeline(CaseTimeline, EvidenceStore, Protocol):
    """What marking evidence touches: the checklist and the event that says who marked it."""


def case_record(uow: UnitOfWork, case_id: int) -> dict[str, Any]:
    """Everything the next teammate needs: the case, its messages, evidence and timeline."""
    with uow() as cases:
        # with the cases that name this one but were opened by someone not proven to be its
        # customer (a form post, a stranger's mail): linked, never merged
        case = record_to_dict(cases.case_row(case_id)) | {"linked_from": cases.related_cases(case_id)}
        case["assignee"] = (
            {"email": case["assignee_email"], "name": case["assignee_name"]}
            if case.get("assignee_email")
            else None
        )
        return {
            "case": case,
            "messages": with_delivery(cases.messages_of(case_id), cases.mail_deliveries(case_id)),
            "evidence": cases.evidence_of(case_id),
            "timeline": cases.timeline(case_id),
        }


def with_delivery(
    messages: list[Mapping[str, Any]], deliveries: Mapping[str, Delivery]
) -> list[Mapping[str, Any]]:
    """Each message with ``delivery``: for a reply, what became of its mail (queued, sent,
    failed with the reason, or not mailed); None for a customer's message."""
    return [
        {
            **message,
            "delivery": deliveries.get(message["message_id"], NOT_MAILED).as_dict()
            if message["direction"] == Direction.OUTBOUND.value
            else None,
        }
        for message in messages
    ]


def add_note(uow: UnitOfWork, case_id: int, text: str, *, by: str, at: datetime) -> None:
    with uow() as cases:
        cases.case_row(case_id)  # raises CaseNotFound
        cases.add_event(case_id, Event("note_added", at, by, {"text": text}))
        cases.update_case(case_id, {"updated_at": at})


def change_status(  # noqa: PLR0913  (keyword-only after the status)
    uow: UnitOfWork,
    kit: RoutingKit,
    case_id: int,
    status: CaseStatus,
    *,
    by: str,
    at: datetime,
    seen_event_id: int | None = None,
) -> None:
    """Move the case; ``seen_event_id``: refused (CaseChanged) when the case changed after
    the event the person saw last (services/collisions.py)."""
    with uow() as cases:
        lock_unchanged(cases, case_id, seen_event_id)
        row = cases.case_row(case_id)
        current = row.status
        check_transition(current, status)
        fields: dict[str, Any] = {"status": status.value, "updated_at": at}
        if status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
            fields["resolved_at"] = at
            # lifts this case's hold only: the buyer's other held cases keep them on hold
            cases.release_automation(case_id, at)
        elif current not in OPEN_STATUSES:
            fields["resolved_at"] = None
            _hold_again(cases, row, at)
        cases.update_case(case_id, fields)
        cases.add_event(case_id, Event("status_changed", at, by, {"from": current.value, "to": status.value}))
        refresh_clocks(cases, kit, case_id, at)


def _hold_again(cases: AutomationHolds, row: CaseRecord, at: datetime) -> None:
    """A reopened case whose decision paused automation holds its buyer again, as intake did."""
    decision = row.decision
    proven = row.sender_mark == SenderMark.NONE  # as intake: only a proven buyer's words hold
    if decision.get("pause_automation") and row.customer_id is not None and proven:
        reason = f"{row.route.value}: {decision.get('segment', '')}"
        cases.hold_automation(row.customer_id, row.id, reason, at)


def assign_lead(uow: UnitOfWork, kit: RoutingKit, case_id: int, who: str, *, by: str, at: datetime) -> str:
    """Give the case to a lead, its escalation owner: a role from the policy (its person is
    looked up) or a name. The person working it is its assignee (services/assignment.py)."""
    if "@" in who or not who.strip():
        raise InputError(
            f"{who!r} is not a lead: give a role (operations, founder, ...) or a person's name; "
            "to give the case to a user of the desk, assign it by their e-mail"
        )
    lead = kit.policy.lead_for(who)
    role, name = (who, lead.name) if lead else ("", who)
    with uow() as cases:
        row = cases.case_row(case_id)
        fields: dict[str, Any] = {"lead_name": name, "updated_at": at}
        if role:
            fields["lead_role"] = role
        cases.update_case(case_id, fields)
        cases.add_event(
            case_id, Event("lead_assigned", at, by, {"from": row.lead_name, "to": name, "role": role})
        )
    return name


def escalate(uow: UnitOfWork, kit: RoutingKit, case_id: int, reason: str, *, by: str, at: datetime) -> None:
    """Hand the case to its route's lead now; meets a running escalation clock."""
    with uow() as cases:
        row = cases.case_row(case_id)
        cases.add_event(case_id, Event("escalated", at, by, {"reason": reason, "lead": row.lead_name}))
        cases.update_case(case_id, {"updated_at": at})
        refresh_clocks(cases, kit, case_id, at)


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceMark:
    key: str
    present: bool
    note: str
    by: str
    at: datetime


def mark_evidence(uow: UnitOfWork, case_id: int, mark: EvidenceMark) -> None:
    with uow() as cases:
        record_mark(cases, case_id, mark)


def record_mark(cases: _EvidenceAndTimeline, case_id: int, mark: EvidenceMark) -> None:
    """A person's tick or untick, inside the caller's unit of work: the checklist row and an
    ``evidence_marked`` event (the latest one decides: ``services/case_side.py``)."""
    items = {e["key"]: e for e in cases.evidence_of(case_id)}
    if mark.key not in items:
        known = ", ".join(items) or "none"
        raise EvidenceNotFound(f"case {case_id} has no evidence item {mark.key!r}; its items: {known}")
    source = mark.note or (f"marked by {mark.by}" if mark.present else "")
    cases.set_evidence(
        case_id,
        [EvidenceItem(mark.key, items[mark.key]["label"], present=mark.present, source=source)],
        mark.by,
        mark.at,
    )
    data = {"key": mark.key, "present": mark.present, "note": mark.note}
    cases.add_event(case_id, Event("evidence_marked", mark.at, mark.by, data))


def record_decision(
    uow: UnitOfWork, case_id: int, decision: str, *, by: str, at: datetime, amount: Decimal | None = None
) -> None:
    """A person's decision (refund, reship, partial refund, reject ...), kept on the case and
    the timeline; ``amount`` is the money it gives back, if any."""
    money = str(amount) if amount is not None else None
    with uow() as cases:
        row = cases.case_row(case_id)
        recorded = dict(row.decision) | {
            "recorded": decision,
            "recorded_amount": money,
            "recorded_by": by,
            "recorded_at": at.isoformat(),
        }
        cases.update_case(case_id, {"decision": recorded, "updated_at": at})
        cases.add_event(case_id, Event("decision_recorded", at, by, {"decision": decision, "amount": money}))


class EvidenceNotFound(AftersalesError):
    """The case has no evidence item with that key."""

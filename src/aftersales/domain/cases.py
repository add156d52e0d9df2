"""Cases: a customer's problem with its route, status, lead, clocks and decision."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from aftersales.domain.errors import AftersalesError
from aftersales.domain.routes import Route


class CaseStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    WAITING_ON_CUSTOMER = "waiting_on_customer"  # pauses the clocks
    RESOLVED = "resolved"
    CLOSED = "closed"


OPEN_STATUSES = frozenset({CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.WAITING_ON_CUSTOMER})

# Which status moves a person may make; a new customer message reopens any case (see intake).
ALLOWED: Mapping[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.NEW: frozenset(
        {CaseStatus.OPEN, CaseStatus.WAITING_ON_CUSTOMER, CaseStatus.RESOLVED, CaseStatus.CLOSED}
    ),
    CaseStatus.OPEN: frozenset({CaseStatus.WAITING_ON_CUSTOMER, CaseStatus.RESOLVED, CaseStatus.CLOSED}),
    CaseStatus.WAITING_ON_CUSTOMER: frozenset({CaseStatus.OPEN, CaseStatus.RESOLVED, CaseStatus.CLOSED}),
    CaseStatus.RESOLVED: frozenset({CaseStatus.OPEN, CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset({CaseStatus.OPEN}),
}


class InvalidTransition(AftersalesError):
    """A status move the desk does not allow; the message names both statuses."""


class CaseNotFound(AftersalesError):
    """No case with that id."""


def check_transition(current: CaseStatus, target: CaseStatus) -> None:
    if target not in ALLOWED[current]:
        allowed = ", ".join(sorted(s.value for s in ALLOWED[current])) or "none"
        raise InvalidTransition(f"a {current} case cannot move to {target}; allowed: {allowed}")


@dataclass(frozen=True, slots=True)
class Event:
    """One line of a case's append-only timeline."""

    kind: str  # case_opened, message_received, routed, reply_sent, note_added, status_changed,
    # lead_assigned, escalated, evidence_marked, decision_recorded, clock_at_risk, clock_breached
    at: datetime
    actor: str  # "customer", "system", or a person's name
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseSummary:
    """A row of the queue: enough to sort by SLA risk and to list."""

    id: int
    route: Route
    status: CaseStatus
    lead_role: str
    lead_name: str
    customer: str
    order_number: str
    subject: str
    opened_at: datetime
    next_due_at: datetime | None
    risk: int  # 2 breached, 1 at risk, 0 on track
    clocks: tuple[Mapping[str, Any], ...]
    route_check: str = ""  # why a person should check the route; "" when it needs no check


RISK_LABELS = {2: "breached", 1: "at risk", 0: "on track"}


def summary_to_dict(row: CaseSummary) -> dict[str, Any]:
    """A queue row as JSON-ready data: the shape of `aftersales cases --json` and the API."""
    return {
        "id": row.id,
        "route": row.route.value,
        "status": row.status.value,
        "lead": {"role": row.lead_role, "name": row.lead_name},
        "customer": row.customer,
        "order": row.order_number,
        "subject": row.subject,
        "opened_at": row.opened_at.isoformat(),
        "next_due_at": row.next_due_at.isoformat() if row.next_due_at else None,
        "risk": RISK_LABELS[row.risk],
        "clocks": list(row.clocks),
        "route_check": row.route_check,
    }

"""Cases: a customer's problem with its route, status, lead, clocks and decision."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from aftersales.domain.errors import AftersalesError
from aftersales.domain.routes import Route
from aftersales.domain.trust import SenderMark


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
    # lead_assigned, assigned, escalated, evidence_marked, decision_recorded, clock_at_risk, clock_breached
    at: datetime
    actor: str  # "customer", "system", or a person's name
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseRecord:
    """One case as stored: what the use cases read before they change it."""

    id: int
    customer_id: int | None
    order_number: str
    subject: str
    route: Route
    secondary_routes: list[str]
    confidence: float
    status: CaseStatus
    lead_role: str  # the route's escalation owner, a role of the policy
    lead_name: str
    decision: dict[str, Any]  # the router's decision, and a person's once recorded (JSON)
    write_back: list[Any]  # what to write back to the shop (JSON)
    clocks: list[dict[str, Any]]  # the stored clocks (JSON), as services/clocks.py keeps them
    next_due_at: datetime | None
    risk: int  # 2 breached, 1 at risk, 0 on track (of the clocks we owe: see queue.py)
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    # the weekly review's dimensions: the SKU and variant, the order's carrier, the segment
    sku: str
    variant: str
    carrier: str
    reason: str
    sender_mark: SenderMark
    related_case_id: int | None  # the case of another customer this one names
    route_check: str  # why a person should check the route; "" when it needs no check
    language: str
    # routed by its words alone where the semantic reader would have read it: read again later
    meaning_due: bool
    assignee_user_id: int | None
    last_message_preview: str
    last_message_direction: str
    last_message_at: datetime | None
    # joined in by ``case_row`` (None from ``locked_case_row``, which reads the case alone)
    customer: str | None = None  # the customer's e-mail address
    assignee_email: str | None = None
    assignee_name: str | None = None

    def queue_state(self) -> dict[str, Any]:
        """What the queue sorts this case by, as ``update_case``'s ``current`` takes it."""
        return {
            "status": self.status.value,
            "risk": self.risk,
            "next_due_at": self.next_due_at,
            "route": self.route.value,
        }


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
    risk: int  # 2 breached, 1 at risk, 0 on track (of the clocks we owe: see queue.py)
    clocks: tuple[Mapping[str, Any], ...]
    route_check: str = ""  # why a person should check the route; "" when it needs no check
    assignee_email: str = ""  # the desk user it is assigned to; "" nobody
    assignee_name: str = ""
    preview: str = ""  # the last message on one line
    last_direction: str = ""  # of the last message: inbound, outbound; "" none

    @property
    def sla(self) -> SlaState:
        return sla_state(self.status, self.risk)


RISK_LABELS = {2: "breached", 1: "at risk", 0: "on track"}


class SlaState(StrEnum):
    """What the queue's badge says."""

    BREACHED = "breached"
    AT_RISK = "at_risk"
    ON_TRACK = "on_track"
    WAITING = "waiting"  # on the customer, with nothing of ours running late
    CLOSED = "closed"  # resolved or closed


SLA_LABELS = {
    SlaState.BREACHED: "breached",
    SlaState.AT_RISK: "at risk",
    SlaState.ON_TRACK: "on track",
    SlaState.WAITING: "waiting",
    SlaState.CLOSED: "closed",
}


def sla_state(status: CaseStatus, risk: int) -> SlaState:
    if status not in OPEN_STATUSES:
        return SlaState.CLOSED
    if risk >= 2:
        return SlaState.BREACHED
    if risk == 1:
        return SlaState.AT_RISK
    return SlaState.WAITING if status is CaseStatus.WAITING_ON_CUSTOMER else SlaState.ON_TRACK


def record_to_dict(record: CaseRecord) -> dict[str, Any]:
    """The case as plain data, its columns by name: what `aftersales cases show` and the API's
    ``case`` print."""
    values = asdict(record)
    return values | {
        "route": record.route.value,
        "status": record.status.value,
        "sender_mark": record.sender_mark.value,
        "is_open": record.status in OPEN_STATUSES,
    }


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
        "sla": row.sla.value,
        "clocks": list(row.clocks),
        "route_check": row.route_check,
        "assignee": {"email": row.assignee_email, "name": row.assignee_name} if row.assignee_email else None,
        "preview": row.preview,
        "last_message_direction": row.last_direction or None,
    }

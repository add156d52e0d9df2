"""A case opened the way the event feed's consumers see one: the case row and its
``case_opened`` event (and, when asked, its ``routed`` one)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime

from aftersales.domain.cases import CaseStatus, Event
from aftersales.domain.routes import Route
from aftersales.ports import CaseRepository


def open_told_case(  # noqa: PLR0913  (keyword-only after the two it always needs)
    uow: Callable[[], AbstractContextManager[CaseRepository]],
    email: str,
    *,
    at: datetime,
    route: Route = Route.CHARGEBACK_RISK,
    lead_role: str = "finance",
    channel: str = "email",
    routed: bool = False,
) -> int:
    with uow() as cases:
        fields = {
            "customer_id": cases.customer_id(email, "", at),
            "order_number": "1043",
            "route": route.value,
            "status": CaseStatus.NEW.value,
            "lead_role": lead_role,
            "opened_at": at,
            "updated_at": at,
        }
        case_id = cases.open_case(fields)
        cases.add_event(case_id, Event("case_opened", at, "customer", {"channel": channel}))
        if routed:
            cases.add_event(case_id, Event("routed", at, "router", {"route": route.value, "confidence": 0.9}))
        return case_id

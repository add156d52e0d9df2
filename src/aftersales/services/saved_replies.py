"""The store's saved replies for one case, filled in with what the case knows.

Offered: those for the case's route (and "any") in the customer's language, then in the
store's. Filled: the customer's first name, the order number, the last carrier scan (only
for a sender proven to be the order's buyer, as the first-reply draft), the next update the
case has promised and its lead.
"""

from __future__ import annotations

from datetime import datetime

from aftersales.domain.cases import CaseRecord
from aftersales.domain.messages import Direction
from aftersales.domain.orders import OrderFacts
from aftersales.domain.saved_replies import FilledReply, ReplyFacts, fill, offered
from aftersales.domain.sla.clocks import ClockName, ClockState
from aftersales.ports import UnitOfWork
from aftersales.services.rerouting import customer_first_name
from aftersales.services.routing import RoutingKit, sla_due

_RUNNING = (ClockState.ON_TRACK.value, ClockState.AT_RISK.value, ClockState.BREACHED.value)


def saved_replies_for(uow: UnitOfWork, kit: RoutingKit, case_id: int, *, now: datetime) -> list[FilledReply]:
    """The saved replies the composer offers on the case, filled in as of ``now``."""
    with uow() as cases:
        row = cases.case_row(case_id)  # raises CaseNotFound
        first = next(
            (m for m in cases.messages_of(case_id) if m["direction"] == Direction.INBOUND.value), None
        )
        trusted = row.sender_mark.trusts_order
        order = cases.order(row.order_number) if row.order_number and trusted else None
        name = customer_first_name(cases, row, first) if first is not None else ""
    route = row.route
    facts = _facts(kit, row, order, name, now)
    languages = list(dict.fromkeys(code for code in (row.language, kit.policy.language) if code))
    return [fill(saved, facts) for saved in offered(kit.policy.saved_replies, route, languages)]


def _facts(
    kit: RoutingKit, row: CaseRecord, order: OrderFacts | None, name: str, now: datetime
) -> ReplyFacts:
    zone = kit.calendar.tz
    scan_at = order.last_scan_at if order is not None else None
    return ReplyFacts(
        store_name=kit.policy.store_name,
        first_name=name,
        order_number=f"#{row.order_number.lstrip('#')}" if row.order_number else "",
        last_scan_status=order.last_scan_status if order is not None else None,
        last_scan_at=scan_at.astimezone(zone) if scan_at is not None else None,
        last_scan_location=order.last_scan_location if order is not None else "",
        promised_at=promised_update(kit, row, now).astimezone(zone),
        lead=row.lead_name,
    )


def promised_update(kit: RoutingKit, row: CaseRecord, now: datetime) -> datetime:
    """The next update the case has promised (its next-update clock's due time, which a
    reply's promise sets) when that is still ahead; otherwise the route's next-update target
    counted from ``now``."""
    for clock in row.clocks:
        if (
            clock["name"] == ClockName.NEXT_UPDATE.value
            and clock["state"] in _RUNNING
            and clock.get("due_at")
        ):
            due = datetime.fromisoformat(clock["due_at"])
            if due > now:
                return due
    return sla_due(kit.specs[row.route].sla, now, kit.calendar).next_update_due

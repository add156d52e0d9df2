"""A person's word on a case's route: change it (the case is planned again) or confirm it.

Either way the case's opening message and its route are stored as a labelled example (the
store's router model learns from them, see services/learning.py) and "check the route" is
cleared. A re-route rebuilds everything that follows from the route in the same transaction:
secondary routes, lead, decision (safe path, stop line), first-reply draft, evidence checklist
(items already in hand are kept) and clocks, under the rule that a re-route never applies a
stricter target to a clock already running (services/clocks.py ``_targets``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aftersales.domain.card import DecisionCard
from aftersales.domain.cases import CaseRecord, Event
from aftersales.domain.corrections import LabelSource, RouteLabel
from aftersales.domain.errors import AftersalesError
from aftersales.domain.greetings import first_name
from aftersales.domain.orders import OrderFacts
from aftersales.domain.routes import Route
from aftersales.domain.signals import Attachment
from aftersales.domain.trust import SenderMark
from aftersales.ports import CaseRepository, CaseTimeline, EvidenceStore, OrderStore, UnitOfWork
from aftersales.services.clocks import CaseHistory, refresh_clocks

# the records intake stores for a routed case: a re-routed case stores the same shapes
from aftersales.services.intake import _decision, _routing_record
from aftersales.services.routing import RoutingKit, build_card, routable_text

# what a person's decision added to the case's decision record: kept across a re-route
_RECORDED_KEYS = ("recorded", "recorded_amount", "recorded_by", "recorded_at")


@dataclass(frozen=True, slots=True, kw_only=True)
class Reroute:
    case_id: int
    route: Route
    by: str
    at: datetime
    reason: str = ""


class CaseHasNoMessage(AftersalesError):
    """The case has no customer message to route again (it cannot be re-planned)."""


def reroute(uow: UnitOfWork, kit: RoutingKit, change: Reroute) -> DecisionCard:
    """Put the case on ``change.route`` and plan it again, in one transaction. Re-routing to
    the route it already has confirms it instead (nothing is planned again). Returns the
    case's new card."""
    with uow() as cases:
        row = cases.case_row(change.case_id)  # raises CaseNotFound
        first = opening_message(cases, change.case_id)
        text = routable_text(first["subject"], first["body"])
        if row.route is change.route:
            _confirm(cases, row, text, by=change.by, at=change.at)
            return case_card(kit, cases, row, first, now=change.at)
        card = _card(kit, cases, row, first, change)
        replan(cases, kit, row, card, change)
        label = _label(change.case_id, text, change.route, LabelSource.CORRECTION, change.by, change.at)
        cases.add_route_label(label)
        return card


def confirm_route(uow: UnitOfWork, case_id: int, *, by: str, at: datetime) -> Route:
    """A person says the case's route is right: a labelled example, and no more "check the
    route". Returns the route confirmed."""
    with uow() as cases:
        row = cases.case_row(case_id)
        first = opening_message(cases, case_id)
        _confirm(cases, row, routable_text(first["subject"], first["body"]), by=by, at=at)
        return row.route


def case_card(
    kit: RoutingKit,
    cases: OrderStore,
    row: CaseRecord,
    first: Mapping[str, Any],
    *,
    now: datetime,
) -> DecisionCard:
    """The card of the case as it stands: its opening message routed again as of ``now``, with
    the order facts the store holds, on the case's route when a person or a later message
    changed it (the page never shows the card of a route the case left)."""
    facts = case_facts(cases, row, first)
    card = facts.card(kit, now=now)
    if card.routing.route is row.route:
        return card
    forced = facts.card(kit, now=now, route=row.route)
    return _decided_by(
        forced, f"set on the case ({row.route.value}); the text reads as {card.routing.route.value}"
    )


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What a case's card is built from, read from the store: its opening message and the
    order's facts. The card itself is built apart (the semantic reader may take tens of
    milliseconds, which a transaction should not wait on)."""

    text: str
    order: OrderFacts | None
    images: list[Attachment]
    sender_is_buyer: bool
    customer_first_name: str

    def card(self, kit: RoutingKit, *, now: datetime, route: Route | None = None) -> DecisionCard:
        return build_card(
            kit,
            self.text,
            now=now,
            order=self.order,
            attachments=self.images,
            route=route,
            sender_is_buyer=self.sender_is_buyer,
            customer_first_name=self.customer_first_name,
        )


def case_facts(cases: OrderStore, row: CaseRecord, first: Mapping[str, Any]) -> CaseFacts:
    return CaseFacts(
        text=routable_text(first["subject"], first["body"]),
        order=cases.order(row.order_number) if row.order_number else None,
        images=_images(first),
        sender_is_buyer=row.sender_mark.trusts_order,
        customer_first_name=customer_first_name(cases, row, first),
    )


def customer_first_name(cases: OrderStore, row: CaseRecord, first: Mapping[str, Any]) -> str:
    """The first name the customer gave in their opening message; else, when that message is
    proven to come from the order's buyer, the name the shop has for the buyer. Never a
    part of an e-mail address."""
    address = first.get("from_address") or ""
    name = first_name(first.get("author") or "", address)
    if name or not row.order_number or not row.sender_mark.trusts_order:
        return name
    buyer = cases.order_customer(row.order_number)
    if buyer is None or (address and buyer[0].lower() != address.lower()):
        return ""
    return first_name(buyer[1], buyer[0])


def _card(
    kit: RoutingKit, cases: OrderStore, row: CaseRecord, first: Mapping[str, Any], change: Reroute
) -> DecisionCard:
    card = case_facts(cases, row, first).card(kit, now=change.at, route=change.route)
    why = f"re-routed by {change.by}" + (f": {change.reason}" if change.reason else "")
    return _decided_by(card, why)


def replan(  # noqa: PLR0913  (the check is keyword-only)
    cases: CaseRepository,
    kit: RoutingKit,
    row: CaseRecord,
    card: DecisionCard,
    change: Reroute,
    *,
    route_check: str = "",
) -> None:
    """Put the case on ``card``'s route and plan everything that follows from it again.
    ``route_check``: why a person should still check the route ("" after a person's word)."""
    case_id, at = change.case_id, change.at
    kept = {k: v for k, v in row.decision.items() if k in _RECORDED_KEYS}
    fields: dict[str, Any] = {
        "route": card.routing.route.value,
        "secondary_routes": [r.value for r in card.routing.secondary],
        "confidence": card.routing.confidence,
        "lead_role": card.spec.lead,
        "lead_name": card.lead.name if card.lead else "",
        "decision": _decision(card) | kept,
        "write_back": list(card.spec.write_back),
        "reason": card.decision.segment[:100],
        "route_check": route_check,
        "meaning_due": False,
        "updated_at": at,
    }
    _replace_checklist(cases, case_id, card, change.by, at)
    record = _routing_record(card) | {"from": row.route.value, "to": change.route.value, "by": change.by}
    events = [Event("rerouted", at, change.by, record | {"reason": change.reason})]
    timeline = cases.timeline(case_id)
    if card.decision.escalate and not any(e["kind"] == "escalation_needed" for e in timeline):
        events.append(Event("escalation_needed", at, "router", {"reason": card.decision.escalation_reason}))
    proven = row.sender_mark == SenderMark.NONE
    if card.decision.pause_automation and proven and row.customer_id is not None:
        cases.hold_automation(row.customer_id, case_id, f"{change.route.value}: {card.decision.segment}", at)
    history = CaseHistory(
        change.route,
        row.clocks,
        cases.message_times(case_id),
        [*timeline, *({"kind": e.kind, "at": e.at, "actor": e.actor, "data": dict(e.data)} for e in events)],
        current=row.queue_state(),
        changes=fields,
        new_events=events,
    )
    refresh_clocks(cases, kit, case_id, at, history)


def _replace_checklist(cases: EvidenceStore, case_id: int, card: DecisionCard, by: str, at: datetime) -> None:
    """The new route's checklist; what is already in hand stays, whatever route asked for it."""
    stored = cases.evidence_of(case_id)
    wanted = {item.key for item in card.evidence.items}
    cases.remove_evidence(case_id, [e["key"] for e in stored if not e["present"] and e["key"] not in wanted])
    cases.set_evidence(case_id, card.evidence.items, by, at, keep_present=True)


def _confirm(cases: CaseRepository, row: CaseRecord, text: str, *, by: str, at: datetime) -> None:
    route = row.route
    cases.add_route_label(_label(row.id, text, route, LabelSource.CONFIRMATION, by, at))
    cases.add_event(row.id, Event("route_confirmed", at, by, {"route": route.value}))
    cases.update_case(row.id, {"route_check": "", "meaning_due": False, "updated_at": at})


def opening_message(cases: CaseTimeline, case_id: int) -> Mapping[str, Any]:
    first = next((m for m in cases.messages_of(case_id) if m["direction"] == "inbound"), None)
    if first is None:
        raise CaseHasNoMessage(f"case {case_id} has no customer message to route")
    return first


def _images(message: Mapping[str, Any]) -> list[Attachment]:
    return [
        Attachment(a.get("filename", ""), a.get("content_type", ""), int(a.get("size", 0) or 0))
        for a in message.get("attachments") or ()
    ]


def _decided_by(card: DecisionCard, why: str) -> DecisionCard:
    return dataclasses.replace(card, routing=dataclasses.replace(card.routing, decided_by=why))


def _label(case_id: int, text: str, route: Route, source: LabelSource, by: str, at: datetime) -> RouteLabel:
    return RouteLabel(id=0, case_id=case_id, text=text, route=route, source=source, by=by, at=at)

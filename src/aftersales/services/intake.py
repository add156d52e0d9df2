"""Take in one customer message: screen, deduplicate, thread into a case or open one, route it.

One message is one unit of work: if intake stops half way, the messages already taken in
are committed and a rerun skips them (deduplication), so nothing is lost or doubled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from aftersales.domain.card import DecisionCard
from aftersales.domain.cases import OPEN_STATUSES, CaseStatus, Event
from aftersales.domain.corrections import card_language, route_check
from aftersales.domain.messages import AttachmentMeta, Direction, InboundMessage
from aftersales.domain.orders import OrderFacts
from aftersales.domain.routes import Route, risk_rank
from aftersales.domain.trust import SENDER_MARK_LABELS, SenderMark, sender_mark, strongest
from aftersales.ports import CaseRepository, IntakeGate, IntakeStore, UnitOfWork
from aftersales.services.clocks import CaseHistory, refresh_clocks
from aftersales.services.routing import RoutingKit, message_card


class Outcome(StrEnum):
    NEW_CASE = "new_case"
    UPDATED_CASE = "updated_case"
    DUPLICATE = "duplicate"
    SCREENED = "screened"


@dataclass(frozen=True, slots=True)
class IntakeResult:
    outcome: Outcome
    case_id: int | None = None


@dataclass(frozen=True, slots=True)
class Incoming:
    """A message to take in, with what came with it."""

    message: InboundMessage
    source: str  # where it was read: "inbox.mbox#17", "form", ...
    attachments: Sequence[tuple[AttachmentMeta, bytes]] = ()
    # the card routed beforehand from the message alone (bulk intake routes in worker
    # processes); rebuilt here only when the store holds the order the message names
    card: DecisionCard | None = None
    # the sender's address was typed into the public contact form, never proven: the message
    # opens a case of its own (linked to the case it names), and holds no one's automation
    typed_sender: bool = False
    # why the buyer's automation is held when the message holds it, instead of the router's
    # route and segment (an imported review: "review: 1 star (judgeme)")
    hold_reason: str = ""


def take_in(uow: UnitOfWork, kit: RoutingKit, incoming: Incoming, *, now: datetime) -> IntakeResult:
    """Take in one message in its own unit of work.

    The message is routed before the transaction opens, so the write lock is held only to
    store it (routed again inside only when the store holds the order it names)."""
    if incoming.card is None and incoming.message.auto_kind is None:
        incoming = replace(incoming, card=message_card(kit, incoming.message))
    with uow() as cases:
        return receive(cases, kit, incoming, now=now)


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A message that could not be taken in: it is in the quarantine with this reason."""

    reason: str


def take_in_or_quarantine(
    uow: UnitOfWork,
    kit: RoutingKit,
    incoming: Incoming,
    *,
    now: datetime,
    transient: Callable[[Exception], bool] = lambda error: False,
) -> IntakeResult | Quarantined:
    """``take_in``, but whatever the message raises quarantines it with the reason instead
    of stopping the caller: a bad message never stops the inbox (defence in depth behind the
    readers at the edges). A message another writer stored meanwhile (two pollers at once)
    is a duplicate. ``transient`` errors (a database busy past every retry) are raised: the
    message is fine and a rerun takes it in. If the quarantine cannot be written either, the
    database itself is failing, and that error is raised."""
    try:
        return take_in(uow, kit, incoming, now=now)
    except Exception as error:
        if transient(error):
            raise
        reason = quarantine_reason(error)
    with uow() as cases:
        return _quarantined(cases, incoming, reason, now)


def take_in_few(
    uow: UnitOfWork,
    kit: RoutingKit,
    incomings: Sequence[Incoming],
    *,
    now: datetime,
    transient: Callable[[Exception], bool] = lambda error: False,
) -> list[IntakeResult | Quarantined]:
    """A few messages in one short transaction (bulk intake: a commit per message doubled its
    time), routed before the transaction opens, each taken in as ``take_in_or_quarantine``
    takes it.

    The chunk is taken in over the repository's intake batch: its lookups made once for all
    the messages and its writes sent together at the end, a few statements in all instead of
    about ten a message. All or nothing: if a message raises, or the writes meet another
    writer's, the chunk is undone and taken in again one message at a time, each in a
    savepoint of its own, so only a message that raises is quarantined and its neighbours are
    committed."""
    routed = [_routed(kit, incoming) for incoming in incomings]
    try:
        with uow() as cases:
            return list(_receive_batch(cases, kit, routed, now))
    except Exception as error:
        if transient(error):
            raise
    with uow() as cases:
        return [_receive_or_quarantine(cases, kit, incoming, now, transient) for incoming in routed]


def _receive_batch(
    cases: CaseRepository, kit: RoutingKit, incomings: Sequence[Incoming], now: datetime
) -> list[IntakeResult]:
    numbers = {_order_number(i.card) for i in incomings if i.card is not None}
    batch = cases.intake_batch([incoming.message for incoming in incomings], numbers)
    results = [receive(batch, kit, incoming, now=now) for incoming in incomings]
    stored = batch.flush()  # the cases opened in the batch by their provisional ids
    return [
        replace(result, case_id=stored.get(result.case_id, result.case_id))
        if result.case_id is not None
        else result
        for result in results
    ]


def _routed(kit: RoutingKit, incoming: Incoming) -> Incoming:
    if incoming.card is not None or incoming.message.auto_kind is not None:
        return incoming
    try:
        return replace(incoming, card=message_card(kit, incoming.message))
    except Exception:
        return incoming  # routed again in the transaction, and quarantined if it raises there


def _receive_or_quarantine(
    cases: CaseRepository,
    kit: RoutingKit,
    incoming: Incoming,
    now: datetime,
    transient: Callable[[Exception], bool],
) -> IntakeResult | Quarantined:
    try:
        with cases.savepoint():
            return receive(cases, kit, incoming, now=now)
    except Exception as error:
        if transient(error):
            raise
        return _quarantined(cases, incoming, quarantine_reason(error), now)


def _quarantined(
    cases: IntakeGate, incoming: Incoming, reason: str, now: datetime
) -> IntakeResult | Quarantined:
    """Quarantine a message that raised; one another writer stored meanwhile is a duplicate."""
    if cases.has_message(incoming.message.dedupe_key):
        return IntakeResult(Outcome.DUPLICATE)
    cases.quarantine(incoming.source, reason, now)
    return Quarantined(reason)


def quarantine_reason(error: Exception) -> str:
    """Why a message could not be taken in, for the quarantine: the error's first line only
    (a database error goes on with the statement and its parameters, the customer's text
    among them)."""
    first = str(error).strip().split("\n", 1)[0]
    return f"cannot take the message in: {type(error).__name__}: {first[:300]}"


def receive(cases: IntakeStore, kit: RoutingKit, incoming: Incoming, *, now: datetime) -> IntakeResult:
    """Take in one message inside the caller's unit of work (a webhook stores its delivery
    and the case it opens in one transaction)."""
    message = incoming.message
    if message.auto_kind is not None:
        cases.screen(message, incoming.source, now)
        return IntakeResult(Outcome.SCREENED)
    # before the duplicate check: a copy torn by a crash is repaired when the mail comes again
    for meta, content in incoming.attachments:
        cases.save_attachment(meta, content)
    if cases.has_message(message.dedupe_key):
        return IntakeResult(Outcome.DUPLICATE)
    return _thread(cases, kit, incoming, now)


def _thread(cases: IntakeStore, kit: RoutingKit, incoming: Incoming, now: datetime) -> IntakeResult:
    message, typed_sender = incoming.message, incoming.typed_sender
    customer = cases.customer_id(message.from_address, message.from_name, message.sent_at)
    card, order, mark = _route(cases, kit, message, incoming.card, typed_sender=typed_sender)
    order_number = message.order_hint or _order_number(card)
    case_id = None if typed_sender else _existing_case(cases, message, customer, order_number)
    if case_id is None:
        related = _related_case(cases, message, customer, order_number, mark)
        case_id = _open(cases, card, message, customer, order_number, order, trust=(mark, related))
        outcome = Outcome.NEW_CASE
        history = _new_case_history(card, message, _trust_events(message, mark, related))
    else:
        history = _update(cases, case_id, card, message, order, mark)
        outcome = Outcome.UPDATED_CASE
    # only a proven buyer's words hold their review requests and marketing: on a typed
    # address's or a stranger's, anyone could pause anyone's (the agent can hold by hand)
    if card.decision.pause_automation and mark is SenderMark.NONE:
        reason = incoming.hold_reason or f"{card.routing.route}: {card.decision.segment}"
        cases.hold_automation(customer, case_id, reason, message.sent_at)
    refresh_clocks(cases, kit, case_id, now, history)
    return IntakeResult(outcome, case_id)


def _new_case_history(
    card: DecisionCard, message: InboundMessage, trust_events: Sequence[Event] = ()
) -> CaseHistory:
    """The history of a case opened a moment ago: one customer message and its events."""
    inbound = {"sent_at": message.sent_at, "direction": Direction.INBOUND.value, "promised_update_at": None}
    events = [*_opening_events(card, message), *trust_events]
    return CaseHistory(
        card.routing.route,
        [],
        [inbound],
        _event_rows(events),
        current={"status": CaseStatus.NEW.value},
        new_events=events,
    )


def _event_rows(events: Sequence[Event]) -> list[dict[str, Any]]:
    """Events not stored yet, in the shape the stored timeline has."""
    return [{"kind": e.kind, "at": e.at, "actor": e.actor, "data": dict(e.data)} for e in events]


def _route(
    cases: IntakeStore,
    kit: RoutingKit,
    message: InboundMessage,
    prepared: DecisionCard | None,
    *,
    typed_sender: bool,
) -> tuple[DecisionCard, OrderFacts | None, SenderMark]:
    """The message's card with the order facts the store holds, that order, and whether its
    sender is the order's buyer (when not, the card's draft and evidence leave the order's
    facts out). ``prepared`` is a card built beforehand from the message alone (bulk intake
    routes in worker processes); it is used as it is unless the store holds the order."""
    order = cases.order(message.order_hint) if message.order_hint else None
    if order is None:
        card = prepared if prepared is not None else message_card(kit, message)
        found = _order_number(card)
        order = cases.order(found) if found else None
        if order is None:
            return card, None, sender_mark(message.from_address, None, typed=typed_sender, order_named=False)
    buyer = cases.order_customer(order.number)
    buyer_email = buyer[0] if buyer else None
    mark = sender_mark(message.from_address, buyer_email, typed=typed_sender, order_named=True)
    # the models are not asked twice: the language model's reading and the semantic reader's
    read = prepared.reading if prepared is not None else None
    meaning = prepared.routing.probabilities if prepared is not None else None
    card = message_card(kit, message, order, sender_is_buyer=mark.trusts_order, reading=read, meaning=meaning)
    return card, order, mark


def _order_number(card: DecisionCard) -> str:
    return next((s.value for s in card.signals if s.kind == "order_number"), "")


def _existing_case(
    cases: IntakeStore, message: InboundMessage, customer: int, order_number: str
) -> int | None:
    hinted = int(message.case_hint) if message.case_hint.isdigit() else None
    # a "[case 42]" tag only threads the case's own customer's mail: anyone can type a tag
    if hinted is not None and cases.case_exists(hinted) and cases.case_row(hinted).customer_id == customer:
        return hinted
    # so do reply headers: a Message-ID can be copied from a forwarded mail, or guessed
    threaded = cases.case_for_message_ids([message.in_reply_to, *message.references])
    if threaded is not None and cases.case_row(threaded).customer_id == customer:
        return threaded
    # Without an order number, or a sender, nothing says two messages are one problem:
    # a customer's question today and another next week are two cases.
    if not order_number or not message.from_address:
        return None
    return cases.open_case_for(customer, order_number)


def _related_case(
    cases: IntakeStore, message: InboundMessage, customer: int, order_number: str, mark: SenderMark
) -> int | None:
    """The case a new case is linked to, never changed: the case its reply headers name (of
    another customer, or it would have threaded), or, when its sender is not proven to be the
    buyer, the newest open case on the order it names or of the address it gives."""
    threaded = cases.case_for_message_ids([message.in_reply_to, *message.references])
    if threaded is not None or mark is SenderMark.NONE:
        return threaded
    on_order = cases.newest_open_case(order_number=order_number) if order_number else None
    if on_order is not None or mark is not SenderMark.UNVERIFIED:
        return on_order
    return cases.newest_open_case(customer_id=customer)


def _trust_events(message: InboundMessage, mark: SenderMark, related: int | None) -> list[Event]:
    if mark is SenderMark.NONE and related is None:
        return []
    data: dict[str, Any] = {"mark": mark.value, "label": SENDER_MARK_LABELS[mark], "related_case_id": related}
    return [Event("sender_marked", message.sent_at, "router", data)]


def _open(  # noqa: PLR0913  (the trust pair is keyword-only)
    cases: IntakeStore,
    card: DecisionCard,
    message: InboundMessage,
    customer: int,
    order_number: str,
    order: OrderFacts | None,
    *,
    trust: tuple[SenderMark, int | None] = (SenderMark.NONE, None),
) -> int:
    at = message.sent_at
    case_id = cases.open_case(
        _dimensions(card, order)
        | {
            "sender_mark": trust[0].value,
            "related_case_id": trust[1],
            "customer_id": customer,
            "order_number": order_number,
            "subject": message.subject or message.body[:80],
            "route": card.routing.route.value,
            "secondary_routes": [r.value for r in card.routing.secondary],
            "confidence": card.routing.confidence,
            "route_check": route_check(card),
            "meaning_due": card.routing.meaning_due,
            "language": card_language(card),
            "status": CaseStatus.NEW.value,
            "lead_role": card.spec.lead,
            "lead_name": card.lead.name if card.lead else "",
            "decision": _decision(card),
            "write_back": list(card.spec.write_back),
            "clocks": [],
            "risk": 0,
            "opened_at": at,
            "updated_at": at,
        }
    )
    cases.add_message(case_id, message, Direction.INBOUND)
    cases.add_evidence(case_id, card.evidence.items, "router", at)
    return case_id


def _opening_events(card: DecisionCard, message: InboundMessage) -> list[Event]:
    at = message.sent_at
    events = [
        Event("case_opened", at, "customer", {"channel": message.channel.value}),
        Event("routed", at, "router", _routing_record(card)),
    ]
    if card.decision.escalate:
        events.append(Event("escalation_needed", at, "router", {"reason": card.decision.escalation_reason}))
    return events


def _update(
    cases: IntakeStore,
    case_id: int,
    card: DecisionCard,
    message: InboundMessage,
    order: OrderFacts | None,
    mark: SenderMark = SenderMark.NONE,
) -> CaseHistory:
    """Add the message to its case; the changed fields and new events are stored with the clocks."""
    at = message.sent_at
    row = cases.case_row(case_id)
    cases.add_message(case_id, message, Direction.INBOUND)
    events = [Event("message_received", at, "customer", {"channel": message.channel.value})]
    fields: dict[str, Any] = {"updated_at": at}
    if (kept := strongest(row.sender_mark, mark)) is not row.sender_mark:
        fields["sender_mark"] = kept.value  # the customer now names an order that is not theirs
        events.extend(_trust_events(message, kept, None))
    if row.status not in OPEN_STATUSES or row.status is CaseStatus.WAITING_ON_CUSTOMER:
        fields |= {"status": CaseStatus.OPEN.value, "resolved_at": None}
        events.append(Event("status_changed", at, "customer", {"from": row.status.value, "to": "open"}))
    if risk_rank(card.routing.route) < risk_rank(row.route):
        fields |= _rerouted(card) | _dimensions(card, order)
        events.append(Event("routed", at, "router", _routing_record(card) | {"from": row.route.value}))
        if card.decision.escalate:
            events.append(
                Event("escalation_needed", at, "router", {"reason": card.decision.escalation_reason})
            )
        items = card.evidence.items
    else:  # the same problem: this message can only bring evidence in (or words that suggest it)
        items = (*card.evidence.present, *card.evidence.suggested)
    cases.set_evidence(case_id, items, "router", at, keep_present=True)
    return CaseHistory(
        Route(fields.get("route", row.route)),
        row.clocks,
        cases.message_times(case_id),
        [*cases.timeline(case_id), *_event_rows(events)],
        current=row.queue_state(),
        changes=fields,
        new_events=events,
    )


def _rerouted(card: DecisionCard) -> dict[str, Any]:
    return {
        "route": card.routing.route.value,
        "lead_role": card.spec.lead,
        "lead_name": card.lead.name if card.lead else "",
        "decision": _decision(card),
        "route_check": route_check(card),
        "meaning_due": False,  # a later message's route leads: the opening one is not read again
    }


def _dimensions(card: DecisionCard, order: OrderFacts | None) -> dict[str, str]:
    """What the weekly review counts a case by: the SKU the message names (a catalogue SKU,
    or a line of its order by code; else the order's first line), the order's carrier, and
    the decision's reason (its segment)."""
    items = order.items if order is not None else ()
    named = next((s.value for s in card.signals if s.kind == "sku"), "")
    if not named:
        text = card.text.casefold()
        named = next((i.sku for i in items if i.sku and i.sku.casefold() in text), "")
    line = next((i for i in items if i.sku == named), None) if named else None
    if line is None and not named and items:
        line = items[0]
    return {
        "sku": named or (line.sku if line else ""),
        "variant": line.variant if line else "",
        "carrier": order.carrier if order is not None else "",
        "reason": card.decision.segment,
    }


def _decision(card: DecisionCard) -> dict[str, Any]:
    decision = card.decision
    return {
        "segment": decision.segment,
        "action": decision.action,
        "stop_line_clear": decision.stop_line_clear,
        "facts": list(decision.facts),
        "stop_line": decision.stop_line,
        "escalate": decision.escalate,
        "escalation_reason": decision.escalation_reason,
        "pause_automation": decision.pause_automation,
        "first_reply": card.first_reply,
        "resolution_path": card.spec.resolution_path,
    }


def _routing_record(card: DecisionCard) -> dict[str, Any]:
    routing = card.routing
    return {
        "route": routing.route.value,
        "secondary_routes": [r.value for r in routing.secondary],
        "confidence": routing.confidence,
        "flags": [name for name, on in card.flags.items() if on],
        "decided_by": routing.decided_by,
        "read_by": card.read_by,
        "reader_note": card.reader_note,
    }

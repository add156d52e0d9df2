"""Route one message into a decision card: the use case behind `aftersales route`."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from aftersales.domain.card import DecisionCard, SlaDue
from aftersales.domain.decisions import Decision, Situation, decide
from aftersales.domain.errors import InputError
from aftersales.domain.evidence import EvidenceChecklist, check_evidence
from aftersales.domain.faq import answer_status, answers_text, matches
from aftersales.domain.greetings import first_name, greeting
from aftersales.domain.messages import InboundMessage
from aftersales.domain.orders import OrderFacts
from aftersales.domain.policy import StorePolicy
from aftersales.domain.reading import MessageAttachment, MessageToRead, Reading, local_reading
from aftersales.domain.replies import check_reply, format_moment, render_reply, template_for
from aftersales.domain.reply_promise import reply_languages
from aftersales.domain.routes import Route, RouteSpec, SlaTargets
from aftersales.domain.routing.cues import CueBook
from aftersales.domain.routing.model import NaiveBayes, features
from aftersales.domain.routing.router import (
    HOLD_SCORE,
    Routing,
    TraceItem,
    choose,
    confidence_label,
    score_routes,
    wants_meaning,
    with_doubts,
    with_meaning,
)
from aftersales.domain.signals import (
    Attachment,
    CatalogueItem,
    Signal,
    catalogue_mentions,
    dates,
    emails,
    flags,
    image_attachments,
    money,
    order_numbers,
    photo_mentions,
    tracking_numbers,
)
from aftersales.domain.sla.calendar import BusinessCalendar, due_at, end_of_business_day
from aftersales.domain.sla.delivery_window import add_business_days, last_promised_day
from aftersales.domain.text import NormalisedText, normalise
from aftersales.domain.tracking import CourierFormat
from aftersales.ports import Reader

_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd]")
# A customer message longer than this is not one message (a pasted log, a mailbox, junk).
MAX_MESSAGE_CHARS = 50_000
# The learned model fills in where the cue book is silent and only nudges where the cues
# already hold. On its own it stays below the hold score, so it can pick a route when no
# cue speaks but never make a risky route outrank clear wording through the risk order.
MODEL_WEIGHT_WHEN_UNSURE = 2.5
MODEL_WEIGHT_WHEN_HELD = 1.0
MODEL_MIN_PROBABILITY = 0.5
# The semantic reader's model (all-MiniLM-L6-v2) was trained on English: on another language
# it would be confidently wrong, so those messages keep the router's reading and its doubt.
SEMANTIC_LANGUAGES = frozenset({"en", ""})
# What the first reply says about the delivery promise, by decision segment.
PROMISE_STATUS: Mapping[str, str] = {
    "": "If the delivery window is missed, we will review a reship, compensation or refund with you.",
    "past_promise_window": "The promised delivery date has passed, so that update will also cover a reship or compensation.",
    "loss_confirmed": "If the carrier confirms the parcel is lost, that update will cover a reship or refund.",
    "delivered_not_received": "The carrier shows it as delivered, so we are asking them for the delivery proof.",
}
# Evidence a buyer can send, in the words a reply asks for it.
BUYER_ASKS: Mapping[str, str] = {
    "order_number": "your order number",
    "order_detail": "your order number",
    "damage_photo": "a photo of the damage",
    "outer_box_photo": "a photo of the outer box",
    "received_item_photo": "a photo of the item you received",
    "package_label": "a photo of the package label",
    "photos": "a photo of the item",
    "item_state": "whether the item has been used",
    "refund_reason": "the reason for the return",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutingKit:
    """Everything routing reads, built once by ``wiring`` and reused for every message."""

    book: CueBook
    specs: Mapping[Route, RouteSpec]
    policy: StorePolicy
    calendar: BusinessCalendar
    tracking_formats: Sequence[CourierFormat]
    catalogue: Sequence[CatalogueItem] = ()
    model: NaiveBayes | None = None
    # a second reader (a language model, see adapters/reader/llm.py); None: the local reader only
    reader: Reader | None = None
    # text -> ISO 639-1 code ("" when unknown); None reads every message as undetected
    detect_language: Callable[[str], str] | None = None
    # text -> each route's probability by its meaning (adapters/reader/semantic.py), asked only
    # when the router is unsure of an English message; None: the words alone decide
    semantic: Callable[[str], Mapping[Route, float]] | None = None
    # the semantic reader is left out for speed (a file's intake): the messages it would have
    # read are marked ``meaning_due`` and read again by meaning later (services/rereading.py)
    meaning_later: bool = False
    # (moment, business hours) -> due time: a batch shares one "now", so each target is
    # walked through the calendar once, not once per message
    due_times: dict[tuple[datetime, float], datetime] = field(default_factory=dict, compare=False, repr=False)


def usable_text(text: str, where: str = "") -> str:
    """The message text, or an InputError that says why it cannot be routed."""
    if not text.strip():
        raise InputError("the message is empty", where)
    if len(text) > MAX_MESSAGE_CHARS:
        raise InputError(
            f"the message is {len(text):,} characters; one customer message is at most "
            f"{MAX_MESSAGE_CHARS:,} (split it, or pass the body of one message)",
            where,
        )
    controls = len(_NOT_TEXT.findall(text))
    if controls > max(3, len(text) // 20):
        raise InputError(
            f"the input does not look like text ({controls} control or undecodable characters)", where
        )
    return text


def extract_signals(
    kit: RoutingKit, normalised: NormalisedText, attachments: Sequence[Attachment] = ()
) -> tuple[Signal, ...]:
    text = normalised.original
    found_flags = flags(normalised, kit.book.flag_patterns)
    found = [
        *order_numbers(text),
        *tracking_numbers(text, kit.tracking_formats),
        *emails(text),
        *money(text),
        *dates(text),
        *photo_mentions(found_flags),
        *image_attachments(attachments),
        *catalogue_mentions(normalised, kit.catalogue),
        *found_flags,
    ]
    has_image = any(s.kind == "attachment_image" for s in found)
    if has_image and not any(s.value == "mentions_photo" for s in found_flags):
        found.append(Signal("flag", "mentions_photo", -1, -1, "image attachment"))
    return tuple(sorted(found, key=lambda s: (s.start, s.kind)))


def route_text(
    kit: RoutingKit,
    text: str,
    attachments: Sequence[Attachment] = (),
    forced: Route | None = None,
    *,
    meaning: Mapping[Route, float] | None = None,
) -> tuple[Routing, tuple[Signal, ...]]:
    """``meaning``: the semantic reader's probabilities for this text found before (a worker's
    routing of the same text, see ``Routing.probabilities``), so it is not asked twice."""
    normalised = normalise(usable_text(text), kit.book.repair)
    signals = extract_signals(kit, normalised, attachments)
    scores, trace = score_routes(normalised, kit.book, signals)
    if kit.model is not None:
        held = max(scores.values()) >= HOLD_SCORE
        for item in _model_trace(kit.model, normalised, held=held):
            trace.append(item)
            scores[item.route] += item.weight
    language = kit.detect_language(text) if kit.detect_language is not None else ""
    routing = with_doubts(choose(scores, trace), language)
    if forced is not None:
        return _forced(routing, forced), signals
    if wants_meaning(routing) and language in SEMANTIC_LANGUAGES:
        if kit.semantic is not None:
            routing = with_meaning(routing, kit.semantic(text) if meaning is None else meaning)
        elif kit.meaning_later:
            routing = dataclasses.replace(routing, meaning_due=True)
    return routing, signals


def _forced(routing: Routing, route: Route) -> Routing:
    """The routing with ``route`` leading, as its source says; the text's routes follow it."""
    read = (routing.route, *routing.secondary)
    return dataclasses.replace(
        routing,
        route=route,
        secondary=tuple(r for r in read if r not in (route, Route.OTHER)),
        confidence=1.0,
        confidence_label=confidence_label(1.0),
        doubts=(),
        decided_by=f"set by the message's source ({route.value}); the text reads as {routing.route.value}",
    )


def read_text(  # noqa: PLR0913  (keyword-only: every call names each part)
    kit: RoutingKit,
    text: str,
    attachments: Sequence[Attachment] = (),
    *,
    forced: Route | None = None,
    subject: str = "",
    channel: str = "",
    order: OrderFacts | None = None,
    read: Reading | None = None,
    meaning: Mapping[Route, float] | None = None,
) -> tuple[Routing, tuple[Signal, ...], Reading]:
    """The routing the card follows, its signals and the reading behind it.

    The local reader always reads; the kit's second reader (when there is one) may read it
    again, and its route then leads. A route the message's source gives (``forced``) is not
    read again: the source knows. ``read``: the second reader's reading of this text made
    before (intake reads before its transaction opens, and routes again inside with the
    order's facts without waiting on the model while it holds the write lock). ``meaning``:
    the semantic reader's probabilities found before, see ``route_text``.
    """
    routing, signals = route_text(kit, text, attachments, forced, meaning=meaning)
    local = local_reading(routing, signals)
    if kit.reader is None or forced is not None:
        return routing, signals, local
    if read is not None:
        return _as_read(routing, read), signals, read
    message = MessageToRead(
        text=text,
        subject=subject,
        channel=channel,
        attachments=tuple(MessageAttachment(a.content_type, a.filename) for a in attachments),
        order=order,
        keep=tuple((s.start, s.end) for s in signals if s.kind in _NOT_PERSONAL and s.start >= 0),
    )
    reading = kit.reader.read(message, local)
    return _as_read(routing, reading), signals, reading


# signal kinds a reader may see unmasked: they name an order or a parcel, not a person
_NOT_PERSONAL = frozenset({"order_number", "tracking_number", "sku", "money", "date"})


def _as_read(routing: Routing, reading: Reading) -> Routing:
    """The routing with the reading's route leading, as ``_forced`` does for a source's route;
    the reading's quotes join the trace."""
    if reading.read_by == "local_fallback":
        return dataclasses.replace(routing, decided_by=f"{routing.decided_by}; {reading.note}")
    if reading.read_by != "llm":
        return routing
    quotes = tuple(
        TraceItem(reading.route, 0.0, "reader", "language model", q.text, q.start, q.end)
        for q in reading.quotes
    )
    # the language model has read it: nothing is left for the semantic reader
    if reading.route is routing.route:
        return dataclasses.replace(
            routing,
            meaning_due=False,
            trace=routing.trace + quotes,
            decided_by=f"{routing.decided_by}; the language model reads it the same way",
        )
    read = (*reading.secondary, routing.route, *routing.secondary)
    return dataclasses.replace(
        routing,
        meaning_due=False,
        route=reading.route,
        secondary=tuple(dict.fromkeys(r for r in read if r not in (reading.route, Route.OTHER))),
        confidence=reading.confidence,
        confidence_label=confidence_label(reading.confidence),
        trace=quotes + routing.trace,
        decided_by=f"read by the language model as {reading.route.value}; the local reader read {routing.route.value}",
    )


def _model_trace(model: NaiveBayes, normalised: NormalisedText, *, held: bool) -> list[TraceItem]:
    words = features(normalised)
    probabilities = model.probabilities(words)
    route = max(probabilities, key=lambda r: probabilities[r])
    if probabilities[route] < MODEL_MIN_PROBABILITY:
        return []
    scale = MODEL_WEIGHT_WHEN_HELD if held else MODEL_WEIGHT_WHEN_UNSURE
    weight = round(scale * probabilities[route], 2)
    evidence = "learned words: " + ", ".join(model.top_words(route, words))
    return [TraceItem(route, weight, "model", evidence, "", -1, -1)]


def build_card(  # noqa: PLR0913  (keyword-only: every call names each field)
    kit: RoutingKit,
    text: str,
    *,
    now: datetime,
    order: OrderFacts | None = None,
    attachments: Sequence[Attachment] = (),
    route: Route | None = None,
    sender_is_buyer: bool = True,
    subject: str = "",
    channel: str = "",
    reading: Reading | None = None,
    meaning: Mapping[Route, float] | None = None,
    customer_first_name: str = "",
    evidence: EvidenceChecklist | None = None,
) -> DecisionCard:
    """``route``, when given, leads whatever the text says (see ``InboundMessage.route_hint``).
    ``customer_first_name`` ("Anna", see ``domain.greetings.first_name``) greets by name.

    ``evidence``: the case's checklist as it stands (domain/evidence.py), which the decision
    and the draft then read instead of what the text and the order show on their own.

    ``sender_is_buyer=False`` (someone who is not the order's buyer wrote): the decision
    still reads the order, for the agent, but no evidence is ticked from it and the draft
    says nothing the order told us (last scan, delivery, promise window), as if unknown.
    """
    routing, signals, reading = read_text(
        kit,
        text,
        attachments,
        forced=route,
        subject=subject,
        channel=channel,
        order=order,
        read=reading,
        meaning=meaning,
    )
    signals = _with_read_flags(signals, reading)
    spec = kit.specs[routing.route]
    replyable = order if sender_is_buyer else None
    if evidence is None:
        evidence = check_evidence(spec.evidence, signals, text, replyable)
    decision = decide(_situation(kit, routing, signals, evidence, order, now), spec.stop_line)
    sla = sla_due(spec.sla, now, kit.calendar, kit.due_times)
    policy = kit.policy
    template = template_for(
        spec.route, spec.first_reply, reading.language, policy.language, policy.reply_templates
    )
    next_update = format_moment(sla.next_update_due, template.language)
    values = _reply_values(kit, spec, replyable, evidence, next_update, signals)
    segment = decision.segment if sender_is_buyer else ""
    values["promise_status"] = PROMISE_STATUS.get(segment, PROMISE_STATUS[""])
    values["first_name"] = customer_first_name
    values["greeting"] = greeting(customer_first_name, template.language)
    values |= _answer_values(kit, template.template, text, template.language, now)
    reply = render_reply(template.template, values)
    return DecisionCard(
        text=text,
        routing=routing,
        spec=spec,
        signals=signals,
        evidence=evidence,
        decision=decision,
        first_reply=reply,
        reply_check=check_reply(
            reply,
            now=now,
            calendar=kit.calendar,
            stop_line_clear=decision.stop_line_clear,
            stop_line=decision.stop_line,
            languages=reply_languages(template.language, policy.language),
        ),
        lead=kit.policy.lead_for(spec.lead),
        sla=sla,
        received_at=now,
        reading=reading,
        reply_language=template.language,
        reply_note=template.note,
    )


def _with_read_flags(signals: tuple[Signal, ...], reading: Reading) -> tuple[Signal, ...]:
    """Flags only the language model raised (sarcasm, an implied dispute) join the signals."""
    if reading.read_by != "llm":
        return signals
    raised = {s.value for s in signals if s.kind == "flag"}
    extra = [Signal("flag", f, -1, -1, "read by the language model") for f in sorted(reading.flags - raised)]
    return (*signals, *extra)


def message_card(
    kit: RoutingKit,
    message: InboundMessage,
    order: OrderFacts | None = None,
    *,
    sender_is_buyer: bool = True,
    reading: Reading | None = None,
    meaning: Mapping[Route, float] | None = None,
) -> DecisionCard:
    """The card of a customer message: its subject and new text, as of when it was sent
    (``sender_is_buyer``, ``reading``, ``meaning``: see ``build_card`` and ``read_text``).

    Unlike pasted text, a stored message is never refused: the router reads its first
    MAX_MESSAGE_CHARS characters with control characters blanked out (the message itself is
    kept whole), so a huge or garbled mail still becomes a case instead of stopping an import.
    """
    images = [Attachment(a.filename, a.content_type, a.size) for a in message.attachments]
    text = routable_text(message.subject, message.body)
    return build_card(
        kit,
        text,
        now=message.sent_at,
        order=order,
        attachments=images,
        route=message.route_hint,
        sender_is_buyer=sender_is_buyer,
        subject=message.subject,
        channel=str(message.channel),
        reading=reading,
        meaning=meaning,
        customer_first_name=first_name(message.from_name, message.from_address),
    )


def routable_text(subject: str, body: str) -> str:
    """What the router reads of a stored message: the subject (unless the body repeats it) and
    the body, cut to MAX_MESSAGE_CHARS with control characters blanked; never empty."""
    text = body if subject.strip() in body else f"{subject}\n{body}"
    return _NOT_TEXT.sub(" ", text[:MAX_MESSAGE_CHARS]).strip() or "(empty message)"


def _situation(
    kit: RoutingKit,
    routing: Routing,
    signals: Sequence[Signal],
    evidence: EvidenceChecklist,
    order: OrderFacts | None,
    now: datetime,
) -> Situation:
    amounts = [Decimal(s.value) for s in signals if s.kind == "money"]
    return Situation(
        route=routing.route,
        flags=frozenset(s.value for s in signals if s.kind == "flag"),
        evidence=evidence,
        order=order,
        policy=kit.policy,
        now=now,
        promise_window_end=promise_window_end(order, kit.policy, kit.calendar),
        claimed_amount=max(amounts) if amounts else None,
    )


def promise_window_end(
    order: OrderFacts | None, policy: StorePolicy, calendar: BusinessCalendar
) -> datetime | None:
    if order is None:
        return None
    if order.promise_window_end is not None:
        return order.promise_window_end
    promise = policy.promise_for(order.destination)
    if order.fulfilled_at is None or promise is None:
        return None
    return add_business_days(order.fulfilled_at, promise.max_days, calendar)


def sla_due(
    targets: SlaTargets,
    now: datetime,
    calendar: BusinessCalendar,
    memo: dict[tuple[datetime, float], datetime] | None = None,
) -> SlaDue:
    def due(hours: float) -> datetime:
        if memo is not None and (now, hours) in memo:
            return memo[(now, hours)]
        # a zero target means "the same business day" (the seed's chargeback rule)
        moment = end_of_business_day(now, calendar) if hours <= 0 else due_at(now, hours * 60, calendar)
        if memo is not None:
            if len(memo) > 4096:
                memo.clear()
            memo[(now, hours)] = moment
        return moment

    return SlaDue(
        first_response_due=due(targets.first_response_hours),
        next_update_due=due(targets.next_update_hours),
        escalation_due=due(targets.escalation_hours),
        resolution_due=due(targets.resolution_hours),
    )


def _reply_values(
    kit: RoutingKit,
    spec: RouteSpec,
    order: OrderFacts | None,
    evidence: EvidenceChecklist,
    next_update: str,
    signals: Sequence[Signal],
) -> dict[str, str]:
    lead = kit.policy.lead_for(spec.lead)
    asks = list(dict.fromkeys(BUYER_ASKS[i.key] for i in evidence.to_ask if i.key in BUYER_ASKS))
    return {
        "store_name": kit.policy.store_name,
        "order_ref": _order_ref(order, signals),
        "order_number": _order_number(order, signals),
        "next_update": next_update,
        "last_scan": _last_scan_sentence(order, kit.calendar),
        "promise_window": _promise_sentence(order, kit),
        "evidence_request": _join(asks) if asks else "any photos you have of the item and the box",
        "lead_name": lead.name if lead else "Our team lead",
        "return_window_days": str(kit.policy.return_window_days),
    }


# a same-day answer promised with less than this left of the day goes to the next day's close
SAME_DAY_MIN_MINUTES = 60
_ANSWER_PLACEHOLDERS = ("{faq_answers}", "{answer_status}", "{end_of_day}")


def same_day_answer_by(now: datetime, calendar: BusinessCalendar) -> datetime:
    """Today's close, or the next open day's when the desk is closed now or closes within
    SAME_DAY_MIN_MINUTES: the time a question before buying is answered by."""
    return end_of_business_day(due_at(now, SAME_DAY_MIN_MINUTES, calendar), calendar)


def _answer_values(kit: RoutingKit, template: str, text: str, language: str, now: datetime) -> dict[str, str]:
    """The store's FAQ answers to the message and the same-day time the rest is answered by;
    worked out only for a template that says them (the pre-purchase reply)."""
    if not any(placeholder in template for placeholder in _ANSWER_PLACEHOLDERS):
        return {}
    found = matches(text, kit.policy.faq, language)
    by = format_moment(same_day_answer_by(now, kit.calendar).astimezone(kit.calendar.tz), language)
    return {"faq_answers": answers_text(found), "answer_status": answer_status(found, by), "end_of_day": by}


def _order_number(order: OrderFacts | None, signals: Sequence[Signal]) -> str:
    """The order's number alone ("#1043"), for templates in any language; "" when unknown."""
    if order is not None:
        return f"#{order.number.lstrip('#')}"
    number = next((s.value for s in signals if s.kind == "order_number"), "")
    return f"#{number}" if number else ""


def _order_ref(order: OrderFacts | None, signals: Sequence[Signal]) -> str:
    if order is not None:
        return f"your order #{order.number.lstrip('#')}"
    number = next((s.value for s in signals if s.kind == "order_number"), "")
    return f"your order #{number}" if number else "your order"


def _last_scan_sentence(order: OrderFacts | None, calendar: BusinessCalendar) -> str:
    if order is None or order.last_scan_at is None:
        return ""
    scan = order.last_scan_at.astimezone(calendar.tz)
    status = order.last_scan_status.value.replace("_", " ") if order.last_scan_status else "a scan"
    where = f" in {order.last_scan_location}" if order.last_scan_location else ""
    return f"The last carrier scan was on {scan:%A} {scan.day} {scan:%B} ({status}{where})."


def _promise_sentence(order: OrderFacts | None, kit: RoutingKit) -> str:
    end = promise_window_end(order, kit.policy, kit.calendar)
    if end is None:
        return ""
    last_day = last_promised_day(end.astimezone(kit.calendar.tz))
    return f"Our shipping promise for your order runs until {last_day:%A} {last_day.day} {last_day:%B}."


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


__all__ = ["Decision", "RoutingKit", "build_card", "format_moment", "read_text", "route_text", "usable_text"]

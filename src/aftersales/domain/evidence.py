"""Evidence: which items a route needs, and which are in hand, from facts and never from words.

An item is **present** when its fact is: an image the customer sent (not the words "photos
attached"), an order the desk holds (not "#1043" in a sentence), a tracking number or carrier
scan stored on that order, a file a person uploaded for the item, a decision that names the
amount, or a person's own tick. Words in the customer's messages only **suggest** an item
("the customer mentions photos: none found"); a person confirms it with a tick or a file.
A person's latest tick or untick wins over everything else: they looked.

Plain data in (``EvidenceFacts``), a checklist out (``assess_evidence``); ``check_evidence``
is the same rule over one message's signals, for the router's card.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field, replace
from enum import StrEnum
from typing import Any

from aftersales.domain.orders import OrderFacts
from aftersales.domain.routes import EvidenceSpec, Route, RouteSpec
from aftersales.domain.signals import Signal

_SHOWN_FILES = 3  # file names listed in a source; the rest are counted
_AUTOMATIC = frozenset({"", "router"})  # who stores a checklist row without a person looking

# What ``detected_by`` may name: a signal kind found in a message (the stored fact behind it
# ticks the item; ``date`` and ``email`` only ever hint), a fact of the stored order, the
# policy version, or a fact of the case itself. Routes and store policies are checked against
# this one list.
SIGNAL_DETECTORS: tuple[str, ...] = (
    "order_number",
    "tracking_number",
    "photo",
    "sku",
    "money",
    "date",
    "email",
)
ORDER_DETECTORS: tuple[str, ...] = (
    "order.last_scan",
    "order.promise_window",
    "order.items",
    "order.refunds",
    "order.fulfilled",
    "order.fulfillment_known",
    "order.delivered",
)
CASE_DETECTORS: tuple[str, ...] = ("case.conversation", "case.decision")
DETECTED_BY: tuple[str, ...] = (*SIGNAL_DETECTORS, *ORDER_DETECTORS, "policy.version", *CASE_DETECTORS)


class EvidenceState(StrEnum):
    PRESENT = "present"
    SUGGESTED = "suggested"  # words hint at it; no fact shows it
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    key: str
    label: str
    _: KW_ONLY
    present: bool
    # the fact that shows it ("image attached: dent.jpg", "order #1043 linked"); "" when not present
    source: str
    suggestion: str = ""  # when not present: the words that hint at it, or a person's untick
    # the customer says they sent it and nothing arrived: the reply asks for it again
    ask_again: bool = False

    @property
    def state(self) -> EvidenceState:
        if self.present:
            return EvidenceState.PRESENT
        return EvidenceState.SUGGESTED if self.suggestion else EvidenceState.MISSING


@dataclass(frozen=True, slots=True)
class EvidenceChecklist:
    items: tuple[EvidenceItem, ...]

    @property
    def present(self) -> tuple[EvidenceItem, ...]:
        return tuple(i for i in self.items if i.present)

    @property
    def missing(self) -> tuple[EvidenceItem, ...]:
        """Every item not in hand, suggested or not."""
        return tuple(i for i in self.items if not i.present)

    @property
    def suggested(self) -> tuple[EvidenceItem, ...]:
        return tuple(i for i in self.items if i.state is EvidenceState.SUGGESTED)

    @property
    def to_ask(self) -> tuple[EvidenceItem, ...]:
        """What the reply asks the buyer for: not in hand, and not already given in words
        (an order number they typed is checked by a person, not asked for twice)."""
        return tuple(i for i in self.items if not i.present and (not i.suggestion or i.ask_again))

    def has(self, key: str) -> bool:
        return any(i.present for i in self.items if i.key == key)

    def given(self, key: str) -> bool:
        """In hand, or given in the buyer's words (a typed order number): nothing to ask for."""
        return any(i.key == key and i not in self.to_ask for i in self.items)


@dataclass(frozen=True, slots=True)
class Hint:
    """Words that suggest an item: what was said, and whether to ask for it again."""

    text: str
    ask_again: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class PersonMark:
    """A person's latest tick (or untick) of an item, with their note."""

    present: bool
    by: str
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceFacts:
    """What the desk holds about a case, as plain values."""

    order: OrderFacts | None = None  # the stored order, when its buyer wrote (else None)
    scans: int = 0  # carrier scans stored for that order
    images: tuple[str, ...] = ()  # file names of the images the customer sent
    uploads: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # item key -> files a person added
    recorded_amount: str = ""  # the money a recorded decision gives back
    recorded_decision: str = ""  # the case's recorded decision ("refund 24.00", "reship")
    buyer_messages: int = 0  # messages from the customer on the case
    policy_version: str = ""
    # item key -> the source of a mark stored by someone other than the router (an import)
    recorded: Mapping[str, str] = field(default_factory=dict)
    marks: Mapping[str, PersonMark] = field(default_factory=dict)  # item key -> a person's latest mark
    hints: Mapping[str, Hint] = field(default_factory=dict)  # item key -> what the words suggest


def assess_evidence(specs: Sequence[EvidenceSpec], facts: EvidenceFacts) -> EvidenceChecklist:
    """Each item of the route's list: present (with the fact), suggested (with the words) or
    missing; a person's mark decides over both."""
    return EvidenceChecklist(tuple(_assess(spec, facts) for spec in specs))


def _assess(spec: EvidenceSpec, facts: EvidenceFacts) -> EvidenceItem:
    fact = _uploaded(facts.uploads.get(spec.key, ())) or _fact(spec.detected_by, facts)
    fact = fact or facts.recorded.get(spec.key, "")
    mark = facts.marks.get(spec.key)
    if mark is not None:
        return _marked(spec, mark, fact)
    if fact:
        return EvidenceItem(spec.key, spec.label, present=True, source=fact)
    hint = facts.hints.get(spec.key)
    if hint is None:
        return EvidenceItem(spec.key, spec.label, present=False, source="")
    return EvidenceItem(
        spec.key, spec.label, present=False, source="", suggestion=hint.text, ask_again=hint.ask_again
    )


def _marked(spec: EvidenceSpec, mark: PersonMark, fact: str) -> EvidenceItem:
    said = f": {mark.note}" if mark.note else ""
    if mark.present:
        return EvidenceItem(spec.key, spec.label, present=True, source=fact or f"marked by {mark.by}{said}")
    # they looked and said no: a fact that seemed to show it stays in sight, words do not
    suggestion = f"{fact}, but {mark.by} unticked it{said}" if fact else ""
    return EvidenceItem(spec.key, spec.label, present=False, source="", suggestion=suggestion)


def _uploaded(files: Sequence[str]) -> str:
    return f"file added: {_names(files)}" if files else ""


def _names(files: Sequence[str]) -> str:
    shown = ", ".join(files[:_SHOWN_FILES])
    more = len(files) - _SHOWN_FILES
    return shown + (f" and {more} more" if more > 0 else "")


def _fact(detected_by: str | None, facts: EvidenceFacts) -> str:
    """A short description of the fact that shows the item, else ""."""
    if not detected_by:
        return ""  # only a person can tick it
    if detected_by == "policy.version":
        version = (facts.order.policy_version if facts.order else "") or facts.policy_version
        return f"policy version {version}" if version else ""
    if detected_by == "photo":
        return f"image attached: {_names(facts.images)}" if facts.images else ""
    if detected_by.startswith("case."):
        return _case_fact(detected_by, facts)
    order = facts.order
    if order is None:
        return _decided_amount(detected_by, facts)
    if detected_by.startswith("order."):
        return _order_fact(detected_by, order)
    finders = {
        "order_number": lambda: f"order #{order.number} linked",
        "tracking_number": lambda: _tracking(order, facts.scans),
        "sku": lambda: _skus(order),
        "money": lambda: _decided_amount(detected_by, facts) or _refunded(order),
    }
    finder = finders.get(detected_by)
    return finder() if finder else ""


def _case_fact(fact: str, facts: EvidenceFacts) -> str:
    """Facts of the case itself: the customer's messages (the support conversation) and a refund
    or reship on record (the recorded decision, else the order's refunds, as the dispute
    packet reads it)."""
    if fact == "case.conversation":
        count = facts.buyer_messages
        return f"{count} message{'s' if count != 1 else ''} from the customer" if count else ""
    if fact == "case.decision":
        if facts.recorded_decision:
            return f"decision: {facts.recorded_decision}"
        order = facts.order
        return _refunded(order) if order is not None else ""
    return ""


def _order_fact(fact: str, order: OrderFacts) -> str:
    known = {  # keys: ORDER_DETECTORS
        "order.last_scan": order.last_scan_at is not None,
        "order.promise_window": order.promise_window_end is not None or order.fulfilled_at is not None,
        "order.items": bool(order.items),
        "order.refunds": True,  # an order snapshot always says what was refunded, even nothing
        "order.fulfilled": order.fulfilled_at is not None,
        "order.fulfillment_known": True,
        "order.delivered": order.delivered_at is not None,
    }
    return f"order {order.number}: {fact.removeprefix('order.')}" if known.get(fact) else ""


def _tracking(order: OrderFacts, scans: int) -> str:
    if not (order.tracking_numbers or scans):
        return ""
    numbers = ", ".join(order.tracking_numbers) or "no number"
    counted = f"; {scans} carrier scan{'s' if scans != 1 else ''}" if scans else ""
    return f"{order.carrier or 'carrier'} {numbers}{counted}".strip()


def _skus(order: OrderFacts) -> str:
    return f"order #{order.number}: {', '.join(i.sku for i in order.items)}" if order.items else ""


def _refunded(order: OrderFacts) -> str:
    return f"refunded {order.refunded} {order.currency}".strip() if order.refunds else ""


def _decided_amount(detected_by: str, facts: EvidenceFacts) -> str:
    if detected_by == "money" and facts.recorded_amount:
        return f"decision recorded: {facts.recorded_amount}"
    return ""


# ---------------------------------------------------------------- what words suggest

_SUGGESTIONS = {
    "photo": "the customer mentions photos ({quote}): none found",
    "order_number": "the message names {quote}: no stored order of theirs by that number",
    "tracking_number": "the message gives {quote}: not on a stored order",
    "sku": "the message names {quote}: no order line confirms it",
    "money": "the message names {quote}: no decision or refund records it",
    "date": "the message names {quote}",
    "email": "the message names {quote}",
}


def word_hints(specs: Sequence[EvidenceSpec], signals: Sequence[Signal], text: str) -> dict[str, Hint]:
    """Items the words of one message suggest (never tick), by item key."""
    hints: dict[str, Hint] = {}
    for spec in specs:
        kind = spec.detected_by or ""
        said = next((s for s in signals if s.kind == kind and kind in _SUGGESTIONS), None)
        if said is not None:
            quote = repr(said.quote(text))
            hints[spec.key] = Hint(_SUGGESTIONS[kind].format(quote=quote), ask_again=kind == "photo")
    return hints


def check_evidence(
    specs: Sequence[EvidenceSpec],
    signals: Sequence[Signal],
    text: str,
    order: OrderFacts | None,
    policy_version: str = "",
) -> EvidenceChecklist:
    """The checklist of one message: its image attachments and the order are facts, its
    words are hints."""
    images = tuple(s.value for s in signals if s.kind == "attachment_image")
    facts = EvidenceFacts(
        order=order, images=images, policy_version=policy_version, hints=word_hints(specs, signals, text)
    )
    return assess_evidence(specs, facts)


# ---------------------------------------------------------------- a stored case's checklist


def case_checklist(
    specs: Mapping[Route, RouteSpec], route: str, stored: Sequence[Mapping[str, Any]], facts: EvidenceFacts
) -> EvidenceChecklist:
    """A stored case's checklist as it stands: its stored items (``evidence_items`` rows: key,
    label, present, source, marked_by), each read by the fact its route names for it, with what
    the rows themselves say. The case page and the dispute packet both read a case this way."""
    facts = replace(
        facts,
        recorded={
            str(e["key"]): str(e["source"] or f"marked by {e['marked_by']}")
            for e in stored
            if e["present"] and e["marked_by"] not in _AUTOMATIC
        },
        # what a stored row says of an item not in hand is the words that suggested it (and the
        # router's old word-ticks are only that too)
        hints={
            str(e["key"]): Hint(str(e["source"]))
            for e in stored
            if e["source"] and (not e["present"] or e["marked_by"] in _AUTOMATIC)
        },
    )
    return assess_evidence(_stored_specs(specs, route, stored), facts)


def _stored_specs(
    specs: Mapping[Route, RouteSpec], route: str, stored: Sequence[Mapping[str, Any]]
) -> list[EvidenceSpec]:
    """The stored items (the route's, and any kept from a route before), each with the fact
    its route names for it."""
    detectors: dict[str, str | None] = {}
    for spec in specs.values():
        for item in spec.evidence:
            detectors.setdefault(item.key, item.detected_by)
    current = specs.get(Route(route)) if route in {r.value for r in Route} else None
    for item in current.evidence if current else ():
        detectors[item.key] = item.detected_by
    return [EvidenceSpec(str(e["key"]), str(e["label"]), detectors.get(str(e["key"]))) for e in stored]


def person_marks(events: Iterable[tuple[str, str, Mapping[str, Any] | None]]) -> dict[str, PersonMark]:
    """Each item's latest tick or untick by a person, from a case's events (kind, actor, data),
    oldest first: the ``evidence_marked`` ones."""
    marks: dict[str, PersonMark] = {}
    for kind, actor, data in events:
        if kind == "evidence_marked":
            said = data or {}
            marks[str(said.get("key", ""))] = PersonMark(
                present=bool(said.get("present")), by=actor, note=str(said.get("note") or "")
            )
    return marks

"""A store's policy: the facts the router, the clocks and the decisions read.

Built from the store's policy file (see ``adapters/policy/file.py``); the domain only sees
this validated value, never the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

from aftersales.domain.routes import Route

if TYPE_CHECKING:  # saved replies read the reply check, which reads the calendar, which reads this
    from aftersales.domain.faq import FaqEntry
    from aftersales.domain.routing.cues import Cue
    from aftersales.domain.saved_replies import SavedReply


class ReturnReason(StrEnum):
    """Why an item goes back; decides who pays the return shipping."""

    PREFERENCE = "preference"  # changed mind, does not like it
    WRONG_SIZE = "wrong_size"
    DAMAGED = "damaged"
    DEFECTIVE = "defective"
    WRONG_ITEM = "wrong_item"
    NOT_AS_DESCRIBED = "not_as_described"


class Payer(StrEnum):
    STORE = "store"
    CUSTOMER = "customer"


ReaderUse = Literal["when_unsure", "always", "never"]
READER_USES: tuple[ReaderUse, ...] = ("when_unsure", "always", "never")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReaderPolicy:
    """The [reader] section: when a configured language model reads messages, and how; whether
    the semantic reader (when installed) reads the messages the router is unsure of."""

    use: ReaderUse = "when_unsure"  # when the local reader is unsure; "always"; "never"
    timeout_seconds: float = 10.0  # one request; a fallback comes within 2 x this + 2 s
    redact: bool = True  # mask e-mail addresses, phones, street addresses, card numbers
    per_minute: int = 30  # requests a minute at most, per process; beyond: the local reading
    semantic: bool = True


@dataclass(frozen=True, slots=True)
class Lead:
    role: str
    name: str
    email: str


@dataclass(frozen=True, slots=True)
class Interval:
    """Opening hours inside one day, local time; ``end`` is exclusive."""

    start: time
    end: time


@dataclass(frozen=True, slots=True)
class ShippingPromise:
    """Promised delivery window for a destination, in business days after fulfilment."""

    destination: str  # ISO country code, or "*" for anywhere else
    min_days: int
    max_days: int


# the server retrains the store's router model after this many new route labels by default
RETRAIN_EVERY = 50


LINK_DAYS = 14  # a rating link works this many days after the reply that carries it


@dataclass(frozen=True, slots=True, kw_only=True)
class SurveyPolicy:
    """``[satisfaction]``: whether a resolving reply carries the rating link (the
    satisfaction survey, domain/satisfaction.py), and how many days the link works."""

    survey: bool = True
    link_days: int = LINK_DAYS


@dataclass(frozen=True, slots=True, kw_only=True)
class StorePolicy:
    store_name: str
    support_email: str
    time_zone: str  # IANA name, e.g. "America/New_York"
    country: str  # ISO 3166-1 alpha-2, for public holidays
    subdivision: str | None
    # weekday (0 = Monday) -> opening intervals; a missing weekday is closed
    business_hours: Mapping[int, tuple[Interval, ...]]
    closures: frozenset[date]
    # per route, overrides of the route's default SLA targets: clock name -> business hours
    # (clock names are the SlaTargets fields: first_response_hours, next_update_hours, ...)
    sla_overrides: Mapping[Route, Mapping[str, float]]
    at_risk_share: float  # share of a target elapsed that makes a clock "at risk"
    shipping_promises: tuple[ShippingPromise, ...]
    stalled_scan_days: int  # a tracking scan older than this many days is stalled
    return_window_days: int
    return_shipping_payer: Mapping[ReturnReason, Payer]
    frontline_refund_limit: Decimal
    currency: str
    leads: Mapping[str, Lead]  # role -> person
    # per route, overrides of RouteSpec fields (text fields, write_back list, evidence list)
    route_overrides: Mapping[Route, Mapping[str, object]] = field(default_factory=dict)
    # the weekly review: the same problem this many times in ``repeat_window_days`` is a
    # product, fulfilment, feed, SKU, policy or message problem, not separate customers
    repeat_threshold: int = 3
    repeat_window_days: int = 7
    # review requests go out this many days after delivery (the buyer has used the product),
    # later while the buyer's automation is on hold, never skipped
    review_request_days: int = 14
    # the server retrains the store's router model after this many new route labels (a
    # re-route or a "confirm route" each); 0: only `aftersales train --from-desk`
    retrain_every: int = RETRAIN_EVERY
    # the satisfaction survey ([satisfaction]): the resolving reply's rating link, on by default
    satisfaction: SurveyPolicy = field(default_factory=SurveyPolicy)
    source: str = "<built-in default>"  # the file it came from, for messages
    # how the next-update clock runs: "between_replies" (every N business hours between public
    # replies) or "after_customer" (N business hours after each unanswered customer message)
    update_mode: str = "between_replies"
    reader: ReaderPolicy = field(default_factory=ReaderPolicy)
    # the language the store writes in (ISO 639-1), and first replies it wrote in others:
    # language -> route -> template ([replies.<language>] in the policy file)
    language: str = "en"
    reply_templates: Mapping[str, Mapping[Route, str]] = field(default_factory=dict)
    # answers an agent inserts into a reply ([[saved_replies]]), and the store's FAQ entries
    # ([[faq]]) the pre-purchase draft answers from
    saved_replies: tuple[SavedReply, ...] = ()
    faq: tuple[FaqEntry, ...] = ()
    # the store's own routing cues ([cues.<route>]), merged over the built-in cue book
    custom_cues: tuple[Cue, ...] = ()
    # the history import: the old tool's tags (compared without case) and the route each means
    # ([history.tag_routes]); a mapped conversation is routed so and kept as a labelled example
    tag_routes: Mapping[str, Route] = field(default_factory=dict)

    def promise_for(self, destination: str | None) -> ShippingPromise | None:
        """The promise window for a destination, falling back to the "*" entry."""
        by_destination = {p.destination.upper(): p for p in self.shipping_promises}
        if destination and destination.upper() in by_destination:
            return by_destination[destination.upper()]
        return by_destination.get("*")

    def lead_for(self, role: str) -> Lead | None:
        return self.leads.get(role)

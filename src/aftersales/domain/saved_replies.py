"""Saved replies: answers a store writes once (``[[saved_replies]]`` in its policy) and an
agent inserts into a reply, filled in with the case's facts.

A saved reply names its route (or "any") and its language; the composer offers those for
the case's route in the customer's language and in the store's. Its text may use the
variables in ``VARIABLES``, written ``{first_name}``; ``{{`` and ``}}`` are literal braces.
The policy check refuses any other brace, so a typo is caught when the policy is loaded,
not in a customer's mailbox. A variable the case has no value for is left empty and named
in ``FilledReply.missing``, so the agent sees what to add by hand.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from aftersales.domain.greetings import greeting
from aftersales.domain.orders import ScanStatus
from aftersales.domain.replies import format_moment, render_reply
from aftersales.domain.routes import Route

ANY_ROUTE = "any"

VARIABLES: Mapping[str, str] = {
    "first_name": "the customer's first name, from the name they gave (never from their e-mail address)",
    "order_number": 'the case\'s order number, "#1043"',
    "last_scan": 'the last carrier scan: status, place and time, "in transit (Memphis, TN), Monday 30 November, 13:00 EST"',
    "promised_time": "the next update the case has promised (with none ahead: the route's next-update target from now), in the store's time zone",
    "lead": "the name of the case's lead",
    "greeting": '"Hello Anna," (or "Hello," without a name), in the saved reply\'s language',
    "store_name": "the store's name",
}

# "{{" and "}}" are literal braces, "{name}" a variable; any other brace is a mistake
_TOKEN = re.compile(r"\{\{|\}\}|\{(\w*)\}|[{}]")
_SPACE_BEFORE_COMMA = re.compile(r"[ \t]+,")


@dataclass(frozen=True, slots=True, kw_only=True)
class SavedReply:
    name: str
    text: str
    language: str
    route: Route | None = None  # None: any route

    @property
    def route_name(self) -> str:
        return self.route.value if self.route is not None else ANY_ROUTE


def template_problems(text: str) -> list[str]:
    """What is wrong with a saved reply's text: unknown variables and stray braces."""
    problems: list[str] = []
    allowed = ", ".join(f"{{{name}}}" for name in VARIABLES)
    strays = [t for t in _TOKEN.finditer(text) if t.group() not in ("{{", "}}") and not t.group(1)]
    if strays:
        near = text[max(0, strays[0].start() - 10) : strays[0].end() + 10].strip()
        problems.append(
            f"has a brace that is not a variable, near {near!r}; a variable is written "
            "{first_name} (no spaces); write {{ or }} for a literal brace"
        )
    for token in _TOKEN.finditer(text):
        name = token.group(1)
        if name and name not in VARIABLES:
            close = difflib.get_close_matches(name, list(VARIABLES), n=1)
            guess = f" (did you mean {{{close[0]}}}?)" if close else ""
            problems.append(f"uses the unknown variable {{{name}}}{guess}; the variables are: {allowed}")
    return problems


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyFacts:
    """What a case knows that a saved reply may say; times are in the store's zone."""

    store_name: str
    first_name: str = ""
    order_number: str = ""  # "#1043"
    last_scan_status: ScanStatus | None = None
    last_scan_at: datetime | None = None
    last_scan_location: str = ""
    promised_at: datetime | None = None
    lead: str = ""


@dataclass(frozen=True, slots=True)
class FilledReply:
    name: str
    route: str  # a route or "any"
    language: str
    text: str
    missing: tuple[str, ...]  # variables the text uses that the case has no value for

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "route": self.route,
            "language": self.language,
            "text": self.text,
            "missing": list(self.missing),
        }


def offered(saved: Iterable[SavedReply], route: Route, languages: Sequence[str]) -> list[SavedReply]:
    """The saved replies for ``route`` (and "any"), in ``languages``, by language in the order
    given, then as the policy lists them."""
    fitting = [s for s in saved if (s.route is None or s.route is route) and s.language in languages]
    return sorted(fitting, key=lambda s: languages.index(s.language))


def fill(saved: SavedReply, facts: ReplyFacts) -> FilledReply:
    values = values_for(facts, saved.language)
    used = [m.group(1) for m in _TOKEN.finditer(saved.text) if m.group(1)]
    missing = tuple(dict.fromkeys(name for name in used if not values.get(name)))
    text = _SPACE_BEFORE_COMMA.sub(",", render_reply(saved.text, values))
    return FilledReply(saved.name, saved.route_name, saved.language, text, missing)


def values_for(facts: ReplyFacts, language: str) -> dict[str, str]:
    return {
        "first_name": facts.first_name,
        "order_number": facts.order_number,
        "last_scan": last_scan_text(facts, language),
        "promised_time": format_moment(facts.promised_at, language) if facts.promised_at else "",
        "lead": facts.lead,
        "greeting": greeting(facts.first_name, language),
        "store_name": facts.store_name,
    }


def last_scan_text(facts: ReplyFacts, language: str) -> str:
    """ "in transit (Memphis, TN), Monday 30 November, 13:00 EST", in ``language``."""
    if facts.last_scan_at is None:
        return ""
    words = SCAN_WORDS.get(language, SCAN_WORDS["en"])
    status = words[facts.last_scan_status] if facts.last_scan_status is not None else ""
    place = facts.last_scan_location
    head = f"{status} ({place})" if status and place else status or place
    moment = format_moment(facts.last_scan_at, language)
    return f"{head}, {moment}" if head else moment


_S = ScanStatus
SCAN_WORDS: Mapping[str, Mapping[ScanStatus, str]] = {
    "en": {
        _S.LABEL_PURCHASED: "label created",
        _S.LABEL_PRINTED: "label printed",
        _S.CONFIRMED: "confirmed by the carrier",
        _S.CARRIER_PICKED_UP: "picked up by the carrier",
        _S.IN_TRANSIT: "in transit",
        _S.OUT_FOR_DELIVERY: "out for delivery",
        _S.ATTEMPTED_DELIVERY: "delivery attempted",
        _S.READY_FOR_PICKUP: "ready for pickup",
        _S.DELAYED: "delayed",
        _S.DELIVERED: "delivered",
        _S.FAILURE: "delivery failed",
        _S.LOST: "lost",
        _S.RETURNED_TO_SENDER: "returned to sender",
    },
    "fr": {
        _S.LABEL_PURCHASED: "étiquette créée",
        _S.LABEL_PRINTED: "étiquette imprimée",
        _S.CONFIRMED: "confirmé par le transporteur",
        _S.CARRIER_PICKED_UP: "pris en charge par le transporteur",
        _S.IN_TRANSIT: "en transit",
        _S.OUT_FOR_DELIVERY: "en cours de livraison",
        _S.ATTEMPTED_DELIVERY: "tentative de livraison",
        _S.READY_FOR_PICKUP: "prêt à être retiré",
        _S.DELAYED: "retardé",
        _S.DELIVERED: "livré",
        _S.FAILURE: "échec de la livraison",
        _S.LOST: "perdu",
        _S.RETURNED_TO_SENDER: "retourné à l'expéditeur",
    },
    "de": {
        _S.LABEL_PURCHASED: "Versandetikett erstellt",
        _S.LABEL_PRINTED: "Versandetikett gedruckt",
        _S.CONFIRMED: "vom Versanddienst bestätigt",
        _S.CARRIER_PICKED_UP: "vom Versanddienst abgeholt",
        _S.IN_TRANSIT: "unterwegs",
        _S.OUT_FOR_DELIVERY: "in Zustellung",
        _S.ATTEMPTED_DELIVERY: "Zustellversuch",
        _S.READY_FOR_PICKUP: "abholbereit",
        _S.DELAYED: "verzögert",
        _S.DELIVERED: "zugestellt",
        _S.FAILURE: "Zustellung fehlgeschlagen",
        _S.LOST: "verloren",
        _S.RETURNED_TO_SENDER: "an den Absender zurück",
    },
    "es": {
        _S.LABEL_PURCHASED: "etiqueta creada",
        _S.LABEL_PRINTED: "etiqueta impresa",
        _S.CONFIRMED: "confirmado por el transportista",
        _S.CARRIER_PICKED_UP: "recogido por el transportista",
        _S.IN_TRANSIT: "en tránsito",
        _S.OUT_FOR_DELIVERY: "en reparto",
        _S.ATTEMPTED_DELIVERY: "intento de entrega",
        _S.READY_FOR_PICKUP: "listo para recoger",
        _S.DELAYED: "retrasado",
        _S.DELIVERED: "entregado",
        _S.FAILURE: "entrega fallida",
        _S.LOST: "perdido",
        _S.RETURNED_TO_SENDER: "devuelto al remitente",
    },
}

"""A reading of a customer message: the route and what supports it, and who read it.

Two readers produce one: the local reader (the cue book, signals and learned model, always
on and offline) and, when a store configures one, a language model (see
``adapters/reader/llm.py``). The card, intake and the desk take the route from the reading.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from aftersales.domain.orders import OrderFacts
from aftersales.domain.routes import Route
from aftersales.domain.routing.router import Routing
from aftersales.domain.signals import Signal

ReadBy = Literal["local", "llm", "local_fallback"]
READ_BY: tuple[ReadBy, ...] = ("local", "llm", "local_fallback")


@dataclass(frozen=True, slots=True)
class Quote:
    """The customer's own words that support the reading, and where they are in the text."""

    text: str
    start: int  # -1 when the words could not be placed in the original text
    end: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Reading:
    route: Route
    secondary: tuple[Route, ...] = ()
    flags: frozenset[str] = frozenset()
    quotes: tuple[Quote, ...] = ()
    language: str = ""  # ISO 639-1, "" when unknown
    order_refs: tuple[str, ...] = ()
    confidence: float = 0.0
    # a person should check the route: the local reader is unsure of it, or a second reader
    # read another route than the local one
    unsure: bool = False
    read_by: ReadBy = "local"
    note: str = ""  # why the reader read it so, or why the local reading stands (the fallback)
    local_route: Route | None = None  # what the local reader read, when another reader read it


@dataclass(frozen=True, slots=True)
class MessageAttachment:
    content_type: str
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageToRead:
    text: str
    subject: str = ""
    channel: str = ""
    attachments: tuple[MessageAttachment, ...] = ()
    order: OrderFacts | None = None
    # spans of ``text`` that identify no one and that a reader needs (order and tracking
    # numbers): never masked
    keep: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class ReadingExample:
    """A message the store's desk routed by hand: shown to the language model as an example."""

    text: str
    route: Route


def local_reading(routing: Routing, signals: Sequence[Signal]) -> Reading:
    """The local reader's reading: the router's route and the words that carried it."""
    quotes = tuple(
        dict.fromkeys(Quote(t.quote, t.start, t.end) for t in routing.trace if t.start >= 0 and t.quote)
    )
    return Reading(
        route=routing.route,
        secondary=routing.secondary,
        flags=frozenset(s.value for s in signals if s.kind == "flag"),
        quotes=quotes,
        language=routing.language,
        order_refs=tuple(dict.fromkeys(s.value for s in signals if s.kind == "order_number")),
        confidence=routing.confidence,
        unsure=routing.unsure,
        read_by="local",
    )


def reading_to_dict(reading: Reading) -> dict[str, Any]:
    """The reading as JSON-ready data (what the reader cache stores)."""
    return {
        "route": reading.route.value,
        "secondary": [r.value for r in reading.secondary],
        "flags": sorted(reading.flags),
        "quotes": [[q.text, q.start, q.end] for q in reading.quotes],
        "language": reading.language,
        "order_refs": list(reading.order_refs),
        "confidence": reading.confidence,
        "unsure": reading.unsure,
        "read_by": reading.read_by,
        "note": reading.note,
        "local_route": reading.local_route.value if reading.local_route else None,
    }


def reading_from_dict(data: Mapping[str, Any]) -> Reading:
    """A reading stored by ``reading_to_dict``; ValueError/KeyError/TypeError when it is not one."""
    read_by = str(data["read_by"])
    if read_by not in READ_BY:
        raise ValueError(f"unknown reader {read_by!r}")
    return Reading(
        route=Route(data["route"]),
        secondary=tuple(Route(r) for r in data["secondary"]),
        flags=frozenset(str(f) for f in data["flags"]),
        quotes=tuple(Quote(str(t), int(s), int(e)) for t, s, e in data["quotes"]),
        language=str(data["language"]),
        order_refs=tuple(str(r) for r in data["order_refs"]),
        confidence=float(data["confidence"]),
        unsure=bool(data["unsure"]),
        read_by="llm" if read_by == "llm" else "local" if read_by == "local" else "local_fallback",
        note=str(data["note"]),
        local_route=Route(data["local_route"]) if data.get("local_route") else None,
    )

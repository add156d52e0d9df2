"""What the language-model reader asks, and how its answer is checked.

The prompt is built from the route table as data (the store's overrides included) and a few
of the store's own corrected messages; the answer must be JSON of ``answer_schema`` and is
checked whatever the server promised: a route outside the table, an unknown flag or a quote
that is not in the message makes it a ``BadAnswer``, and the caller keeps the local reading.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from aftersales.domain.orders import OrderFacts
from aftersales.domain.reading import MessageToRead, Quote, Reading, ReadingExample
from aftersales.domain.redaction import RedactedText
from aftersales.domain.routes import RISK_ORDER, Route, RouteSpec
from aftersales.domain.signals import FLAG_NAMES

# Changing the wording or the schema changes this, so cached readings of the old prompt are
# not reused.
PROMPT_VERSION = "reader-1"
MAX_EXAMPLES = 8
# a model that gives no confidence is taken as middling: its route leads, a person may check it
UNSTATED_CONFIDENCE = 0.5
EXAMPLE_CHARS = 400
_FLAG_MEANINGS: Mapping[str, str] = {
    "angry": "the customer is angry or sarcastic about the service",
    "asks_refund": "the customer asks for their money back",
    "mentions_photo": "the customer sends or offers a photo",
    "threatens_dispute": "the customer threatens a chargeback, a bank or PayPal claim, or a public complaint",
    "asks_human": "the customer asks for a person",
}


class BadAnswer(Exception):
    """The model's answer cannot be used; the message says why (it goes in the trace)."""


def answer_schema(routes: Sequence[Route]) -> dict[str, Any]:
    names = [r.value for r in routes]
    return {
        "type": "object",
        "properties": {
            "route": {"type": "string", "enum": names},
            "secondary_routes": {"type": "array", "items": {"type": "string", "enum": names}},
            "flags": {"type": "array", "items": {"type": "string", "enum": list(FLAG_NAMES)}},
            "quotes": {"type": "array", "items": {"type": "string"}},
            "language": {"type": "string"},
            "order_refs": {"type": "array", "items": {"type": "string"}},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "reason": {"type": "string"},
        },
        "required": ["route", "secondary_routes", "flags", "quotes", "language", "confidence", "reason"],
        "additionalProperties": False,
    }


def system_prompt(specs: Mapping[Route, RouteSpec], examples: Sequence[ReadingExample] = ()) -> str:
    routes = "\n".join(
        f"- {route.value}: {spec.title}. {spec.correct_route}" for route, spec in specs.items()
    )
    flags = "\n".join(f"- {name}: {meaning}" for name, meaning in _FLAG_MEANINGS.items())
    lines = [
        "You read messages that customers send to an online store's support desk and say which",
        "route each one takes. Customers often imply the problem instead of naming it, use sarcasm,",
        "mix two issues, or write in another language. Pick the one route the store must act on",
        "first; put any other issue in secondary_routes. Use other for spam and messages that fit no route.",
        "",
        "Routes:",
        routes,
        "",
        "Flags (raise only those the message shows):",
        flags,
        "",
        "quotes: the customer's exact words (copied character for character) that show the route.",
        "language: the ISO 639-1 code of the message. order_refs: order numbers exactly as written.",
        "confidence: 0 to 1. reason: one short sentence. Parts like [email] or [phone] were masked.",
        "",
        "Conventions: a message with several issues takes the riskiest of their routes, riskiest first:",
        ", ".join(r.value for r in RISK_ORDER if r in specs) + ".",
        "A parcel that is late, stuck, missing or shown delivered but not received is",
        "shipping_delay. A product review that asks for nothing is review; one saying the product",
        "broke is damaged_item. Gift cards, coupons, prices and membership questions before buying",
        "are pre_purchase. Matters that are not about buying from a shop (flights, phone or internet",
        "service, banking, app logins, chatter, spam) are other.",
        "Answer with JSON only.",
    ]
    chosen = [e for e in examples if e.route in specs][-MAX_EXAMPLES:]
    if chosen:
        lines += ["", "Messages this store's desk routed by hand:"]
        lines += [
            f"{json.dumps(e.text[:EXAMPLE_CHARS], ensure_ascii=False)} -> {e.route.value}" for e in chosen
        ]
    return "\n".join(lines)


def user_prompt(message: MessageToRead, text: str) -> str:
    """The message as the model sees it: ``text`` is its (masked) text."""
    parts = []
    if message.channel:
        parts.append(f"Channel: {message.channel}")
    if message.attachments:
        parts.append("Attachments: " + ", ".join(a.content_type for a in message.attachments))
    if message.order is not None:
        parts.append("Order: " + order_summary(message.order))
    parts.append("Message:\n" + text)
    return "\n".join(parts)


def order_summary(order: OrderFacts) -> str:
    """What the order says about delivery, without anything that names the buyer."""
    facts = [f"placed {order.placed_at:%Y-%m-%d}" if order.placed_at else "placed (date unknown)"]
    if order.fulfilled_at is not None:
        facts.append(f"shipped {order.fulfilled_at:%Y-%m-%d}")
    if order.last_scan_status is not None:
        facts.append(f"last carrier scan: {order.last_scan_status.value.replace('_', ' ')}")
    if order.delivered_at is not None:
        facts.append(f"delivered {order.delivered_at:%Y-%m-%d}")
    if order.refunds:
        facts.append("partly or fully refunded")
    return "; ".join(facts)


def chat_request(model: str, system: str, user: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    """The body of a chat-completions request asking for JSON of ``schema``."""
    return {
        "model": model,
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
        "temperature": 0,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "reading", "schema": dict(schema), "strict": True},
        },
    }


def cache_key(model: str, system: str, message: MessageToRead, text: str) -> str:
    """The same (masked) message under the same prompt, route table and examples: one key.

    The order's facts are left out of the key: intake reads a message before it looks the
    order up, and the case page must find that same reading, not ask again."""
    unordered = user_prompt(dataclasses.replace(message, order=None), text)
    body = json.dumps([PROMPT_VERSION, model, system, unordered], ensure_ascii=False)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def answer_content(body: object) -> str:
    """The assistant's text in a chat-completions response body."""
    try:
        content = body["choices"][0]["message"]["content"]  # type: ignore[index]
    except (KeyError, IndexError, TypeError):
        raise BadAnswer("the answer is not a chat completion (no choices[0].message.content)") from None
    if not isinstance(content, str):
        raise BadAnswer("the answer's message content is not text")
    return content


def read_answer(content: str, routes: Sequence[Route], sent: RedactedText) -> Reading:
    """The model's reading, checked against the route table and the text it was sent."""
    data = _json_object(content)
    route = _route(data.get("route"), routes, "route")
    secondary = tuple(_route(r, routes, "secondary_routes") for r in _strings(data, "secondary_routes"))
    flags = _strings(data, "flags")
    unknown = [f for f in flags if f not in FLAG_NAMES]
    if unknown:
        raise BadAnswer(f"flags outside the flag list: {', '.join(unknown)}")
    return Reading(
        route=route,
        secondary=tuple(dict.fromkeys(r for r in secondary if r is not route)),
        flags=frozenset(flags),
        quotes=tuple(_quote(q, sent) for q in _strings(data, "quotes")),
        language=_language(data.get("language")),
        order_refs=tuple(r for r in _strings(data, "order_refs") if r and r in sent.text),
        confidence=_confidence(data.get("confidence")),
        read_by="llm",
        note=str(data.get("reason") or "")[:300],
    )


def _json_object(content: str) -> Mapping[str, Any]:
    text = _without_fence(content)
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        data = _embedded_object(text)
    if data is None:
        raise BadAnswer(f"the answer is not JSON: {content[:60]!r}")
    if not isinstance(data, dict):
        raise BadAnswer("the answer is JSON but not an object")
    return data


def _embedded_object(text: str) -> object:
    """The object in "Here is the reading: {...}" (a server that ignored response_format)."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        return json.loads(text[start : end + 1])
    except (json.JSONDecodeError, RecursionError):
        return None


def _without_fence(content: str) -> str:
    """Some servers wrap JSON in a Markdown code fence even when asked for JSON."""
    text = content.strip()
    if text.startswith("```") and text.endswith("```"):
        text = text[3:-3].removeprefix("json").strip()
    return text


def _route(value: object, routes: Sequence[Route], key: str) -> Route:
    names = {r.value: r for r in routes}
    # "Shipping delay" is the route shipping_delay; "lost_parcel" is no route
    name = value.strip().lower().replace(" ", "_") if isinstance(value, str) else None
    if name not in names:
        raise BadAnswer(f"{key} {value!r} is not in the route table")
    return names[name]


def _strings(data: Mapping[str, Any], key: str) -> list[str]:
    value = data.get(key) or []  # left out or null: none
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadAnswer(f"{key} must be a list of strings")
    return value


def _quote(quote: str, sent: RedactedText) -> Quote:
    start = sent.text.find(quote) if quote.strip() else -1
    if start < 0:
        start = sent.text.casefold().find(quote.casefold()) if quote.strip() else -1
    if start < 0:
        raise BadAnswer(f"the quote {quote[:60]!r} is not in the message")
    place = sent.to_original(start, start + len(quote))
    return Quote(quote, *place) if place else Quote(quote, -1, -1)


def _language(value: object) -> str:
    text = value.strip().lower() if isinstance(value, str) else ""
    return text if len(text) == 2 and text.isalpha() else ""


def _confidence(value: object) -> float:
    if value is None:
        return UNSTATED_CONFIDENCE
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadAnswer("confidence must be a number")
    return round(min(1.0, max(0.0, float(value))), 3)

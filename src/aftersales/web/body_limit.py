"""A cap on every request's body, enforced while it is read and before anything else runs.

A pure ASGI middleware (Starlette's BaseHTTPMiddleware would buffer the body it is meant to
guard). FastAPI 0.165 and Starlette 1.10 have a ``max_body_size`` of their own, but the project
supports FastAPI from 0.115, their answer is plain text rather than the API's error shape, and
its caps are fixed when routes are declared, before the settings are read. A request whose Content-Length is over its route's cap is answered 413 at once, before
authentication and before a byte of the body is read; a chunked body is counted as it arrives
and the request is stopped with 413 as soon as it goes over. So an anonymous 300 MB body costs
the server its buffers, never 300 MB.

Caps are per route: most bodies are small forms and JSON (``Settings.max_body_bytes``, 1 MB);
the evidence upload takes a file (``Settings.max_upload_bytes`` plus room for its form); the
policy check and the message API take long texts; Shopify's webhooks are small.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aftersales.settings import Settings
from aftersales.web.errors import error_body

MB = 1024 * 1024
LONG_TEXT_BYTES = 2 * MB  # 200,000 characters of text, JSON-escaped or form-encoded
WEBHOOK_BYTES = 2 * MB  # Shopify's payloads are far smaller
FORM_OVERHEAD_BYTES = 1 * MB  # an upload's form fields and multipart framing


@dataclass(frozen=True, slots=True)
class RouteCap:
    """Bodies of ``method`` requests whose path matches ``path`` may be at most ``bytes``."""

    method: str
    path: re.Pattern[str]
    bytes: int


def body_caps(settings: Settings) -> list[RouteCap]:
    """The routes whose cap differs from ``settings.max_body_bytes``."""
    return [
        RouteCap("POST", re.compile(r"/cases/\d+/evidence"), settings.max_upload_bytes + FORM_OVERHEAD_BYTES),
        RouteCap("POST", re.compile(r"/webhooks/shopify"), WEBHOOK_BYTES),
        RouteCap("POST", re.compile(r"/api/messages|/api/policy/check|/policy"), LONG_TEXT_BYTES),
    ]


class BodyTooLarge(HTTPException):
    """Raised into whoever reads the body once it goes over the cap; answered 413."""

    def __init__(self, cap: int) -> None:
        super().__init__(413, too_large_message(cap))


def too_large_message(cap: int) -> str:
    size = f"{cap / MB:g} MB" if cap >= MB else f"{cap} bytes"
    return f"the request body is over this route's limit of {size}"


class BodyLimit:
    """The ASGI middleware: ``default`` bytes for every route but those in ``caps``."""

    def __init__(self, app: ASGIApp, *, default: int, caps: Sequence[RouteCap] = ()) -> None:
        self.app, self.default, self.caps = app, default, tuple(caps)

    def cap_for(self, method: str, path: str) -> int:
        for cap in self.caps:
            if cap.method == method and cap.path.fullmatch(path):
                return max(cap.bytes, self.default)
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.cap_for(scope["method"], scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > cap:
            await _refuse(scope, send, cap)
            return
        counted = _CountedBody(receive, cap)
        refused = started = False

        async def send_unless_refused(message: Message) -> None:
            # Layers inside may turn the exception into a 400 or a 500 of their own (a
            # BaseHTTPMiddleware wraps it in an ExceptionGroup): whatever they answer, it is a 413.
            nonlocal refused, started
            if message["type"] == "http.response.start":
                if counted.over and not started:
                    refused = True
                    await _refuse(scope, send, cap)
                started = True
            if not refused:
                await send(message)

        try:
            await self.app(scope, counted.receive, send_unless_refused)
        except Exception:
            if not counted.over or started:
                raise  # a response already begun cannot become a 413: the server ends it
        if counted.over and not started:
            await _refuse(scope, send, cap)


@dataclass(slots=True)
class _CountedBody:
    inner: Receive
    cap: int
    received: int = 0
    over: bool = False

    async def receive(self) -> Message:
        message = await self.inner()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.cap:
                self.over = True
                raise BodyTooLarge(self.cap)
        return message


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            # the server (h11, httptools) has already refused a malformed value
            return int(value) if value.isdigit() else None
    return None


async def _refuse(scope: Scope, send: Send, cap: int) -> None:
    """413 in the API's error shape, or a small page for a browser; the connection is closed,
    since the unread body would otherwise be the next request."""
    message = too_large_message(cap)
    path: str = scope["path"]
    accept = dict(scope["headers"]).get(b"accept", b"").decode("latin-1")
    if path.startswith(("/api/", "/webhooks/")) or "json" in accept or not _wants_html(accept):
        body = json.dumps(error_body(413, "too_large", message)).encode()
        kind = b"application/json"
    else:
        body = f"<!doctype html><title>Too large</title><h1>413</h1><p>{html.escape(message)}.</p>".encode()
        kind = b"text/html; charset=utf-8"
    headers = [
        (b"content-type", kind),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        (b"x-content-type-options", b"nosniff"),
        (b"content-security-policy", b"default-src 'none'"),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _wants_html(accept: str) -> bool:
    return "text/html" in accept

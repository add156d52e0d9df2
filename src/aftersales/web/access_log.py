"""One access-log line per request on the logger ``aftersales.access``: method, path without
its query string (a search may hold a customer's e-mail), status, milliseconds, user id or "-".

A plain ASGI middleware (not Starlette's BaseHTTPMiddleware), so streamed responses pass
through untouched and a request that fails still gets its line.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("aftersales.access")


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless a response starts
        state = scope.setdefault("state", {})  # made here, so a copied scope still shares it

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            milliseconds = (time.perf_counter() - started) * 1000
            log.info(
                "%s %s %s %.0fms %s",
                scope["method"],
                scope["path"],
                status,
                milliseconds,
                state.get("user_id", "-"),
            )

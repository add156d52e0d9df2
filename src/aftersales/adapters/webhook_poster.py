"""Outbound webhook deliveries over HTTP (httpx2): one POST per attempt, with a timeout, no
redirects followed (a receiver that moved is a failure the admin sees, not a hop to wherever a
``Location`` points), and never an exception for a receiver that is down, slow or refuses:
the answer (or what went wrong) is the delivery log's line.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import httpx2

from aftersales.domain.outbound_webhooks import EXCERPT_LENGTH, TIMEOUT_SECONDS
from aftersales.ports import PostAnswer

_READ_AT_MOST = EXCERPT_LENGTH * 4  # bytes of an answer read: the log keeps an excerpt


class HttpWebhookPoster:
    """``client`` (e.g. one with a test transport) is used as given; by default one is made
    with ``timeout`` seconds for connecting, writing and the answer."""

    def __init__(self, client: httpx2.Client | None = None, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self.client = client or httpx2.Client(timeout=timeout, follow_redirects=False)

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> PostAnswer:
        started = time.monotonic()
        try:
            with self.client.stream("POST", url, content=body, headers=dict(headers)) as answer:
                read = b""
                for chunk in answer.iter_bytes():
                    read += chunk
                    if len(read) >= _READ_AT_MOST:
                        break
                return PostAnswer(answer.status_code, read[:_READ_AT_MOST], "", time.monotonic() - started)
        except httpx2.TimeoutException:
            error = f"no answer within {self.client.timeout.read or TIMEOUT_SECONDS:g} s"
        except httpx2.HTTPError as error_:
            error = f"{type(error_).__name__}: {error_}"
        return PostAnswer(None, b"", error[:500], time.monotonic() - started)

    def close(self) -> None:
        self.client.close()

"""The language-model reader: any OpenAI-compatible chat-completions server (Ollama, llama.cpp's
server, vLLM, LM Studio, a hosted provider) reads a message into a route.

The prompt, the masking and the checks of the answer are pure (``domain/reader_prompt.py``,
``domain/redaction.py``); this module only sends and waits. Whatever goes wrong (no answer
in time, a 429 or 5xx, an answer that is not a valid reading) is retried once, then the local
reading stands with ``read_by = "local_fallback"`` and the reason in its note. The whole
call, retry included, ends within 2 x ``timeout_seconds`` + 2 s. Nothing here talks to a
customer: the reader only reads.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx2

from aftersales.domain.policy import ReaderPolicy
from aftersales.domain.reader_prompt import (
    PROMPT_VERSION,
    BadAnswer,
    answer_content,
    answer_schema,
    cache_key,
    chat_request,
    read_answer,
    system_prompt,
    user_prompt,
)
from aftersales.domain.reading import (
    MessageToRead,
    Reading,
    ReadingExample,
    reading_from_dict,
    reading_to_dict,
)
from aftersales.domain.redaction import RedactedText, redact
from aftersales.domain.routes import Route, RouteSpec
from aftersales.ports import ReadingCache

RETRY_BACKOFF_SECONDS = 0.5
MAX_RETRY_AFTER_SECONDS = 2.0
# The whole read, cache included, ends within two timeouts and this: the promise is 2 x
# timeout + 2 s, and the rest is left to the process around it (a command's start-up).
SLACK_SECONDS = 1.0


class _Failed(Exception):
    """One attempt failed: the reason, and whether trying again may help."""

    def __init__(self, reason: str, *, retry_after: float | None = None, waited: bool = False) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.waited = waited  # the attempt already waited its whole timeout: retry at once
        self.refused = False  # the server refused the request itself (HTTP 400, 422)


class LlmReader:
    """Implements ``ports.Reader`` over one chat-completions endpoint."""

    def __init__(  # noqa: PLR0913  (keyword-only: wiring names each part)
        self,
        *,
        base_url: str,
        model: str,
        policy: ReaderPolicy,
        specs: Mapping[Route, RouteSpec],
        api_key: str | None = None,
        examples: Callable[[], Sequence[ReadingExample]] = tuple,
        cache: Callable[[], ReadingCache | None] = lambda: None,
        transport: httpx2.BaseTransport | None = None,
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.policy = policy
        self._specs = specs
        self._api_key = api_key
        self._examples = examples
        self._cache_factory = cache
        self._transport = transport
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()
        self._client: tuple[int, httpx2.Client] | None = None
        self._cache: tuple[int, ReadingCache | None] | None = None

    def read(self, message: MessageToRead, local: Reading) -> Reading:
        deadline = time.monotonic() + 2 * self.policy.timeout_seconds + SLACK_SECONDS
        if self.policy.use == "never":
            return dataclasses.replace(
                local, note='the language model was not asked ([reader] use = "never")'
            )
        if self.policy.use == "when_unsure" and not local.unsure:
            return dataclasses.replace(
                local,
                note=f"the local reader was sure (confidence {local.confidence:g}); "
                'the language model reads only unsure messages ([reader] use = "when_unsure")',
            )
        sent = redact(message.text, message.keep) if self.policy.redact else RedactedText(message.text)
        system = system_prompt(self._specs, self._shown_examples())
        request = chat_request(
            self.model, system, user_prompt(message, sent.text), answer_schema(list(self._specs))
        )
        key = cache_key(self.model, system, message, sent.text)
        cached = self._cached(key)
        if cached is not None:
            return _beside(cached, local)
        if not self._may_send():
            return _fallback(local, f"the per-minute limit of {self.policy.per_minute} requests was reached")
        try:
            reading = self._ask(request, sent, deadline)
        except _Failed as failure:
            return _fallback(local, str(failure))
        self._store(key, reading)
        return _beside(reading, local)

    def _shown_examples(self) -> list[ReadingExample]:
        """The store's corrected messages, masked like the message itself."""
        examples = list(self._examples())
        if not self.policy.redact:
            return examples
        return [ReadingExample(redact(e.text).text, e.route) for e in examples]

    # --- one request, retried once --------------------------------------------------------------

    def _ask(self, request: Mapping[str, Any], sent: RedactedText, deadline: float) -> Reading:
        timeout = self.policy.timeout_seconds
        try:
            return self._attempt(request, sent, min(timeout, deadline - time.monotonic()))
        except _Failed as first:
            backoff = 0.0 if first.waited else (first.retry_after or RETRY_BACKOFF_SECONDS)
            pause = min(backoff, MAX_RETRY_AFTER_SECONDS)
            left = deadline - time.monotonic() - pause
            if left <= 0.1:
                raise _Failed(f"{first}; no time left to retry") from None
            if not self._may_send():
                raise _Failed(f"{first}; the per-minute limit was reached before the retry") from None
            time.sleep(pause)
            if first.refused:  # a server without structured outputs: the prompt still asks for JSON
                request = {k: v for k, v in request.items() if k != "response_format"}
            try:
                return self._attempt(request, sent, min(timeout, left))
            except _Failed as second:
                raise _Failed(f"{first}; retried: {second}") from None

    def _attempt(self, request: Mapping[str, Any], sent: RedactedText, timeout: float) -> Reading:
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        try:
            response = self._http().post(self.url, json=dict(request), headers=headers, timeout=timeout)
        except httpx2.TimeoutException:
            raise _Failed(f"no answer within {timeout:.3g} s", waited=True) from None
        except (httpx2.HTTPError, httpx2.InvalidURL, OSError) as error:
            raise _Failed(f"cannot reach {self.url} ({type(error).__name__})") from None
        if response.status_code == 429 or response.status_code >= 500:
            raise _Failed(f"HTTP {response.status_code}", retry_after=_retry_after(response))
        if not response.is_success:
            failure = _Failed(f"HTTP {response.status_code}: {response.text[:120]!r}")
            failure.refused = response.status_code in (400, 422)
            raise failure
        try:
            return read_answer(answer_content(response.json()), list(self._specs), sent)
        except ValueError:
            raise _Failed("the answer is not JSON") from None
        except BadAnswer as error:
            raise _Failed(str(error)) from None

    # --- what this process keeps -----------------------------------------------------------------

    def _http(self) -> httpx2.Client:
        """One client per process: bulk intake forks workers, and a connection pool must not
        be shared across a fork."""
        if self._client is None or self._client[0] != os.getpid():
            self._client = (os.getpid(), httpx2.Client(transport=self._transport))
        return self._client[1]

    def _cache_here(self) -> ReadingCache | None:
        if self._cache is None or self._cache[0] != os.getpid():
            try:
                cache = self._cache_factory()
            except Exception:  # a cache that cannot open costs requests, never the reading
                cache = None
            self._cache = (os.getpid(), cache)
        return self._cache[1]

    def _cached(self, key: str) -> Reading | None:
        cache = self._cache_here()
        found = cache.get(key) if cache is not None else None
        if found is None:
            return None
        try:
            reading = reading_from_dict(found)
        except (KeyError, TypeError, ValueError):
            return None  # a reading of an older shape: ask again
        return dataclasses.replace(reading, note=(reading.note + " (cached reading)").strip())

    def _store(self, key: str, reading: Reading) -> None:
        cache = self._cache_here()
        if cache is not None:
            cache.put(key, PROMPT_VERSION, reading_to_dict(reading))

    def _may_send(self) -> bool:
        """At most ``per_minute`` requests in any 60 seconds, in this process."""
        now = time.monotonic()
        with self._lock:
            while self._sent and now - self._sent[0] >= 60:
                self._sent.popleft()
            if len(self._sent) >= self.policy.per_minute:
                return False
            self._sent.append(now)
            return True


def _beside(reading: Reading, local: Reading) -> Reading:
    """The model's reading, with the local one's route, and unsure when the two disagree or
    the local reader was unsure (a person checks the route)."""
    return dataclasses.replace(
        reading, local_route=local.route, unsure=local.unsure or reading.route is not local.route
    )


def _retry_after(response: httpx2.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("retry-after", "")))
    except ValueError:
        return None


def _fallback(local: Reading, reason: str) -> Reading:
    return dataclasses.replace(local, read_by="local_fallback", note=f"language model not used: {reason}")

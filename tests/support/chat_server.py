"""A chat-completions server on 127.0.0.1 for the language-model reader's tests.

It speaks the OpenAI-compatible protocol the reader uses (the one Ollama, llama.cpp's server,
vLLM and LM Studio serve): ``POST {base}/chat/completions`` with a JSON body of ``model``,
``messages`` and ``response_format``, answered with ``{"id", "object": "chat.completion",
"created", "model", "choices": [{"index", "message": {"role": "assistant", "content"},
"finish_reason"}], "usage"}``; see https://platform.openai.com/docs/api-reference/chat/create.
Errors come as ``{"error": {"message", "type", "code"}}`` with their HTTP status.

A test scripts its answers in order (``server.script``): each is an ``Answer`` (the content
of the assistant's message, or a status and raw body, and a delay before answering). When
the script runs out the server answers ``server.default``. ``server.requests`` records every
request body received, as bytes and as JSON.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Answer:
    content: str = ""  # the assistant's message content (the reading, as JSON text)
    status: int = 200
    raw: bytes | None = None  # the whole body instead of a chat completion
    delay: float = 0.0  # seconds to wait before answering
    headers: tuple[tuple[str, str], ...] = ()


def reading(route: str, *, quotes: tuple[str, ...] = (), flags: tuple[str, ...] = (), **more: Any) -> Answer:
    """A well-formed answer reading the message as ``route``."""
    body = {
        "route": route,
        "secondary_routes": [],
        "flags": list(flags),
        "quotes": list(quotes),
        "language": "en",
        "order_refs": [],
        "confidence": 0.9,
        "reason": f"reads as {route}",
    } | more
    return Answer(json.dumps(body))


def error(status: int, message: str = "busy", **headers: str) -> Answer:
    body = json.dumps({"error": {"message": message, "type": "server_error", "code": status}})
    return Answer(status=status, raw=body.encode(), headers=tuple(headers.items()))


@dataclass
class ChatServer:
    base_url: str = ""
    script: list[Answer] = field(default_factory=list)
    default: Answer = field(default_factory=lambda: reading("other"))
    requests: list[bytes] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)  # each request's Authorization header
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_answer(self, body: bytes) -> Answer:
        with self.lock:
            self.requests.append(body)
            return self.script.pop(0) if self.script else self.default

    def received(self) -> list[dict[str, Any]]:
        return [json.loads(body) for body in self.requests]


def _handler(server: ChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if not self.path.endswith("/chat/completions"):
                self._send(404, json.dumps({"error": {"message": "not found"}}).encode(), ())
                return
            server.authorizations.append(self.headers.get("Authorization", ""))
            answer = server.next_answer(body)
            time.sleep(answer.delay)
            payload = answer.raw if answer.raw is not None else _completion(answer.content, body)
            self._send(answer.status, payload, answer.headers)

        def _send(self, status: int, payload: bytes, headers: tuple[tuple[str, str], ...]) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the reader gave up waiting (the timeout tests)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (the stdlib's name)
            pass

    return Handler


def _completion(content: str, request: bytes) -> bytes:
    model = json.loads(request).get("model", "")
    return json.dumps(
        {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
    ).encode()


@contextmanager
def serving() -> Iterator[ChatServer]:
    """A running server on a free port of 127.0.0.1, stopped when the block ends."""
    server = ChatServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    httpd.daemon_threads = True
    server.base_url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    httpd.shutdown()
    httpd.server_close()

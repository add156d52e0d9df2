"""Conversations in the ``aftersales`` history format (docs/history-import.md), as lines of a
JSON-lines file: ``conversation(...)`` builds one, ``write_lines`` a file of them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def msg(  # noqa: PLR0913  (keyword-only: each test names what it sets)
    message_id: str,
    at: str,
    direction: str = "in",
    body: str = "Hello, where is my order?",
    *,
    sender: str = "anna@example.com",
    attachments: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    return {
        "id": message_id,
        "from": sender,
        "at": at,
        "direction": direction,
        "body": body,
        "attachments": list(attachments),
    }


def conversation(  # noqa: PLR0913  (keyword-only: each test names what it sets)
    conversation_id: str,
    *messages: dict[str, Any],
    status: str = "closed",
    created_at: str = "2025-03-03T09:00:00+00:00",
    closed_at: str | None = "2025-03-04T10:00:00+00:00",
    tags: Sequence[str] = (),
    email: str = "anna@example.com",
    order: str = "1043",
    assignee: str = "",
    subject: str = "Order question",
) -> dict[str, Any]:
    return {
        "id": conversation_id,
        "subject": subject,
        "status": status,
        "created_at": created_at,
        "closed_at": closed_at,
        "tags": list(tags),
        "customer": {"email": email, "name": "Anna Berg"},
        "order": order,
        "assignee": assignee,
        "messages": list(messages),
    }


def write_lines(path: Path, lines: Sequence[dict[str, Any] | str]) -> Path:
    """Each item a line: a dict as JSON, a string as it is (a broken line)."""
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    path.write_text(text, encoding="utf-8")
    return path


# A small history: a closed conversation with a reply and a note, an open one, two bad lines.
STORY = [
    conversation(
        "T-1",
        msg("m1", "2025-03-03T09:00:00+00:00", "in", "My order 1043 has not arrived, tracking is stuck."),
        msg(
            "m2", "2025-03-03T11:30:00+00:00", "out", "Sorry Anna, I have asked the carrier.", sender="Priya"
        ),
        msg(
            "m3",
            "2025-03-03T11:31:00+00:00",
            "note",
            "carrier ticket opened",
            sender="Priya",
            attachments=[{"name": "ticket.pdf", "content_type": "application/pdf", "size": 1234}],
        ),
        tags=["wismo"],
        assignee="priya@example.com",
    ),
    conversation(
        "T-2",
        msg(
            "m1",
            "2025-03-05T09:00:00+00:00",
            "in",
            "The mug arrived cracked, photo attached.",
            sender="bob@example.com",
        ),
        status="open",
        closed_at=None,
        email="bob@example.com",
        order="1044",
        tags=["damage"],
        created_at="2025-03-05T09:00:00+00:00",
    ),
    # line 3: a time without an offset; line 4: no messages
    {**conversation("T-3", msg("m1", "2025-03-05T09:00:00+00:00")), "created_at": "2025-03-05 09:00"},
    conversation("T-4"),
]

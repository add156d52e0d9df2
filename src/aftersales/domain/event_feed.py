"""The case timeline read as a feed: each consumer (outbound webhooks, notifications) reads
the events after its cursor, acts on them, and moves its cursor in the same transaction, so
an event is acted on once however many workers run. Events of imported cases are history
and never appear in the feed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class FeedConsumer(StrEnum):
    """Who reads the feed; the values are stable: they name rows of ``event_cursors``."""

    WEBHOOKS = "webhooks"
    NOTIFICATIONS = "notifications"


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedEvent:
    """One line of a case's timeline, with its place in the feed (``id``, ascending)."""

    id: int
    case_id: int
    kind: str  # as domain/cases.py::Event.kind: case_opened, routed, rerouted, status_changed, ...
    at: datetime
    actor: str
    data: Mapping[str, Any] = field(default_factory=dict)

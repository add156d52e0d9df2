"""Write-back tasks: a lesson from repeated cases (or a catalogue defect) turned into an owned
change to the store's FAQ, policies, product pages, feed or SKU data, with a due date and the
next time someone looks at it again. A task stays open, week after week, until closed with a
note."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Target(StrEnum):
    """Where a lesson is written back (the seed's list)."""

    FAQ = "faq"
    SHIPPING_POLICY = "shipping_policy"
    RETURN_POLICY = "return_policy"
    SHIPPING_NOTIFICATION = "shipping_notification"
    PRODUCT_PAGE = "product_page"
    VARIANT_IMAGES = "variant_images"
    SKU_NAMING = "sku_naming"
    FEED_SYNC = "feed_sync"
    PACKAGING_RULES = "packaging_rules"
    SUPPLIER_REVIEW = "supplier_review"
    WAREHOUSE_PICK_RULES = "warehouse_pick_rules"
    QA_SAMPLING = "qa_sampling"
    LIFECYCLE_EMAIL = "lifecycle_email"
    REVIEW_REQUEST_TIMING = "review_request_timing"
    REPLY_SNIPPETS = "reply_snippets"


class TaskSource(StrEnum):
    WEEKLY_REVIEW = "weekly_review"
    FEED_AUDIT = "feed_audit"
    CASE = "case"


class TaskStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskDraft:
    """A task as a finding proposes it; ``key`` names what it is about, stably across runs
    ("repeat|wrong_item|sku|TUM-20-BLK"), so the next run finds the same task."""

    key: str
    source: TaskSource
    target: Target
    title: str
    detail: str = ""
    route: str = ""
    owner_role: str = ""
    owner_name: str = ""
    evidence: Mapping[str, Any] = field(default_factory=dict)
    due_at: datetime | None = None
    next_review_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Task:
    """A stored task."""

    id: int
    draft: TaskDraft
    status: TaskStatus
    created_at: datetime
    last_seen_at: datetime | None = None
    closed_at: datetime | None = None
    closed_by: str = ""
    close_note: str = ""

    @property
    def is_open(self) -> bool:
        return self.status is TaskStatus.OPEN


def task_to_dict(task: Task) -> dict[str, Any]:
    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment is not None else None

    draft = task.draft
    return {
        "id": task.id,
        "key": draft.key,
        "source": draft.source.value,
        "target": draft.target.value,
        "title": draft.title,
        "detail": draft.detail,
        "route": draft.route,
        "owner": {"role": draft.owner_role, "name": draft.owner_name},
        "evidence": dict(draft.evidence),
        "status": task.status.value,
        "created_at": iso(task.created_at),
        "due_at": iso(draft.due_at),
        "next_review_at": iso(draft.next_review_at),
        "last_seen_at": iso(task.last_seen_at),
        "closed_at": iso(task.closed_at),
        "closed_by": task.closed_by,
        "close_note": task.close_note,
    }

"""Product reviews read from a review app's export (Judge.me, Yotpo): plain values and the
rules that decide what a review does on the desk."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

# A review at or below this many stars opens a review case and holds the buyer's automation.
LOW_RATING = 2
MIN_RATING, MAX_RATING = 1, 5


class ReviewSource(StrEnum):
    """The review app an export came from; stable in the database (``reviews.source``)."""

    JUDGEME = "judgeme"
    YOTPO = "yotpo"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportedReview:
    """One review as the export gives it; ``line`` is its CSV line number."""

    source: ReviewSource
    external_id: str  # the export's review id, else a SHA-256 of the identifying fields
    rating: int
    title: str = ""
    body: str = ""
    reviewer_email: str = ""
    reviewer_name: str = ""
    order_reference: str = ""  # the export's order id or number, as given ("" when absent)
    product_handle: str = ""
    reviewed_at: datetime | None = None
    line: int = 0


@dataclass(frozen=True, slots=True)
class ReviewProblem:
    """A row of an export that cannot be used: where, and why."""

    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class OrderMatch:
    """An order the desk holds that a review names, with what matching needs from it."""

    number: str
    skus: tuple[str, ...]
    customer_email: str = ""
    customer_name: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewRecord:
    """A review as the desk stores it: the export's values plus what the desk matched."""

    source: ReviewSource
    external_id: str
    rating: int
    title: str
    body: str
    reviewer_email: str
    reviewer_name: str
    order_number: str  # a number the desk holds, "" when none matched
    sku: str  # "" when no single SKU could be told
    product_handle: str
    reviewed_at: datetime | None
    case_id: int | None = None


def opens_case(rating: int) -> bool:
    return rating <= LOW_RATING


def order_references(reference: str) -> tuple[str, ...]:
    """The order numbers an export's order reference may be stored as: as given, without and
    with a leading "#" (Shopify shows "#1043"; the desk stores "1043")."""
    given = reference.strip()
    bare = given.lstrip("#").strip()
    if not bare:
        return ()
    return tuple(dict.fromkeys((given, bare, f"#{bare}")))


def review_sku(order: OrderMatch | None, handle_sku: str) -> str:
    """The reviewed SKU: the matched order's, when it holds one SKU; else the product's, when
    its handle has one SKU (``handle_sku``); else ""."""
    skus = set(order.skus) if order is not None else set()
    if len(skus) == 1:
        return skus.pop()
    return handle_sku


def hold_reason(record: ReviewRecord) -> str:
    stars = "star" if record.rating == 1 else "stars"
    return f"review: {record.rating} {stars} ({record.source.value})"


def review_subject(record: ReviewRecord) -> str:
    product = record.sku or record.product_handle or "the store"
    title = f": {record.title}" if record.title else ""
    return f"{record.rating}-star review of {product}{title}"

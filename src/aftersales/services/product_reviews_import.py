"""Import a review app's export: every review is stored, matched to the order and SKU the desk
holds; a review of two stars or less opens a review case through the normal intake (clocks,
evidence, card) and puts the buyer's automation on hold. Importing the same file twice
changes nothing: stored reviews are compared, and the case message's dedupe key is derived
from the review's source and id.

A review is handled in up to four short transactions (read, take in, hold, store), in an
order that a rerun completes: a run stopped after the case was opened finds that case again
by the message id and stores the review then.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from aftersales.domain.evidence import EvidenceItem
from aftersales.domain.messages import Channel, InboundMessage
from aftersales.domain.product_reviews import (
    ExportedReview,
    OrderMatch,
    ReviewProblem,
    ReviewRecord,
    ReviewSource,
    hold_reason,
    opens_case,
    order_references,
    review_sku,
    review_subject,
)
from aftersales.domain.routes import Route
from aftersales.ports import EvidenceStore, UnitOfWork
from aftersales.services.intake import Incoming, Outcome, take_in
from aftersales.services.routing import RoutingKit


class ReviewRepository(Protocol):
    """Stored reviews and the look-ups matching needs, in one unit of work."""

    def stored_review(self, source: ReviewSource, external_id: str) -> ReviewRecord | None: ...
    def matching_order(self, numbers: Sequence[str]) -> OrderMatch | None:
        """The first stored order whose number is one of ``numbers``, else one whose Shopify
        id is, else None."""
        ...

    def single_sku(self, handle: str) -> str:
        """The SKU of the product with this handle when it has exactly one, else ""."""
        ...

    def save_review(self, record: ReviewRecord, at: datetime) -> None:
        """Insert the review, or update the stored one with the same source and id."""
        ...


class ReviewUnitOfWork(Protocol):
    """``with reviews() as repo:`` runs one transaction; leaving the block commits it."""

    def __call__(self) -> AbstractContextManager[ReviewRepository]: ...


@dataclass(frozen=True, slots=True)
class ReviewDesk:
    """Where an import writes: reviews, the case desk, and the routing kit intake uses."""

    reviews: ReviewUnitOfWork
    cases: UnitOfWork
    kit: RoutingKit


class StoreOutcome(StrEnum):
    STORED = "stored"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class ReviewOutcome:
    stored: StoreOutcome
    case_opened: bool = False
    held: bool = False


@dataclass(frozen=True, slots=True)
class ReviewImportSummary:
    stored: int = 0  # new reviews
    updated: int = 0  # stored before, changed since (an edited review, a newly matched order)
    unchanged: int = 0
    cases_opened: int = 0
    held: int = 0  # buyers whose automation this import put on hold
    failures: tuple[ReviewProblem, ...] = ()

    @property
    def failed(self) -> int:
        return len(self.failures)


def import_reviews(
    desk: ReviewDesk,
    reviews: Iterable[ExportedReview | ReviewProblem],
    *,
    now: datetime,
    on_each: Callable[[int], None] | None = None,
) -> ReviewImportSummary:
    """Import every review; ``on_each`` is told how many have been handled so far."""
    counts: Counter[str] = Counter()
    failures: list[ReviewProblem] = []
    for handled, item in enumerate(reviews, 1):
        if isinstance(item, ReviewProblem):
            failures.append(item)
        else:
            outcome = import_review(desk, item, now)
            counts.update([outcome.stored.value] + ["opened"] * outcome.case_opened + ["held"] * outcome.held)
        if on_each is not None:
            on_each(handled)
    return ReviewImportSummary(
        stored=counts[StoreOutcome.STORED.value],
        updated=counts[StoreOutcome.UPDATED.value],
        unchanged=counts[StoreOutcome.UNCHANGED.value],
        cases_opened=counts["opened"],
        held=counts["held"],
        failures=tuple(sorted(failures, key=lambda problem: problem.line)),
    )


def import_review(desk: ReviewDesk, review: ExportedReview, now: datetime) -> ReviewOutcome:
    with desk.reviews() as repo:
        stored = repo.stored_review(review.source, review.external_id)
        numbers = order_references(review.order_reference)
        order = repo.matching_order(numbers) if numbers else None
        handle_sku = repo.single_sku(review.product_handle) if review.product_handle else ""
    record = _record(review, order, handle_sku, stored.case_id if stored else None)
    needs_case = opens_case(record.rating) and record.case_id is None
    if record == stored and not needs_case:
        return ReviewOutcome(StoreOutcome.UNCHANGED)
    opened = held = False
    if needs_case:
        case_id, opened, held = _open_review_case(desk, record, order, now)
        record = dataclasses.replace(record, case_id=case_id)
    with desk.reviews() as repo:
        repo.save_review(record, now)
    return ReviewOutcome(StoreOutcome.STORED if stored is None else StoreOutcome.UPDATED, opened, held)


def _record(
    review: ExportedReview, order: OrderMatch | None, handle_sku: str, case_id: int | None
) -> ReviewRecord:
    return ReviewRecord(
        source=review.source,
        external_id=review.external_id,
        rating=review.rating,
        title=review.title,
        body=review.body,
        reviewer_email=review.reviewer_email,
        reviewer_name=review.reviewer_name,
        order_number=order.number if order else "",
        sku=review_sku(order, handle_sku),
        product_handle=review.product_handle,
        reviewed_at=review.reviewed_at,
        case_id=case_id,
    )


def _open_review_case(
    desk: ReviewDesk, record: ReviewRecord, order: OrderMatch | None, now: datetime
) -> tuple[int | None, bool, bool]:
    """The review's case (opened now, or found again on a rerun), whether it was opened now,
    and whether the buyer's automation is on hold."""
    message = review_message(record, order, now)
    reason = hold_reason(record)
    # intake holds a review's buyer itself, with the review's reason, not the router's
    incoming = Incoming(message, _source_label(record), hold_reason=reason)
    result = take_in(desk.cases, desk.kit, incoming, now=now)
    case_id = result.case_id
    with desk.cases() as cases:
        if case_id is None:  # taken in by a run that stopped before the review was stored
            case_id = cases.case_for_message_ids([message.message_id])
        if case_id is None:
            return None, False, False
        _mark_evidence(cases, case_id, record, message.sent_at)
        if not message.from_address:
            return case_id, result.outcome is Outcome.NEW_CASE, False
        customer = cases.customer_id(message.from_address, message.from_name, message.sent_at)
        cases.hold_automation(customer, case_id, reason, message.sent_at)
    return case_id, result.outcome is Outcome.NEW_CASE, True


def _mark_evidence(cases: EvidenceStore, case_id: int, record: ReviewRecord, at: datetime) -> None:
    """The review itself, and the SKU it was matched to, are evidence the case already has."""
    shown = {"review_text": f"{_source_label(record)}: {record.rating} stars"}
    if record.sku:
        shown["sku"] = f"{_source_label(record)}: {record.sku}"
    labels = {row["key"]: row["label"] for row in cases.evidence_of(case_id)}
    items = [
        EvidenceItem(key, labels[key], present=True, source=source)
        for key, source in shown.items()
        if key in labels
    ]
    if items:
        cases.set_evidence(case_id, items, "review import", at, keep_present=True)


def review_message(record: ReviewRecord, order: OrderMatch | None, now: datetime) -> InboundMessage:
    """The review as a customer message on the review channel, routed as a review whatever
    its text says. The buyer is the reviewer, else the matched order's customer."""
    text = "\n\n".join(part for part in (record.title, record.body) if part)
    text = text or f"A {record.rating}-star review without text."
    reference = f"{record.source.value}:{record.external_id}"
    digest = hashlib.sha256(reference.encode("utf-8")).hexdigest()[:32]
    return InboundMessage(
        message_id=f"review.{record.source.value}.{digest}@aftersales.invalid",
        dedupe_key=f"review:{reference}",
        channel=Channel.REVIEW,
        from_address=record.reviewer_email or (order.customer_email if order else ""),
        from_name=record.reviewer_name or (order.customer_name if order else ""),
        to_addresses=(),
        subject=review_subject(record),
        sent_at=record.reviewed_at or now,
        body=text,
        full_body=text,
        html="",
        order_hint=record.order_number,
        route_hint=Route.REVIEW,
    )


def _source_label(record: ReviewRecord) -> str:
    return f"{record.source.value} review {record.external_id}"

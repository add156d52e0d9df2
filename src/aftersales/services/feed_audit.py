"""The feed audit as a use case: the feed read against the products export, each finding
linked to the cases it explains, and one write-back task filed per finding.

Filing is idempotent on the finding's key (``feed|<kind>|<sku>``): a rerun refreshes the open
task's evidence instead of opening another, and a defect that comes back after its task was
closed opens a new one. Nothing is written when the inputs could not be read: the adapters
raise before the audit starts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from aftersales.domain.catalogue import ProductVariant
from aftersales.domain.feed_audit import (
    OWNER_ROLES,
    STOCK_PHRASES,
    CaseLink,
    CaseRef,
    Catalogue,
    FeedFinding,
    FeedItem,
    FeedProblem,
    FindingKind,
    audit,
    links_for,
    mentions,
)
from aftersales.domain.orders import OrderProblem
from aftersales.domain.policy import StorePolicy
from aftersales.domain.writeback import Task, TaskDraft, TaskSource

# a feed fix is due within a week, and looked at again at the next weekly review
DUE_AFTER = timedelta(days=7)


class FeedLinks(Protocol):
    def cases_on_skus(self, skus: Sequence[str]) -> Mapping[str, Sequence[CaseRef]]: ...

    def cases_saying(self, phrases: Sequence[str], mentions: Sequence[str]) -> Sequence[CaseRef]: ...


class TaskFiler(Protocol):
    def file(self, draft: TaskDraft, at: datetime) -> tuple[Task, bool]: ...


FeedLinksUnitOfWork = Callable[[], AbstractContextManager[FeedLinks]]
TasksUnitOfWork = Callable[[], AbstractContextManager[TaskFiler]]


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditInputs:
    """What the adapters read: the feed's items (or problems) and the export's variants (or
    problems)."""

    feed: Sequence[FeedItem | FeedProblem]
    products: Iterable[ProductVariant | OrderProblem]


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditedFinding:
    finding: FeedFinding
    cases: tuple[CaseLink, ...] = ()
    task_id: int | None = None
    task_is_new: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedAudit:
    items: int
    variants: int
    findings: tuple[AuditedFinding, ...]
    feed_problems: tuple[FeedProblem, ...]
    product_problems: tuple[OrderProblem, ...]

    @property
    def is_clean(self) -> bool:
        return not (self.findings or self.feed_problems or self.product_problems)

    @property
    def tasks_opened(self) -> int:
        return sum(1 for audited in self.findings if audited.task_is_new)


def audit_feed(
    inputs: AuditInputs,
    links: FeedLinksUnitOfWork | None,
    tasks: TasksUnitOfWork | None,
    policy: StorePolicy,
    at: datetime,
) -> FeedAudit:
    """Audit the feed; link cases when ``links`` is given, file tasks when ``tasks`` is."""
    items = [item for item in inputs.feed if isinstance(item, FeedItem)]
    variants: list[ProductVariant] = []
    product_problems: list[OrderProblem] = []
    for entry in inputs.products:
        if isinstance(entry, ProductVariant):
            variants.append(entry)
        else:
            product_problems.append(entry)
    catalogue = Catalogue(variants)
    findings = audit(items, catalogue, policy.currency)
    linked = (
        _linked(findings, catalogue, links)
        if links is not None
        else [AuditedFinding(finding=f) for f in findings]
    )
    if tasks is not None:
        linked = _filed(linked, tasks, policy, at)
    return FeedAudit(
        items=len(items),
        variants=len(variants),
        findings=tuple(linked),
        feed_problems=tuple(item for item in inputs.feed if isinstance(item, FeedProblem)),
        product_problems=tuple(sorted(product_problems, key=lambda problem: problem.line)),
    )


def _linked(
    findings: Sequence[FeedFinding], catalogue: Catalogue, links: FeedLinksUnitOfWork
) -> list[AuditedFinding]:
    with links() as repo:
        on_skus = repo.cases_on_skus([finding.sku for finding in findings])
        linked = []
        for finding in findings:
            saying: Sequence[CaseRef] = ()
            if finding.kind is FindingKind.AVAILABILITY_MISMATCH:
                variant = catalogue.by_sku.get(finding.sku.casefold())
                saying = repo.cases_saying(STOCK_PHRASES, mentions(variant, finding.sku))
            cases = links_for(finding, on_skus.get(finding.sku, ()), saying)
            linked.append(AuditedFinding(finding=finding, cases=cases))
    return linked


def _filed(
    linked: Sequence[AuditedFinding], tasks: TasksUnitOfWork, policy: StorePolicy, at: datetime
) -> list[AuditedFinding]:
    filed = []
    with tasks() as repo:
        for audited in linked:
            task, is_new = repo.file(task_draft(audited, policy, at), at)
            filed.append(
                AuditedFinding(
                    finding=audited.finding, cases=audited.cases, task_id=task.id, task_is_new=is_new
                )
            )
    return filed


def task_draft(audited: AuditedFinding, policy: StorePolicy, at: datetime) -> TaskDraft:
    finding, rule = audited.finding, audited.finding.rule
    role = OWNER_ROLES[rule.target]
    lead = policy.lead_for(role)
    return TaskDraft(
        key=finding.key,
        source=TaskSource.FEED_AUDIT,
        target=rule.target,
        title=f"{finding.sku}: {rule.diagnostic}",
        detail=(
            f"Feed item {finding.feed_id} ({finding.where}): the feed has {finding.feed_value or 'nothing'!r}, "
            f"the shop has {finding.shop_value or 'nothing'!r}. Fix it at the source and resync the feed."
        ),
        owner_role=role,
        owner_name=lead.name if lead is not None else "",
        evidence={
            "kind": finding.kind.value,
            "severity": rule.severity.value,
            "feed_id": finding.feed_id,
            "where": finding.where,
            "feed_value": finding.feed_value,
            "shop_value": finding.shop_value,
            "cases": [link.case.id for link in audited.cases],
        },
        due_at=at + DUE_AFTER,
        next_review_at=at + DUE_AFTER,
    )

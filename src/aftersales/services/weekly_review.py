"""The weekly review: count the week's cases, find the repeats, file one write-back task per
repeat (idempotent: a rerun finds the same tasks), and list the open tasks carried over
from earlier weeks. Closing a task needs a note: what was changed, where.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from aftersales.domain.errors import InputError
from aftersales.domain.weekly_review import (
    ClockTally,
    Dimension,
    DimensionCount,
    Owner,
    RepeatFinding,
    RepeatGroup,
    ReviewedFinding,
    ReviewWeek,
    RouteBook,
    WeeklyReview,
    attainment,
    comes_back,
    findings,
    review_week,
    task_draft,
    task_due,
)
from aftersales.domain.writeback import Task, TaskDraft, TaskSource, TaskStatus
from aftersales.services.routing import RoutingKit
from aftersales.services.trends import DEFAULT_WEEKS, TrendFacts, trend_of

MAX_NOTE_CHARS = 5000


class ReviewCounts(Protocol):
    def case_count(self, start: datetime, until: datetime) -> int: ...
    def dimension_counts(self, start: datetime, until: datetime) -> list[DimensionCount]: ...
    def repeat_groups(self, since: datetime, until: datetime, threshold: int) -> list[RepeatGroup]: ...
    def count_since(
        self, route: str, dimension: Dimension, value: str, since: datetime, until: datetime
    ) -> int: ...
    def clock_tallies(self, start: datetime, until: datetime) -> list[ClockTally]: ...


class TaskRepository(Protocol):
    def file(self, draft: TaskDraft, at: datetime) -> tuple[Task, bool]: ...
    def tasks_for_keys(self, keys: Sequence[str]) -> dict[str, Task]: ...
    def file_many(self, drafts: Sequence[TaskDraft], at: datetime) -> list[tuple[Task, bool]]:
        """``file`` for each draft, in order (in a few statements)."""
        ...

    def task(self, task_id: int) -> Task: ...
    def tasks(self, status: TaskStatus | None = ..., source: TaskSource | None = ...) -> list[Task]: ...
    def close(self, task_id: int, by: str, note: str, at: datetime) -> Task: ...


class ReviewStore(Protocol):
    @property
    def cases(self) -> ReviewCounts: ...
    @property
    def tasks(self) -> TaskRepository: ...
    @property
    def trends(self) -> TrendFacts: ...


ReviewUnitOfWork = Callable[[], AbstractContextManager[ReviewStore]]


def run_review(
    uow: ReviewUnitOfWork,
    kit: RoutingKit,
    *,
    day: date,
    now: datetime,
    file_tasks: bool = True,
    trend_weeks: int = DEFAULT_WEEKS,
) -> WeeklyReview:
    """Review the week containing ``day`` (up to ``now`` if it is still running), with the
    trend of the ``trend_weeks`` weeks that end with it (0: no trend)."""
    policy = kit.policy
    week = review_week(day, now=now, zone=policy.time_zone, repeat_window_days=policy.repeat_window_days)
    if week.start > now:
        raise InputError(f"the week of {day.isoformat()} has not started yet", "--week")
    threshold = max(1, policy.repeat_threshold)
    with uow() as store:
        groups = store.cases.repeat_groups(week.repeat_since, week.until, max(1, threshold - 1))
        found = findings(groups, threshold, route_book(kit))
        plan = _Filing(week, task_due(week, kit.calendar), threshold, now)
        reviewed = _file_all(store, found, plan) if file_tasks else _preview(store, found)
        seen = {r.task.id for r in reviewed if r.task is not None}
        return WeeklyReview(
            week=week,
            threshold=threshold,
            window_days=policy.repeat_window_days,
            cases=store.cases.case_count(week.start, week.until),
            counts=store.cases.dimension_counts(week.start, week.until),
            findings=reviewed,
            watch=_watch(groups, threshold),
            attainment=attainment(store.cases.clock_tallies(week.start, week.until)),
            carried_over=[task for task in store.tasks.tasks(TaskStatus.OPEN) if task.id not in seen],
            generated_at=now,
            filed=file_tasks,
            trend=trend_of(store.trends, kit, last_day=day, weeks=trend_weeks, now=now)
            if trend_weeks
            else None,
        )


def route_book(kit: RoutingKit) -> RouteBook:
    """Each route's write-back list and owner (the route's lead role and the person in it)."""
    owners = {}
    for route, spec in kit.specs.items():
        lead = kit.policy.lead_for(spec.lead)
        owners[route.value] = Owner(role=spec.lead, name=lead.name if lead else "")
    return RouteBook(
        write_back={route.value: spec.write_back for route, spec in kit.specs.items()},
        owners=owners,
    )


def _watch(groups: Sequence[RepeatGroup], threshold: int) -> list[RepeatGroup]:
    return sorted(
        (g for g in groups if g.count < threshold and g.dimension is not Dimension.REASON),
        key=lambda g: (-g.count, g.route, g.dimension.value, g.value),
    )


@dataclass(frozen=True, slots=True)
class _Filing:
    week: ReviewWeek
    due: datetime
    threshold: int
    now: datetime


def _known_tasks(store: ReviewStore, found: Sequence[RepeatFinding]) -> dict[str, Task]:
    """The findings' tasks by key (a key filed again after a close is renamed on the old
    task, so a key names one task)."""
    return store.tasks.tasks_for_keys([f.key for f in found])


def _preview(store: ReviewStore, found: Sequence[RepeatFinding]) -> list[ReviewedFinding]:
    known = _known_tasks(store, found)
    return [ReviewedFinding(finding=f, task=known.get(f.key)) for f in found]


def _file_all(store: ReviewStore, found: Sequence[RepeatFinding], plan: _Filing) -> list[ReviewedFinding]:
    known = _known_tasks(store, found)
    staying_closed = {
        f.key: task
        for f in found
        if (task := known.get(f.key)) is not None
        and not task.is_open
        and not _came_back(store, f, task, plan)
    }
    to_file = [f for f in found if f.key not in staying_closed]
    drafts = [task_draft(f, week=plan.week, due_at=plan.due) for f in to_file]
    filed = dict(zip((f.key for f in to_file), store.tasks.file_many(drafts, plan.now), strict=True))
    reviewed = []
    for finding in found:
        if finding.key in staying_closed:
            reviewed.append(ReviewedFinding(finding=finding, task=staying_closed[finding.key]))
        else:
            task, is_new = filed[finding.key]
            reviewed.append(ReviewedFinding(finding=finding, task=task, is_new=is_new))
    return reviewed


def _came_back(store: ReviewStore, finding: RepeatFinding, closed: Task, plan: _Filing) -> bool:
    """A closed task's repeat is new again only when it repeated (the threshold) after the
    close: the cases that led to the change are no reason to reopen it."""
    group, closed_at = finding.group, closed.closed_at
    if closed_at is None or group.last_opened_at <= closed_at:
        return False
    since = max(closed_at, plan.week.repeat_since)
    again = store.cases.count_since(group.route, group.dimension, group.value, since, plan.week.until)
    return comes_back(again, plan.threshold)


def open_tasks(uow: ReviewUnitOfWork, *, include_closed: bool = False) -> list[Task]:
    with uow() as store:
        return store.tasks.tasks(None if include_closed else TaskStatus.OPEN)


def close_task(uow: ReviewUnitOfWork, task_id: int, *, by: str, note: str, now: datetime) -> Task:
    """Close a task with a note saying what was changed (a task closed without one teaches
    the next reviewer nothing)."""
    note = note.strip()
    if not note:
        raise InputError("closing a write-back task needs a note: what was changed, and where", "--note")
    if len(note) > MAX_NOTE_CHARS:
        raise InputError(f"the note is longer than {MAX_NOTE_CHARS} characters", "--note")
    with uow() as store:
        return store.tasks.close(task_id, by, note, now)

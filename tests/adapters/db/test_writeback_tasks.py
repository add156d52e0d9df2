"""Write-back tasks carry over: filing the same finding again refreshes the open task; a task
closed with a note stays closed, and the finding coming back opens a new one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.adapters.db.writeback_tasks import tasks_unit_of_work
from aftersales.domain.errors import InputError
from aftersales.domain.writeback import Target, TaskDraft, TaskSource, TaskStatus

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def draft(count: int) -> TaskDraft:
    return TaskDraft(
        key="repeat|wrong_item|sku|TUM-20-BLK",
        source=TaskSource.WEEKLY_REVIEW,
        target=Target.WAREHOUSE_PICK_RULES,
        title="Wrong colour sent for TUM-20-BLK",
        route="wrong_item",
        owner_role="operations",
        owner_name="Marco Diaz",
        evidence={"cases": list(range(count))},
        due_at=MONDAY + timedelta(days=7),
        next_review_at=MONDAY + timedelta(days=7),
    )


def test_a_finding_filed_twice_is_one_task_until_closed(uow: SqlUnitOfWork, engine: Engine) -> None:
    tasks = tasks_unit_of_work(engine)
    with tasks() as repo:
        first, new = repo.file(draft(3), MONDAY)
    assert new
    with tasks() as repo:
        again, new = repo.file(draft(4), MONDAY + timedelta(days=7))
        open_tasks = repo.tasks()
    assert (new, again.id, again.draft.evidence["cases"]) == (False, first.id, [0, 1, 2, 3])
    assert [t.id for t in open_tasks] == [first.id]

    with tasks() as repo:
        closed = repo.close(
            first.id, "marco@northwind.example", "Pick bins relabelled", MONDAY + timedelta(days=8)
        )
        with pytest.raises(InputError, match="already closed"):
            repo.close(first.id, "x", "y", MONDAY)
    assert (closed.status, closed.close_note) == (TaskStatus.CLOSED, "Pick bins relabelled")

    with tasks() as repo:
        back, new = repo.file(draft(3), MONDAY + timedelta(days=14))
        everything = repo.tasks(status=None)
    assert new
    assert back.id != first.id
    assert {t.status for t in everything} == {TaskStatus.OPEN, TaskStatus.CLOSED}

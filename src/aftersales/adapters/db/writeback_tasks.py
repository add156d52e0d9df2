"""Write-back tasks on SQLAlchemy Core: one repository per unit of work (``tasks_unit_of_work``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, insert, select, update

from aftersales.adapters.db import schema as t
from aftersales.adapters.db.engine import transactions
from aftersales.domain.errors import InputError
from aftersales.domain.writeback import Target, Task, TaskDraft, TaskSource, TaskStatus


class SqlTaskRepository:
    def __init__(self, connection: Connection) -> None:
        self.db = connection

    def file(self, draft: TaskDraft, at: datetime) -> tuple[Task, bool]:
        """The open task for ``draft.key``, seen again now (its evidence and next review
        refreshed), or a new one; True when it is new. A closed task with the same key is
        reopened as a new task only when the problem comes back after it was closed."""
        row = self._row_for_key(draft.key)
        if row is not None and row["status"] == TaskStatus.OPEN.value:
            changes = {"evidence": dict(draft.evidence), "last_seen_at": at, "detail": draft.detail}
            if draft.next_review_at is not None:
                changes["next_review_at"] = draft.next_review_at
            self.db.execute(
                update(t.writeback_tasks).where(t.writeback_tasks.c.id == row["id"]).values(changes)
            )
            return self.task(int(row["id"])), False
        values = _values(draft) | {"status": TaskStatus.OPEN.value, "created_at": at, "last_seen_at": at}
        if row is not None:  # closed before: the old record keeps its key with a suffix
            retired = f"{draft.key}#closed-{row['id']}"[:500]
            self.db.execute(
                update(t.writeback_tasks).where(t.writeback_tasks.c.id == row["id"]).values(key=retired)
            )
        task_id = self.db.execute(
            insert(t.writeback_tasks).values(values).returning(t.writeback_tasks.c.id)
        ).scalar_one()
        return self.task(int(task_id)), True

    def task(self, task_id: int) -> Task:
        row = (
            self.db.execute(select(t.writeback_tasks).where(t.writeback_tasks.c.id == task_id))
            .mappings()
            .first()
        )
        if row is None:
            raise InputError(f"there is no write-back task {task_id}")
        return _task(row)

    def tasks(
        self, status: TaskStatus | None = TaskStatus.OPEN, source: TaskSource | None = None
    ) -> list[Task]:
        query = select(t.writeback_tasks).order_by(t.writeback_tasks.c.due_at, t.writeback_tasks.c.id)
        if status is not None:
            query = query.where(t.writeback_tasks.c.status == status.value)
        if source is not None:
            query = query.where(t.writeback_tasks.c.source == source.value)
        return [_task(row) for row in self.db.execute(query).mappings()]

    def close(self, task_id: int, by: str, note: str, at: datetime) -> Task:
        task = self.task(task_id)
        if not task.is_open:
            raise InputError(f"write-back task {task_id} is already closed")
        self.db.execute(
            update(t.writeback_tasks)
            .where(t.writeback_tasks.c.id == task_id)
            .values(status=TaskStatus.CLOSED.value, closed_at=at, closed_by=by[:200], close_note=note)
        )
        return self.task(task_id)

    def _row_for_key(self, key: str) -> RowMapping | None:
        return (
            self.db.execute(select(t.writeback_tasks).where(t.writeback_tasks.c.key == key))
            .mappings()
            .first()
        )


def _values(draft: TaskDraft) -> dict[str, Any]:
    return {
        "key": draft.key[:500],
        "source": draft.source.value,
        "target": draft.target.value,
        "title": draft.title[:500],
        "detail": draft.detail,
        "route": draft.route,
        "owner_role": draft.owner_role,
        "owner_name": draft.owner_name[:200],
        "evidence": dict(draft.evidence),
        "due_at": draft.due_at,
        "next_review_at": draft.next_review_at,
    }


def _task(row: RowMapping) -> Task:
    draft = TaskDraft(
        key=row["key"],
        source=TaskSource(row["source"]),
        target=Target(row["target"]),
        title=row["title"],
        detail=row["detail"],
        route=row["route"],
        owner_role=row["owner_role"],
        owner_name=row["owner_name"],
        evidence=row["evidence"] or {},
        due_at=row["due_at"],
        next_review_at=row["next_review_at"],
    )
    return Task(
        id=row["id"],
        draft=draft,
        status=TaskStatus(row["status"]),
        created_at=row["created_at"],
        last_seen_at=row["last_seen_at"],
        closed_at=row["closed_at"],
        closed_by=row["closed_by"],
        close_note=row["close_note"],
    )


def tasks_unit_of_work(engine: Engine, *, writes: bool = True) -> Any:
    """``with tasks() as repo:`` is one transaction, committed when the block ends."""
    return transactions(engine, SqlTaskRepository, writes=writes)

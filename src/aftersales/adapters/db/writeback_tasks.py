"""Write-back tasks on SQLAlchemy Core: one repository per unit of work (``tasks_unit_of_work``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, bindparam, func, insert, select, update

from aftersales.adapters.db import schema as t
from aftersales.adapters.db.engine import transactions
from aftersales.adapters.db.types import UtcDateTime
from aftersales.domain.errors import InputError
from aftersales.domain.writeback import Target, Task, TaskDraft, TaskSource, TaskStatus


class SqlTaskRepository:
    """Write-back tasks; ``file_many`` files a weekly review's tasks in a few statements (a busy
    store's review files a thousand, and three statements each took seconds)."""

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

    def tasks_for_keys(self, keys: Sequence[str]) -> dict[str, Task]:
        """The task of each key that has one (open, or closed and not filed again)."""
        tasks = t.writeback_tasks
        return {
            row["key"]: _task(row)
            for batch in _batches(list(keys))
            for row in self.db.execute(select(tasks).where(tasks.c.key.in_(batch))).mappings()
        }

    def file_many(self, drafts: Sequence[TaskDraft], at: datetime) -> list[tuple[Task, bool]]:
        """``file`` for each draft, in order: new keys inserted together, open tasks seen
        again updated together; a key whose task was closed goes through ``file`` itself."""
        tasks = t.writeback_tasks
        rows = {
            row.key: row
            for keys in _batches([d.key for d in drafts])
            for row in self.db.execute(
                select(tasks.c.id, tasks.c.key, tasks.c.status).where(tasks.c.key.in_(keys))
            )
        }
        fresh = [d for d in drafts if d.key not in rows]
        seen = [d for d in drafts if d.key in rows and rows[d.key].status == TaskStatus.OPEN.value]
        ids = self._insert(fresh, at) | self._seen_again(seen, {d.key: int(rows[d.key].id) for d in seen}, at)
        loaded = self._load(list(ids.values()))
        return [(loaded[ids[d.key]], d.key not in rows) if d.key in ids else self.file(d, at) for d in drafts]

    def _insert(self, drafts: Sequence[TaskDraft], at: datetime) -> dict[str, int]:
        if not drafts:
            return {}
        tasks = t.writeback_tasks
        values = [
            _values(d) | {"status": TaskStatus.OPEN.value, "created_at": at, "last_seen_at": at}
            for d in drafts
        ]
        inserted = self.db.execute(
            insert(tasks).returning(tasks.c.id, tasks.c.key, sort_by_parameter_order=True), values
        )
        return {key: int(task_id) for task_id, key in inserted}

    def _seen_again(self, drafts: Sequence[TaskDraft], ids: dict[str, int], at: datetime) -> dict[str, int]:
        """What ``file`` changes on an open task: evidence, detail, last seen, next review."""
        if not drafts:
            return {}
        tasks = t.writeback_tasks
        statement = (
            update(tasks)
            .where(tasks.c.id == bindparam("task_id"))
            .values(
                evidence=bindparam("new_evidence"),
                detail=bindparam("new_detail"),
                last_seen_at=bindparam("seen_at", type_=UtcDateTime),
                next_review_at=func.coalesce(
                    bindparam("next_review", type_=UtcDateTime), tasks.c.next_review_at
                ),
            )
        )
        self.db.execute(
            statement,
            [
                {
                    "task_id": ids[d.key],
                    "new_evidence": dict(d.evidence),
                    "new_detail": d.detail,
                    "seen_at": at,
                    "next_review": d.next_review_at,
                }
                for d in drafts
            ],
        )
        return {d.key: ids[d.key] for d in drafts}

    def _load(self, ids: list[int]) -> dict[int, Task]:
        tasks = t.writeback_tasks
        return {
            int(row["id"]): _task(row)
            for batch in _batches(ids)
            for row in self.db.execute(select(tasks).where(tasks.c.id.in_(batch))).mappings()
        }

    def _row_for_key(self, key: str) -> RowMapping | None:
        return (
            self.db.execute(select(t.writeback_tasks).where(t.writeback_tasks.c.key == key))
            .mappings()
            .first()
        )


def _batches(values: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


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


def tasks_unit_of_work(
    engine: Engine, *, writes: bool = True
) -> Callable[[], AbstractContextManager[SqlTaskRepository]]:
    """``with tasks() as repo:`` is one transaction, committed when the block ends."""
    return transactions(engine, SqlTaskRepository, writes=writes)

"""The weekly review's reads: counts grouped in the database over the cases opened in a
window (the ``ix_cases_opened_at`` index picks the week out of millions of cases), so the
review reads grouped counts and a bounded list of case ids, never whole cases.

``review_unit_of_work(engine)`` is one transaction holding these reads and the write-back
task repository (with ``file_many``, filing a review's tasks in a few statements), so the
tasks a review files and the counts they cite agree.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    and_,
    bindparam,
    func,
    select,
    text,
)

from aftersales.adapters.db import schema as t
from aftersales.adapters.db.engine import transactions
from aftersales.adapters.db.trend_queries import SqlTrendFacts
from aftersales.adapters.db.types import UtcDateTime

# the row shapes ``file`` writes and reads, shared so both ways of filing store the same task
from aftersales.adapters.db.writeback_tasks import SqlTaskRepository
from aftersales.domain.weekly_review import (
    MAX_CASE_IDS,
    ClockTally,
    Dimension,
    DimensionCount,
    RepeatGroup,
)

_cases = t.cases

# Each stored clock of each case opened in the window, grouped by route, clock and state.
# JSON arrays are unnested differently by each database; the rest is the same query. SQLite
# is told to use the opened_at index: left to itself it walks the route index to save the
# GROUP BY a sort, reading every case stored (2 s at 1M cases instead of 0.3 s).
_CLOCKS_SQL = {
    "sqlite": """
        SELECT c.route, json_extract(j.value, '$.name') AS clock,
               json_extract(j.value, '$.state') AS state, count(*) AS n
        FROM cases AS c INDEXED BY ix_cases_opened_at, json_each(c.clocks) AS j
        WHERE c.opened_at >= :start AND c.opened_at < :until
        GROUP BY 1, 2, 3""",
    "postgresql": """
        SELECT c.route, j ->> 'name' AS clock, j ->> 'state' AS state, count(*) AS n
        FROM cases AS c CROSS JOIN LATERAL json_array_elements(c.clocks::json) AS j
        WHERE c.opened_at >= :start AND c.opened_at < :until
        GROUP BY 1, 2, 3""",
}


class SqlReviewCounts:
    """The counts of a window come from one grouped scan (route x SKU x carrier x reason),
    rolled up here: three GROUP BY passes over the week would read its cases three times.
    The scan of the latest window is kept, so the week and its repeat window (the same
    seven days for a past week) are read once."""

    def __init__(self, connection: Connection) -> None:
        self.db = connection
        self._cube_of: tuple[tuple[datetime, datetime], list[_CubeRow]] | None = None

    def case_count(self, start: datetime, until: datetime) -> int:
        return sum(row.count for row in self._cube(start, until))

    def dimension_counts(self, start: datetime, until: datetime) -> list[DimensionCount]:
        """Cases per route and value of each dimension (SKU with its variant)."""
        rolled: dict[tuple[str, Dimension, str], list[Any]] = {}
        for row in self._cube(start, until):
            for dimension in Dimension:
                slot = rolled.setdefault((row.route, dimension, row.value(dimension)), [0, ""])
                slot[0] += row.count
                slot[1] = max(slot[1], row.variant)
        return [
            DimensionCount(
                route=route,
                dimension=dimension,
                value=value,
                count=count,
                variant=variant if dimension is Dimension.SKU else "",
            )
            for (route, dimension, value), (count, variant) in rolled.items()
        ]

    def repeat_groups(self, since: datetime, until: datetime, threshold: int) -> list[RepeatGroup]:
        """Every (route, dimension, value) with at least ``threshold`` cases in the window,
        with its first case ids."""
        rolled: dict[tuple[str, Dimension, str], list[Any]] = {}
        for row in self._cube(since, until):
            for dimension in Dimension:
                value = row.value(dimension)
                if not value:
                    continue
                slot = rolled.setdefault((row.route, dimension, value), [0, "", row.last])
                slot[0] += row.count
                slot[1] = max(slot[1], row.variant)
                slot[2] = max(slot[2], row.last)
        repeats = {key: slot for key, slot in rolled.items() if slot[0] >= threshold}
        ids = self._case_ids(since, until, set(repeats)) if repeats else {}
        return [
            RepeatGroup(
                route=route,
                dimension=dimension,
                value=value,
                count=count,
                case_ids=tuple(ids.get((route, dimension, value), ())),
                last_opened_at=last,
                variant=variant if dimension is Dimension.SKU else "",
            )
            for (route, dimension, value), (count, variant, last) in repeats.items()
        ]

    def _cube(self, start: datetime, until: datetime) -> list[_CubeRow]:
        if self._cube_of is not None and self._cube_of[0] == (start, until):
            return self._cube_of[1]
        c = _cases.c
        query = (
            select(
                c.route,
                c.sku,
                c.carrier,
                c.reason,
                func.max(c.variant),
                func.count(),
                func.max(c.opened_at, type_=UtcDateTime),
            )
            .where(_opened_between(start, until))
            .group_by(c.route, c.sku, c.carrier, c.reason)
        )
        rows = [_CubeRow(*row) for row in self.db.execute(query)]
        self._cube_of = ((start, until), rows)
        return rows

    def _case_ids(
        self, since: datetime, until: datetime, keys: set[tuple[str, Dimension, str]]
    ) -> dict[tuple[str, Dimension, str], list[int]]:
        """The first ``MAX_CASE_IDS`` cases of each repeat group, earliest first, from one
        walk of the window in index order (narrow rows: id and the dimensions). Numbering
        the rows in the database (a window function per dimension) sorted the week three
        times and measured slower at 77 000 cases a week."""
        c = _cases.c
        query = (
            select(c.id, c.route, *(c[d.value] for d in Dimension))
            .where(_opened_between(since, until))
            .order_by(c.opened_at, c.id)
        )
        ids: dict[tuple[str, Dimension, str], list[int]] = {key: [] for key in keys}
        for case_id, route, *values in self.db.execute(query):
            for dimension, value in zip(Dimension, values, strict=True):
                found = ids.get((route, dimension, value))
                if found is not None and len(found) < MAX_CASE_IDS:
                    found.append(case_id)
        return ids

    def count_since(
        self, route: str, dimension: Dimension, value: str, since: datetime, until: datetime
    ) -> int:
        """Cases of one route and dimension value opened in a window (after a task closed)."""
        query = (
            select(func.count())
            .select_from(_cases)
            .where(_opened_between(since, until), _cases.c.route == route, _cases.c[dimension.value] == value)
        )
        return int(self.db.execute(query).scalar_one())

    def clock_tallies(self, start: datetime, until: datetime) -> list[ClockTally]:
        sql = _CLOCKS_SQL.get(self.db.dialect.name)
        if sql is None:
            raise NotImplementedError(f"no clock query for {self.db.dialect.name}")
        query = text(sql).bindparams(
            bindparam("start", start, type_=UtcDateTime), bindparam("until", until, type_=UtcDateTime)
        )
        return [
            ClockTally(route=route, clock=clock or "", state=state or "", count=int(n))
            for route, clock, state, n in self.db.execute(query)
        ]


@dataclass(frozen=True, slots=True)
class _CubeRow:
    route: str
    sku: str
    carrier: str
    reason: str
    variant: str
    count: int
    last: datetime

    def value(self, dimension: Dimension) -> str:
        return str(getattr(self, dimension.value))


def _opened_between(start: datetime, until: datetime) -> ColumnElement[bool]:
    return and_(_cases.c.opened_at >= start, _cases.c.opened_at < until)


@dataclass(frozen=True, slots=True)
class ReviewStore:
    """What one review reads and writes, on one connection."""

    cases: SqlReviewCounts
    tasks: SqlTaskRepository
    trends: SqlTrendFacts


def review_unit_of_work(
    engine: Engine, *, writes: bool = True
) -> Callable[[], AbstractContextManager[ReviewStore]]:
    """``with review() as store:`` is one transaction, committed when the block ends."""

    return transactions(
        engine,
        lambda connection: ReviewStore(
            SqlReviewCounts(connection), SqlTaskRepository(connection), SqlTrendFacts(connection)
        ),
        writes=writes,
    )

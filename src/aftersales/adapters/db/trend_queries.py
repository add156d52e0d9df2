"""The trend's reads: for every case opened in a window, what domain/trends.py measures,
in four scans of the window (never a query per case), each starting from the
``ix_cases_opened_at`` index and reaching messages and events by their ``case_id`` index:

1. the cases (route, times, imported marker) with the assignee's name;
2. each case's first inbound message (grouped in the database);
3. its outbound messages, narrow rows (time, author), so the first reply *after* the
   opening can be picked: a message the store wrote first answers nothing;
4. the few timeline events the trend reads, their JSON fields picked out in the database:
   ``routed`` (the route a case opened on), ``status_changed`` from resolved/closed back to
   an open status (a reopening), and ``rated``.

On SQLite the times are read as the stored text and parsed by ``datetime.fromisoformat``:
the column type's own parser took four of the five seconds of a report over 100,000 cases.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, String, and_, func, or_, select, type_coerce

from aftersales.adapters.db import schema as t
from aftersales.adapters.db.engine import transactions
from aftersales.adapters.db.types import UtcDateTime
from aftersales.domain.trends import CaseFacts, first_reply_after

_cases, _messages, _events, _users = t.cases, t.messages, t.events, t.users
_FINAL = ("resolved", "closed")
_OPEN = ("new", "open", "waiting_on_customer")
_NEVER = datetime.min.replace(tzinfo=UTC)  # for a NOT NULL time column (never read as None)


def _opened_between(start: datetime, until: datetime) -> ColumnElement[bool]:
    return and_(_cases.c.opened_at >= start, _cases.c.opened_at < until)


@dataclass(slots=True)
class _Case:
    """A case's facts as the scans find them."""

    id: int
    route: str
    opened_at: datetime
    resolved_at: datetime | None
    imported_from: str
    assignee: str
    first_inbound_at: datetime | None = None
    replies: list[tuple[datetime, str]] = field(default_factory=list)
    opening_route: tuple[datetime, int, str] | None = None  # (at, event id, route) of the first
    rating: tuple[datetime, int, str] | None = None  # of the latest
    reopened: bool = False

    def facts(self) -> CaseFacts:
        opening = self.first_inbound_at or self.opened_at
        reply = first_reply_after(opening, self.replies)
        return CaseFacts(
            case_id=self.id,
            route=self.route,
            opening_route=self.opening_route[2] if self.opening_route else self.route,
            opened_at=self.opened_at,
            first_inbound_at=self.first_inbound_at,
            first_reply_at=reply[0] if reply else None,
            first_reply_author=reply[1] if reply else "",
            resolved_at=self.resolved_at,
            assignee=self.assignee,
            reopened=self.reopened,
            rating=self.rating[2] if self.rating else "",
            imported_from=self.imported_from,
        )


class SqlTrendFacts:
    def __init__(self, connection: Connection) -> None:
        self.db = connection
        self._as_text = connection.dialect.name == "sqlite"

    def _when(self, column: ColumnElement[Any]) -> ColumnElement[Any]:
        """A time column, as its stored text on SQLite (parsed by ``_moment``)."""
        return type_coerce(column, String) if self._as_text else column

    @staticmethod
    def _moment(value: datetime | str | None) -> datetime | None:
        if value is None or isinstance(value, datetime):
            return value
        return datetime.fromisoformat(value).replace(tzinfo=UTC)

    def case_facts(self, start: datetime, until: datetime) -> list[CaseFacts]:
        """Every case opened in [start, until), by id."""
        window = _opened_between(start, until)
        cases = self._cases(window)
        self._first_inbound(window, cases)
        self._replies(window, cases)
        self._events(window, cases)
        return [case.facts() for _, case in sorted(cases.items())]

    def _cases(self, window: ColumnElement[bool]) -> dict[int, _Case]:
        c = _cases.c
        assignee = func.coalesce(func.nullif(_users.c.name, ""), _users.c.email, "")
        query = (
            select(
                c.id, c.route, self._when(c.opened_at), self._when(c.resolved_at), c.imported_from, assignee
            )
            .select_from(_cases.outerjoin(_users, _users.c.id == c.assignee_user_id))
            .where(window)
        )
        moment = self._moment
        return {
            case_id: _Case(case_id, route, moment(opened) or _NEVER, moment(resolved), imported, agent)
            for case_id, route, opened, resolved, imported, agent in self.db.execute(query)
        }

    def _first_inbound(self, window: ColumnElement[bool], cases: dict[int, _Case]) -> None:
        m = _messages.c
        query = (
            select(m.case_id, func.min(self._when(m.sent_at), type_=String if self._as_text else UtcDateTime))
            .select_from(_messages.join(_cases, _cases.c.id == m.case_id))
            .where(window, m.direction == "inbound")
            .group_by(m.case_id)
        )
        for case_id, first in self.db.execute(query):
            cases[case_id].first_inbound_at = self._moment(first)

    def _replies(self, window: ColumnElement[bool], cases: dict[int, _Case]) -> None:
        m = _messages.c
        query = (
            # an imported reply may name only its address: then that is its author
            select(m.case_id, self._when(m.sent_at), func.coalesce(func.nullif(m.author, ""), m.from_address))
            .select_from(_messages.join(_cases, _cases.c.id == m.case_id))
            .where(window, m.direction == "outbound")
        )
        moment = self._moment
        for case_id, sent_at, author in self.db.execute(query):
            cases[case_id].replies.append((moment(sent_at) or _NEVER, author))

    def _events(self, window: ColumnElement[bool], cases: dict[int, _Case]) -> None:
        e = _events.c
        moved_from, moved_to = e.data["from"].as_string(), e.data["to"].as_string()
        reopening = and_(e.kind == "status_changed", moved_from.in_(_FINAL), moved_to.in_(_OPEN))
        query = (
            select(
                e.case_id,
                e.kind,
                self._when(e.at),
                e.id,
                e.data["route"].as_string(),
                e.data["rating"].as_string(),
            )
            .select_from(_events.join(_cases, _cases.c.id == e.case_id))
            .where(window, or_(e.kind.in_(("routed", "rated")), reopening))
        )
        for case_id, kind, stored_at, event_id, route, rating in self.db.execute(query):
            case, at = cases[case_id], self._moment(stored_at) or _NEVER
            if kind == "routed":
                if route and (case.opening_route is None or (at, event_id) < case.opening_route[:2]):
                    case.opening_route = (at, event_id, route)
            elif kind == "rated":
                if rating in ("good", "bad") and (case.rating is None or (at, event_id) > case.rating[:2]):
                    case.rating = (at, event_id, rating)
            else:
                case.reopened = True


@dataclass(frozen=True, slots=True)
class TrendStore:
    trends: SqlTrendFacts


def trends_unit_of_work(engine: Engine) -> Callable[[], AbstractContextManager[TrendStore]]:
    """``with trends() as store:`` reads in one transaction that writes nothing."""
    return transactions(engine, lambda connection: TrendStore(SqlTrendFacts(connection)), writes=False)

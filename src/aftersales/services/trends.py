"""The trend over the last weeks and the figures per agent (`aftersales report`, and the
weekly review's trend): the cases of the weeks read in a few scans, measured by
domain/trends.py against the store's calendar and each route's SLA targets."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Protocol

from aftersales.domain.errors import InputError
from aftersales.domain.trends import MAX_WEEKS, CaseFacts, Trend, trend, trend_weeks
from aftersales.services.routing import RoutingKit

DEFAULT_WEEKS = 12


class TrendFacts(Protocol):
    def case_facts(self, start: datetime, until: datetime) -> list[CaseFacts]:
        """Every case opened in [start, until)."""
        ...


class TrendStore(Protocol):
    @property
    def trends(self) -> TrendFacts: ...


TrendUnitOfWork = Callable[[], AbstractContextManager[TrendStore]]


def check_weeks(weeks: int) -> int:
    if not 1 <= weeks <= MAX_WEEKS:
        raise InputError(f"--weeks takes 1 to {MAX_WEEKS} weeks, not {weeks}", "--weeks")
    return weeks


def trend_of(facts: TrendFacts, kit: RoutingKit, *, last_day: date, weeks: int, now: datetime) -> Trend:
    """The ``weeks`` weeks ending with the one containing ``last_day`` (store time), from
    ``facts`` (a store already open: the weekly review reads it in its own transaction)."""
    spans = trend_weeks(last_day, check_weeks(weeks), zone=kit.policy.time_zone, now=now)
    if spans[-1].start > now:
        raise InputError(f"the week of {last_day.isoformat()} has not started yet", "--week")
    cases = facts.case_facts(spans[0].start, spans[-1].until)
    targets = {route.value: spec.sla for route, spec in kit.specs.items()}
    return trend(spans, cases, calendar=kit.calendar, targets=targets, now=now)


def run_trend(uow: TrendUnitOfWork, kit: RoutingKit, *, last_day: date, weeks: int, now: datetime) -> Trend:
    with uow() as store:
        return trend_of(store.trends, kit, last_day=last_day, weeks=weeks, now=now)

"""Trends over weeks and figures per agent: how fast the desk answers and resolves, in the
store's business time, whether it kept its targets, and whether customers were pleased.

Plain data in (one ``CaseFacts`` per case, read by the database in a few grouped scans),
plain data out. The rules, written out in docs/reports.md:

* A case belongs to the week (Monday 00:00 to Monday 00:00, store time) it **opened** in
  (``opened_at``); a week still running counts up to now.
* Its **opening** is its first inbound message (``opened_at`` when it has none).
* **First response**: business hours from the opening to the first outbound message at or
  after it (notes are not replies). A case with no such reply has no first-response hours.
* **Resolution**: business hours from the opening to ``resolved_at`` (the last time it was
  resolved or closed); a case not resolved now has no resolution hours.
* Business hours are the store's calendar (opening hours, public holidays, closures);
  waiting on the customer is *not* taken out: this is the time the customer saw, in the
  hours the desk was open.
* **Attainment**: a clock is met when its business hours are within the target of the
  route the case opened on (a target of 0 means by the end of the business day it started);
  missed when they are over, or when the case is still waiting and already over; otherwise
  pending. A case meets its SLA when both clocks are met, misses it when either is missed;
  the share is met / (met + missed): pending cases are not judged yet.
* **Satisfaction**: among the cases of the week with a rating, the share whose latest
  rating is "good".
* **Agent**: the case's assignee, else the author of its first reply, else nobody
  ("(unassigned)"). **Reopen rate**: among the agent's cases resolved or closed at least
  once, the share that came back (a status change from resolved/closed to an open status,
  as a person or a new customer message makes it).
* **Percentiles** interpolate linearly between the two nearest ranks (the "inclusive"
  method: Excel's PERCENTILE.INC, numpy's default): the median of 1, 2, 3, 4 is 2.5.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from itertools import accumulate
from zoneinfo import ZoneInfo

from aftersales.domain.routes import SlaTargets
from aftersales.domain.sla.calendar import BusinessCalendar, business_minutes, end_of_business_day, open_spans

# How many weeks a trend may span: two years is more than any review reads.
MAX_WEEKS = 104
UNASSIGNED = "(unassigned)"


# ------------------------------------------------------------------------------ weeks


@dataclass(frozen=True, slots=True)
class TrendWeek:
    """Monday 00:00 to the next Monday 00:00 in the store's zone; cases count up to ``until``
    (the week's end, or now for the week still running)."""

    start: datetime
    end: datetime
    until: datetime

    @property
    def label(self) -> str:
        year, week, _ = self.start.date().isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def is_complete(self) -> bool:
        return self.until >= self.end


def trend_weeks(last_day: date, count: int, *, zone: str, now: datetime) -> tuple[TrendWeek, ...]:
    """``count`` weeks, oldest first, the last one containing ``last_day``."""
    if not 1 <= count <= MAX_WEEKS:
        raise ValueError(f"a trend spans 1 to {MAX_WEEKS} weeks, not {count}")
    tz = ZoneInfo(zone)
    last_monday = last_day - timedelta(days=last_day.weekday())
    weeks = []
    for back in range(count - 1, -1, -1):
        monday = last_monday - timedelta(weeks=back)
        start = datetime.combine(monday, time(0), tzinfo=tz)
        end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=tz)
        weeks.append(TrendWeek(start, end, max(start, min(end, now.astimezone(tz)))))
    return tuple(weeks)


def week_index(moment: datetime, weeks: Sequence[TrendWeek]) -> int | None:
    """Which of ``weeks`` (consecutive, oldest first) ``moment`` counts in, or None."""
    return _week_of(moment.timestamp(), *_bounds(weeks))


def _bounds(weeks: Sequence[TrendWeek]) -> tuple[list[float], list[float]]:
    return [w.start.timestamp() for w in weeks], [w.until.timestamp() for w in weeks]


def _week_of(moment: float, starts: Sequence[float], untils: Sequence[float]) -> int | None:
    index = bisect_right(starts, moment) - 1
    return index if index >= 0 and moment < untils[index] else None


# ------------------------------------------------------------------------------ percentiles


def percentile(values: Sequence[float], share: float) -> float | None:
    """The ``share`` (0 to 1) quantile, interpolated between the two nearest ranks; None
    when there are no values."""
    if not 0 <= share <= 1:
        raise ValueError(f"a percentile share is between 0 and 1, not {share}")
    ordered = sorted(values)
    if not ordered:
        return None
    position = (len(ordered) - 1) * share
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (position - below) * (ordered[above] - ordered[below])


@dataclass(frozen=True, slots=True)
class Spread:
    """Median and 90th percentile of some hours, and how many cases they are over."""

    median: float | None
    p90: float | None
    count: int


def spread(values: Sequence[float]) -> Spread:
    return Spread(percentile(values, 0.5), percentile(values, 0.9), len(values))


# ------------------------------------------------------------------------------ one case


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseFacts:
    """What the trend needs of one case (every moment aware)."""

    case_id: int
    route: str  # the route it is on now (volume)
    opening_route: str  # the route it opened on: its first-response and resolution targets
    opened_at: datetime
    first_inbound_at: datetime | None
    first_reply_at: datetime | None  # the first outbound message at or after the opening
    first_reply_author: str = ""
    resolved_at: datetime | None = None
    assignee: str = ""
    reopened: bool = False
    rating: str = ""  # the latest rating: "good", "bad", or "" for none
    imported_from: str = ""

    @property
    def opening(self) -> datetime:
        return self.first_inbound_at or self.opened_at

    @property
    def agent(self) -> str:
        return self.assignee or self.first_reply_author or UNASSIGNED

    @property
    def was_resolved(self) -> bool:
        """Resolved or closed at least once: now, or before it came back."""
        return self.resolved_at is not None or self.reopened


def first_reply_after(
    opening: datetime, replies: Iterable[tuple[datetime, str]]
) -> tuple[datetime, str] | None:
    """The earliest (time, author) at or after ``opening``; replies before the customer
    wrote (the store writing first) answer nothing."""
    return min((reply for reply in replies if reply[0] >= opening), key=lambda reply: reply[0], default=None)


class Verdict(StrEnum):
    MET = "met"
    MISSED = "missed"
    PENDING = "pending"  # still running and within its target


def business_hours(start: datetime, end: datetime, calendar: BusinessCalendar) -> float:
    """Business hours from ``start`` to ``end`` (0 when ``end`` is not after ``start``)."""
    return business_minutes(start, end, calendar) / 60


class BusinessTime:
    """Business hours between moments, from the calendar's opening spans indexed once over
    [start, end): 100,000 cases would otherwise walk the same weeks of days 100,000 times
    over. A span reaching outside the index is measured by ``business_minutes``."""

    def __init__(self, calendar: BusinessCalendar, start: datetime, end: datetime) -> None:
        self.calendar = calendar
        self._first, self._last = start.timestamp(), end.timestamp()
        spans = [(a.timestamp(), b.timestamp()) for a, b in open_spans(calendar, start, end)]
        self._starts = [a for a, _ in spans]
        self._ends = [b for _, b in spans]
        self._before = list(accumulate((b - a for a, b in spans), initial=0.0))  # open seconds before each

    def _open_seconds(self, moment: float) -> float:
        """Open seconds from the index's start to ``moment``."""
        index = bisect_right(self._starts, moment)
        if index == 0:
            return 0.0
        return self._before[index - 1] + min(moment, self._ends[index - 1]) - self._starts[index - 1]

    def hours(self, start: datetime, end: datetime) -> float:
        """Business hours from ``start`` to ``end`` (0 when ``end`` is not after ``start``)."""
        first, last = start.timestamp(), end.timestamp()
        if last <= first:
            return 0.0
        if first < self._first or last > self._last:
            return business_hours(start, end, self.calendar)
        return (self._open_seconds(last) - self._open_seconds(first)) / 3600

    def allowance(self, start: datetime, target_hours: float) -> float:
        """The business hours a clock started at ``start`` may use: its target, or for a
        target of 0 the rest of the business day it started in."""
        if target_hours > 0 or not self.calendar.has_opening_hours():
            return target_hours
        return self.hours(start, end_of_business_day(start, self.calendar))


def clock_verdict(
    open_time: BusinessTime,
    start: datetime,
    end: datetime | None,
    target_hours: float,
    now: datetime,
    *,
    used_hours: float | None = None,
) -> Verdict:
    """Whether a clock from ``start`` that ended at ``end`` (None: still running at ``now``)
    kept ``target_hours`` business hours; ``used_hours``: its hours when already measured."""
    if used_hours is None:
        used_hours = open_time.hours(start, end if end is not None else now)
    return verdict(used_hours, open_time.allowance(start, target_hours), ended=end is not None)


def verdict(used_hours: float, allowed_hours: float, *, ended: bool) -> Verdict:
    if used_hours > allowed_hours:
        return Verdict.MISSED
    return Verdict.MET if ended else Verdict.PENDING


def both(*verdicts: Verdict) -> Verdict:
    if Verdict.MISSED in verdicts:
        return Verdict.MISSED
    return Verdict.MET if all(v is Verdict.MET for v in verdicts) else Verdict.PENDING


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseMeasure:
    facts: CaseFacts
    first_response_hours: float | None
    resolution_hours: float | None
    first_response: Verdict | None  # None: no target known for its route
    resolution: Verdict | None

    @property
    def sla(self) -> Verdict | None:
        if self.first_response is None or self.resolution is None:
            return None
        return both(self.first_response, self.resolution)


def measure(
    facts: CaseFacts, open_time: BusinessTime, targets: Mapping[str, SlaTargets], now: datetime
) -> CaseMeasure:
    """One case's hours and verdicts as they stand at ``now``."""
    start = facts.opening
    replied, resolved = facts.first_reply_at, facts.resolved_at
    first_hours = None if replied is None else open_time.hours(start, replied)
    resolution_hours = None if resolved is None else open_time.hours(start, resolved)
    target = targets.get(facts.opening_route) or targets.get(facts.route)
    first = resolution = None
    if target is not None:
        first = clock_verdict(
            open_time, start, replied, target.first_response_hours, now, used_hours=first_hours
        )
        resolution = clock_verdict(
            open_time, start, resolved, target.resolution_hours, now, used_hours=resolution_hours
        )
    return CaseMeasure(
        facts=facts,
        first_response_hours=first_hours,
        resolution_hours=resolution_hours,
        first_response=first,
        resolution=resolution,
    )


# ------------------------------------------------------------------------------ figures


@dataclass(frozen=True, slots=True)
class Tally:
    """Verdicts counted: the share met among those judged (None when none is)."""

    met: int = 0
    missed: int = 0
    pending: int = 0

    @property
    def share(self) -> float | None:
        judged = self.met + self.missed
        return self.met / judged if judged else None


def tally(verdicts: Iterable[Verdict | None]) -> Tally:
    counts = dict.fromkeys(Verdict, 0)
    for found in verdicts:
        if found is not None:
            counts[found] += 1
    return Tally(counts[Verdict.MET], counts[Verdict.MISSED], counts[Verdict.PENDING])


@dataclass(frozen=True, slots=True)
class Satisfaction:
    good: int = 0
    bad: int = 0

    @property
    def share(self) -> float | None:
        rated = self.good + self.bad
        return self.good / rated if rated else None


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentFigures:
    agent: str
    cases: int
    first_response: Spread
    resolved: int  # cases resolved or closed at least once
    reopened: int

    @property
    def reopen_rate(self) -> float | None:
        return self.reopened / self.resolved if self.resolved else None


@dataclass(frozen=True, slots=True, kw_only=True)
class WeekFigures:
    week: TrendWeek
    cases: int
    by_route: Mapping[str, int]
    first_response: Spread
    resolution: Spread
    first_response_sla: Tally
    resolution_sla: Tally
    sla: Tally  # both clocks
    satisfaction: Satisfaction
    agents: Sequence[AgentFigures]
    imported: int  # of ``cases``, those imported from another tool


@dataclass(frozen=True, slots=True, kw_only=True)
class Trend:
    weeks: Sequence[WeekFigures]
    routes: Sequence[str]  # every route seen, most cases first
    agents: Sequence[AgentFigures]  # over every week
    generated_at: datetime

    @property
    def start(self) -> datetime:
        return self.weeks[0].week.start

    @property
    def end(self) -> datetime:
        return self.weeks[-1].week.end


def agent_figures(measures: Iterable[CaseMeasure]) -> list[AgentFigures]:
    """One row per agent, most cases first."""
    grouped: dict[str, list[CaseMeasure]] = {}
    for case in measures:
        grouped.setdefault(case.facts.agent, []).append(case)
    rows = [
        AgentFigures(
            agent=agent,
            cases=len(cases),
            first_response=spread(
                [c.first_response_hours for c in cases if c.first_response_hours is not None]
            ),
            resolved=sum(1 for c in cases if c.facts.was_resolved),
            reopened=sum(1 for c in cases if c.facts.reopened),
        )
        for agent, cases in grouped.items()
    ]
    return sorted(rows, key=lambda row: (-row.cases, row.agent == UNASSIGNED, row.agent))


def week_figures(week: TrendWeek, measures: Sequence[CaseMeasure]) -> WeekFigures:
    by_route: dict[str, int] = {}
    for case in measures:
        by_route[case.facts.route] = by_route.get(case.facts.route, 0) + 1
    ratings = [case.facts.rating for case in measures]
    return WeekFigures(
        week=week,
        cases=len(measures),
        by_route=dict(sorted(by_route.items(), key=lambda item: (-item[1], item[0]))),
        first_response=spread(
            [c.first_response_hours for c in measures if c.first_response_hours is not None]
        ),
        resolution=spread([c.resolution_hours for c in measures if c.resolution_hours is not None]),
        first_response_sla=tally(c.first_response for c in measures),
        resolution_sla=tally(c.resolution for c in measures),
        sla=tally(c.sla for c in measures),
        satisfaction=Satisfaction(good=ratings.count("good"), bad=ratings.count("bad")),
        agents=agent_figures(measures),
        imported=sum(1 for c in measures if c.facts.imported_from),
    )


def trend(
    weeks: Sequence[TrendWeek],
    cases: Iterable[CaseFacts],
    *,
    calendar: BusinessCalendar,
    targets: Mapping[str, SlaTargets],
    now: datetime,
) -> Trend:
    """The figures of each week and of each agent over all of them. Cases outside the
    weeks are left out."""
    placed: list[list[CaseMeasure]] = [[] for _ in weeks]
    # the index covers the weeks, a week before (a first message before the case was
    # opened) and up to now (a clock still running): anything else is measured the long way
    open_time = BusinessTime(
        calendar, weeks[0].start - timedelta(days=7), max(now, weeks[-1].end) + timedelta(days=1)
    )
    starts, untils = _bounds(weeks)
    for facts in cases:
        index = _week_of(facts.opened_at.timestamp(), starts, untils)
        if index is not None:
            placed[index].append(measure(facts, open_time, targets, now))
    routes: dict[str, int] = {}
    for week_cases in placed:
        for case in week_cases:
            routes[case.facts.route] = routes.get(case.facts.route, 0) + 1
    return Trend(
        weeks=[week_figures(week, found) for week, found in zip(weeks, placed, strict=True)],
        routes=[route for route, _ in sorted(routes.items(), key=lambda item: (-item[1], item[0]))],
        agents=agent_figures(case for found in placed for case in found),
        generated_at=now,
    )

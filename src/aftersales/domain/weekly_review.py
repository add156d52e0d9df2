"""The weekly review: which week, which repeats, which write-back task each repeat becomes,
and how the SLA clocks did. Plain data in (counts the database aggregated), plain data out.

A repeat is the same route with the same SKU, carrier or reason at least
``policy.repeat_threshold`` times in the ``repeat_window_days`` that end when the review
does: the same problem that often is a product, fulfilment, feed, SKU, policy or message
problem, not separate customers. Each repeat is a finding, and each finding one write-back
task, keyed stably ("repeat|wrong_item|sku|TMB-20-BLK") so a rerun, and next week's run,
find the same task instead of filing another.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from aftersales.domain.sla.calendar import BusinessCalendar, end_of_business_day
from aftersales.domain.trends import Trend, TrendWeek
from aftersales.domain.writeback import Target, Task, TaskDraft, TaskSource

# How many business days after the review a task is due (the review's own cadence is a
# week: due well before the next review, so the next review can check the change landed).
DUE_BUSINESS_DAYS = 3
# The case ids a finding lists (its evidence); counts stay exact beyond it.
MAX_CASE_IDS = 10


class Dimension(StrEnum):
    """What a repeat is about, besides its route."""

    SKU = "sku"
    CARRIER = "carrier"
    REASON = "reason"


# ------------------------------------------------------------------------------ the week


@dataclass(frozen=True, slots=True)
class ReviewWeek(TrendWeek):
    """A trend's week (``until`` is where the review stops: the week's end, or now for the
    week still running); repeats are counted from ``repeat_since`` (``repeat_window_days``
    before ``until``) to ``until``."""

    repeat_since: datetime

    @property
    def next_review_at(self) -> datetime:
        """When the week after this one is reviewed: the Monday that ends it."""
        return datetime.combine(self.end.date() + timedelta(days=7), time(0), tzinfo=self.end.tzinfo)


def review_week(day: date, *, now: datetime, zone: str, repeat_window_days: int) -> ReviewWeek:
    """The week (Monday to Monday, local) that contains ``day``."""
    tz = ZoneInfo(zone)
    monday = day - timedelta(days=day.weekday())
    start = datetime.combine(monday, time(0), tzinfo=tz)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=tz)
    until = max(start, min(end, now.astimezone(tz)))
    return ReviewWeek(start, end, until, until - timedelta(days=repeat_window_days))


def task_due(week: ReviewWeek, calendar: BusinessCalendar) -> datetime:
    """The close of the ``DUE_BUSINESS_DAYS``-th business day after the review; calendar
    days when the store has no opening hours."""
    if not calendar.has_opening_hours():
        return week.until + timedelta(days=DUE_BUSINESS_DAYS)
    due = week.until
    for _ in range(DUE_BUSINESS_DAYS):
        due = end_of_business_day(due + timedelta(minutes=1), calendar)
    return due


# ------------------------------------------------------------------------------ the counts


@dataclass(frozen=True, slots=True, kw_only=True)
class DimensionCount:
    """Cases of one route with one value of a dimension, in the week."""

    route: str
    dimension: Dimension
    value: str  # "" when the case has none (no SKU named, no carrier on the order)
    count: int
    variant: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class RepeatGroup:
    """A (route, dimension, value) seen at least the threshold in the repeat window, with
    the first ``MAX_CASE_IDS`` of its cases (earliest first) and when the latest opened."""

    route: str
    dimension: Dimension
    value: str
    count: int
    case_ids: tuple[int, ...]
    last_opened_at: datetime
    variant: str = ""

    @property
    def lists_every_case(self) -> bool:
        return len(self.case_ids) >= self.count


@dataclass(frozen=True, slots=True, kw_only=True)
class ClockTally:
    """How many cases of a route have a clock in a state (the stored clocks)."""

    route: str
    clock: str
    state: str
    count: int


# ------------------------------------------------------------------------------ findings


@dataclass(frozen=True, slots=True, kw_only=True)
class Owner:
    role: str
    name: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteBook:
    """What the review needs to know of each route: its write-back list (the route table's
    labels, e.g. "warehouse pick rules") and who owns it."""

    write_back: Mapping[str, Sequence[str]]
    owners: Mapping[str, Owner]


@dataclass(frozen=True, slots=True, kw_only=True)
class RepeatFinding:
    group: RepeatGroup
    targets: tuple[Target, ...]  # the first is the task's; the rest are worth a look too
    owner: Owner

    @property
    def key(self) -> str:
        return task_key(self.group.route, self.group.dimension, self.group.value)

    @property
    def title(self) -> str:
        group = self.group
        about = f"{group.value} ({group.variant})" if group.variant else group.value
        return f"{group.count} {group.route} cases on {group.dimension.value} {about}"


def task_key(route: str, dimension: Dimension, value: str) -> str:
    return f"repeat|{route}|{dimension.value}|{value}"


# Reasons (decision segments) that name no cause: the one answer some routes always give
# (every question is "answer", every chargeback "same_day_lead_review"), and the facts
# still missing ("collect_proof"). Three of them in a week is the route's volume, not a
# repeated problem; the same route with the same SKU or carrier still is one.
_NOT_A_CAUSE = frozenset(
    {"answer", "same_day_lead_review", "pause_and_follow_up", "collect_order_facts", "check_fulfilment"}
)


def names_a_cause(reason: str) -> bool:
    return reason not in _NOT_A_CAUSE and not reason.endswith("collect_proof")


def findings(groups: Iterable[RepeatGroup], threshold: int, book: RouteBook) -> list[RepeatFinding]:
    """The repeats worth a task, most cases first. A reason repeat counts when the reason
    names a cause, and its cases are not all in SKU or carrier repeats of the same route
    (three wrong-colour cases on one SKU share their reason too: that says nothing new)."""
    repeats = [g for g in groups if g.count >= threshold and g.value]
    kept = [g for g in repeats if _is_cause(g) and not _explained(g, repeats)]
    kept.sort(key=lambda g: (-g.count, g.route, g.dimension.value, g.value))
    return [
        RepeatFinding(
            group=g,
            targets=targets_for(g.route, g.dimension, book.write_back.get(g.route, ())),
            owner=book.owners.get(g.route, Owner(role="")),
        )
        for g in kept
    ]


def _is_cause(group: RepeatGroup) -> bool:
    return group.dimension is not Dimension.REASON or names_a_cause(group.value)


def _explained(group: RepeatGroup, repeats: Sequence[RepeatGroup]) -> bool:
    if group.dimension is not Dimension.REASON or not group.lists_every_case:
        return False
    specific = [
        g
        for g in repeats
        if g.route == group.route and g.dimension is not Dimension.REASON and g.lists_every_case
    ]
    covered = {case for g in specific for case in g.case_ids}
    return set(group.case_ids) <= covered


# ------------------------------------------------------------------------------ targets

# The route table's write-back labels (the seed's words) and the target each one means;
# a label may also be a target's own name ("variant_images"). Labels with no target here
# ("refund review table", "weekly review") are lessons for people, not for a store text.
_LABEL_TARGETS: tuple[tuple[str, Target], ...] = (
    ("faq", Target.FAQ),
    ("shipping policy", Target.SHIPPING_POLICY),
    ("shipping notification", Target.SHIPPING_NOTIFICATION),
    ("order-status", Target.SHIPPING_NOTIFICATION),
    ("return policy", Target.RETURN_POLICY),
    ("refund boundary", Target.RETURN_POLICY),
    ("product-page", Target.PRODUCT_PAGE),
    ("product page", Target.PRODUCT_PAGE),
    ("variant image", Target.VARIANT_IMAGES),
    ("sku naming", Target.SKU_NAMING),
    ("feed", Target.FEED_SYNC),
    ("packaging", Target.PACKAGING_RULES),
    ("supplier", Target.SUPPLIER_REVIEW),
    ("warehouse pick", Target.WAREHOUSE_PICK_RULES),
    ("qa sampling", Target.QA_SAMPLING),
    ("lifecycle", Target.LIFECYCLE_EMAIL),
    ("restock", Target.LIFECYCLE_EMAIL),
    ("review request", Target.REVIEW_REQUEST_TIMING),
    ("snippet", Target.REPLY_SNIPPETS),
    ("wording", Target.REPLY_SNIPPETS),
)

# Which targets a repeat on each dimension can change: a SKU repeat is about the product
# and how it is picked and packed, a carrier repeat about what shipping promises and
# tells, a reason repeat about what the store's texts say.
_FITS: Mapping[Dimension, frozenset[Target]] = {
    Dimension.SKU: frozenset(
        {
            Target.WAREHOUSE_PICK_RULES,
            Target.VARIANT_IMAGES,
            Target.SKU_NAMING,
            Target.QA_SAMPLING,
            Target.PACKAGING_RULES,
            Target.SUPPLIER_REVIEW,
            Target.PRODUCT_PAGE,
            Target.FEED_SYNC,
            Target.FAQ,
            Target.REVIEW_REQUEST_TIMING,
        }
    ),
    Dimension.CARRIER: frozenset(
        {
            Target.SHIPPING_POLICY,
            Target.SHIPPING_NOTIFICATION,
            Target.PACKAGING_RULES,
            Target.REPLY_SNIPPETS,
        }
    ),
    Dimension.REASON: frozenset(
        {
            Target.REVIEW_REQUEST_TIMING,
            Target.FAQ,
            Target.SHIPPING_POLICY,
            Target.RETURN_POLICY,
            Target.SHIPPING_NOTIFICATION,
            Target.PRODUCT_PAGE,
            Target.LIFECYCLE_EMAIL,
            Target.REPLY_SNIPPETS,
        }
    ),
}
# When a route's list has nothing that fits the dimension.
_FALLBACK: Mapping[Dimension, Target] = {
    Dimension.SKU: Target.PRODUCT_PAGE,
    Dimension.CARRIER: Target.SHIPPING_NOTIFICATION,
    Dimension.REASON: Target.FAQ,
}
# Targets a route always considers first, beyond its table list: a run of bad reviews of
# one product is first a question of when the review request goes out (before the buyer
# has used it?).
_ROUTE_FIRST: Mapping[str, tuple[Target, ...]] = {"review": (Target.REVIEW_REQUEST_TIMING,)}


def target_of_label(label: str) -> Target | None:
    """The target a write-back label names, or None."""
    folded = label.strip().casefold()
    try:
        return Target(folded)
    except ValueError:
        pass
    return next((target for needle, target in _LABEL_TARGETS if needle in folded), None)


def targets_for(route: str, dimension: Dimension, write_back: Sequence[str]) -> tuple[Target, ...]:
    """The targets for a repeat: the route's own list, in its order, that fit the dimension."""
    named = [*_ROUTE_FIRST.get(route, ()), *(target_of_label(label) for label in write_back)]
    fitting = [t for t in named if t is not None and t in _FITS[dimension]]
    unique = tuple(dict.fromkeys(fitting))
    return unique or (_FALLBACK[dimension],)


# ------------------------------------------------------------------------------ tasks


def task_draft(finding: RepeatFinding, *, week: ReviewWeek, due_at: datetime) -> TaskDraft:
    """The write-back task a finding files."""
    group, target = finding.group, finding.targets[0]
    also = ", ".join(t.value for t in finding.targets[1:])
    detail = (
        f"{group.count} {group.route} cases with {group.dimension.value} {group.value} between "
        f"{week.repeat_since.date().isoformat()} and {week.until.date().isoformat()}: "
        f"write the lesson back to {target.value}."
    )
    if also:
        detail += f" Also worth a look: {also}."
    return TaskDraft(
        key=finding.key,
        source=TaskSource.WEEKLY_REVIEW,
        target=target,
        title=f"{target.value}: {finding.title}",
        detail=detail,
        route=group.route,
        owner_role=finding.owner.role,
        owner_name=finding.owner.name,
        evidence={
            "week": week.label,
            "dimension": group.dimension.value,
            "value": group.value,
            "variant": group.variant,
            "count": group.count,
            "case_ids": list(group.case_ids),
            "targets": [t.value for t in finding.targets],
        },
        due_at=due_at,
        next_review_at=week.next_review_at,
    )


def comes_back(count_since_closed: int, threshold: int) -> bool:
    """Whether a repeat whose task was closed is a new problem: it repeated again (the
    threshold) after the close, not merely still has older cases in the window."""
    return count_since_closed >= threshold


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewedFinding:
    finding: RepeatFinding
    # the finding's task: open (new or seen again), or closed when the repeat has not come
    # back since it was closed; None only in a preview that files nothing
    task: Task | None
    is_new: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class WeeklyReview:
    week: ReviewWeek
    threshold: int
    window_days: int
    cases: int
    counts: Sequence[DimensionCount]
    findings: Sequence[ReviewedFinding]
    # one case short of a repeat (SKU and carrier): worth watching, no task
    watch: Sequence[RepeatGroup]
    attainment: Sequence[Attainment]
    carried_over: Sequence[Task]  # open tasks this review did not file or see again
    generated_at: datetime
    filed: bool  # False for a preview: nothing was written
    trend: Trend | None = None  # the weeks that end with this one (domain/trends.py)


# ------------------------------------------------------------------------------ SLA


@dataclass(frozen=True, slots=True, kw_only=True)
class Attainment:
    """One clock of one route (or of every route, ``route == "all"``)."""

    route: str
    clock: str
    met: int
    breached: int
    running: int

    @property
    def share_met(self) -> float | None:
        """Met among the clocks that ended (met or breached); None when none has."""
        ended = self.met + self.breached
        return self.met / ended if ended else None


_RUNNING = frozenset({"on_track", "at_risk", "paused"})


def attainment(tallies: Iterable[ClockTally]) -> list[Attainment]:
    """Met / breached / running per route and clock, then per clock over every route;
    clocks that never started (stopped) are not counted."""
    counts: dict[tuple[str, str], list[int]] = {}
    for tally in tallies:
        slot = 0 if tally.state == "met" else 1 if tally.state == "breached" else 2
        if slot == 2 and tally.state not in _RUNNING:
            continue
        for route in (tally.route, "all"):
            counts.setdefault((route, tally.clock), [0, 0, 0])[slot] += tally.count
    return [
        Attainment(route=route, clock=clock, met=met, breached=breached, running=running)
        for (route, clock), (met, breached, running) in sorted(counts.items(), key=_attainment_order)
    ]


def _attainment_order(item: tuple[tuple[str, str], list[int]]) -> tuple[bool, str, str]:
    (route, clock), _ = item
    return (route == "all", route, clock)


def by_route(counts: Iterable[DimensionCount]) -> list[tuple[str, int]]:
    """Cases per route (every case has one reason row, so the reason counts add up)."""
    summed: dict[str, int] = {}
    for row in counts:
        if row.dimension is Dimension.REASON:
            summed[row.route] = summed.get(row.route, 0) + row.count
    return sorted(summed.items(), key=lambda item: (-item[1], item[0]))


def totals(counts: Iterable[DimensionCount], dimension: Dimension) -> list[tuple[str, int]]:
    """Cases per value of a dimension over every route, most first ("" shown as none)."""
    summed: dict[str, int] = {}
    for row in counts:
        if row.dimension is dimension:
            summed[row.value] = summed.get(row.value, 0) + row.count
    return sorted(summed.items(), key=lambda item: (-item[1], item[0]))

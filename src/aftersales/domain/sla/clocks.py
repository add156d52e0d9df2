"""SLA clocks over a case's timeline: first response, next update, resolution, escalation.

``compute_clocks`` reads a case's timeline with the route's ``SlaTargets`` and the store's
``BusinessCalendar`` at a given ``now`` and says, per clock, when it started, when it is due
and how it stands. Nothing is stored: the service recomputes on every change and on a
schedule, and records breaches with ``new_breaches``.

Rules (Zendesk's metrics and Zammad's two update modes, see field-and-formats.md 2.1, 2.9):

* **First response** runs from the first customer message to the first public reply.
* **Next update** runs, in ``between_replies`` mode, from each public reply (or from the
  message that reopened the case) for ``next_update_hours``; in ``after_customer`` mode from
  the oldest customer message not yet answered by a public reply, the messages before the
  first response excepted (that is the first-response clock's job). A reply that promises
  the next update (``promised_update_at``) makes that promise the due time in both modes,
  until the next public reply.
* **Resolution** runs from the first customer message (or the reopening entry) to the
  ``resolved``/``closed`` status.
* **Escalation** runs from the first customer message, or from ``escalation_triggered_at``
  when the caller knows when the escalation trigger fired, and is met by an ``escalated``
  entry. It does not pause: waiting on the customer is no reason to sit on an escalation.
* A target of ``0`` hours means "by the end of the same business day" (as in the routing card).
* Waiting on the customer pauses the first-response, next-update and resolution clocks, from
  the ``waiting_on_customer`` status to the next other status or customer message. A promised
  time moves on by the business time paused before it.
* ``resolved``/``closed`` stops every clock; a later customer message (or a status other than
  resolved/closed) reopens the case and restarts next update and resolution from that entry.
* A clock that ends after its due time stays ``breached``: a late reply never turns into
  ``met``. Entries after ``now`` have not happened yet and are ignored.

Every datetime returned is in the calendar's zone; ``due_at`` is set exactly while the clock
runs (``on_track``, ``at_risk`` or ``breached`` and still open).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum

from aftersales.domain.routes import SlaTargets
from aftersales.domain.sla.calendar import BusinessCalendar, business_minutes, due_at, end_of_business_day

__all__ = [
    "Clock",
    "ClockName",
    "ClockPolicy",
    "ClockState",
    "Deadline",
    "EntryKind",
    "TimelineEntry",
    "UpdateMode",
    "TIMELINE_CLOCKS",
    "compute_clocks",
    "deadline_clock",
    "new_breaches",
    "next_due",
    "next_turn",
    "worst_state",
]

Span = tuple[datetime, datetime]


class EntryKind(StrEnum):
    CUSTOMER_MESSAGE = "customer_message"
    PUBLIC_REPLY = "public_reply"
    INTERNAL_NOTE = "internal_note"
    STATUS = "status"
    ESCALATED = "escalated"


class ClockName(StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_UPDATE = "next_update"
    RESOLUTION = "resolution"
    ESCALATION = "escalation"
    # a fixed deadline set by someone else (the card network's evidence due date), in
    # calendar time: not computed from the timeline, see ``deadline_clock``
    DISPUTE_EVIDENCE = "dispute_evidence"


TIMELINE_CLOCKS = (
    ClockName.FIRST_RESPONSE,
    ClockName.NEXT_UPDATE,
    ClockName.RESOLUTION,
    ClockName.ESCALATION,
)


class ClockState(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"  # at least ``at_risk_share`` of the business-time budget is used
    BREACHED = "breached"
    MET = "met"
    PAUSED = "paused"  # waiting on the customer right now
    STOPPED = "stopped"  # not running: never started, or stopped by resolution


class UpdateMode(StrEnum):
    BETWEEN_REPLIES = "between_replies"  # Zammad "between agent updates"
    AFTER_CUSTOMER = "after_customer"  # Zendesk "next reply time"


STATUSES = frozenset({"new", "open", "waiting_on_customer", "resolved", "closed"})
_FINAL = frozenset({"resolved", "closed"})
_WAITING = "waiting_on_customer"


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {moment!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class TimelineEntry:
    """One thing that happened on a case; ``status`` only on status entries."""

    at: datetime
    kind: EntryKind
    status: str | None = None
    promised_update_at: datetime | None = None  # only on a public reply

    def __post_init__(self) -> None:
        """Refuse entries the clocks would misread rather than silently ignore them."""
        _require_aware(self.at, "at")
        object.__setattr__(self, "kind", EntryKind(self.kind))  # accept the stored string too
        if (self.kind is EntryKind.STATUS) != (self.status is not None):
            raise ValueError(f"status is required on status entries only, got {self.kind}/{self.status!r}")
        if self.status is not None and self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}; expected one of {sorted(STATUSES)}")
        if self.promised_update_at is not None:
            if self.kind is not EntryKind.PUBLIC_REPLY:
                raise ValueError(f"promised_update_at belongs on a public reply, not {self.kind}")
            _require_aware(self.promised_update_at, "promised_update_at")


@dataclass(frozen=True, slots=True, kw_only=True)
class ClockPolicy:
    """The inputs that come from the store's policy rather than from the case."""

    targets: SlaTargets
    calendar: BusinessCalendar
    at_risk_share: float = 0.75
    update_mode: UpdateMode = UpdateMode.BETWEEN_REPLIES

    def __post_init__(self) -> None:
        if not 0 <= self.at_risk_share <= 1:
            raise ValueError(f"at_risk_share must be between 0 and 1, got {self.at_risk_share!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Clock:
    name: ClockName
    state: ClockState
    started_at: datetime | None = None  # None: the clock never started
    due_at: datetime | None = None  # set exactly while the clock runs
    met_at: datetime | None = None
    breached_at: datetime | None = None  # the due time that passed, never the moment noticed
    # when the passing of time alone next changes this clock (on track -> at risk -> breached),
    # None when it never will: the SLA tick need not look at the case before then. Not stored
    # with the clock nor compared: it follows from the rest.
    turns_at: datetime | None = field(default=None, compare=False)


# A clock breaches strictly after its due time (now > due): a look at the very moment would
# find nothing to do, so that turn is taken a microsecond later (the databases keep
# microseconds). The at-risk moment is worked out in float minutes and may come out within a
# microsecond of the true one: a look a hair early finds nothing and looks again next tick.
_AFTER = timedelta(microseconds=1)


# --- reading the timeline ----------------------------------------------------------------


@dataclass(slots=True)
class _Episode:
    """From the message that opened (or the entry that reopened) the case to its resolution."""

    start: datetime
    reopened: bool
    end: datetime | None = None
    exchange: list[TimelineEntry] = field(default_factory=list)  # messages and public replies


@dataclass(slots=True)
class _History:
    """What the clocks need from the timeline, gathered in one pass."""

    episodes: list[_Episode] = field(default_factory=list)
    pauses: list[Span] = field(default_factory=list)
    waiting_since: datetime | None = None
    escalations: list[datetime] = field(default_factory=list)

    def is_open(self) -> bool:
        return bool(self.episodes) and self.episodes[-1].end is None

    def open(self, at: datetime) -> None:
        if not self.is_open():
            self.episodes.append(_Episode(start=at, reopened=bool(self.episodes)))

    def stop_waiting(self, at: datetime) -> None:
        if self.waiting_since is not None:
            self.pauses.append((self.waiting_since, at))
            self.waiting_since = None

    def on_status(self, at: datetime, status: str) -> None:
        if status in _FINAL:
            self.stop_waiting(at)
            if self.is_open():
                self.episodes[-1].end = at
            return
        if self.episodes:  # any non-final status after a resolution reopens the case
            self.open(at)
        if status == _WAITING:
            self.waiting_since = self.waiting_since or at
        else:
            self.stop_waiting(at)

    def on_entry(self, entry: TimelineEntry) -> None:
        if entry.kind is EntryKind.CUSTOMER_MESSAGE:
            self.stop_waiting(entry.at)  # the customer answered: the wait is over
            self.open(entry.at)
        elif entry.kind is EntryKind.ESCALATED:
            self.escalations.append(entry.at)
        elif entry.kind is EntryKind.STATUS and entry.status is not None:
            self.on_status(entry.at, entry.status)
        if entry.kind in (EntryKind.CUSTOMER_MESSAGE, EntryKind.PUBLIC_REPLY) and self.is_open():
            self.episodes[-1].exchange.append(entry)


def _read(timeline: Iterable[TimelineEntry], now: datetime) -> _History:
    history = _History()
    # sorted() is stable, so entries at the same instant keep the caller's order.
    for entry in sorted((e for e in timeline if e.at <= now), key=lambda e: e.at):
        history.on_entry(entry)
    if history.waiting_since is not None:
        # Still waiting: the pause so far counts; ``waiting_since`` marks the clocks paused.
        history.pauses.append((history.waiting_since, now))
    return history


# --- legs: one running period of a clock -------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Leg:
    start: datetime
    hours: float
    promise: datetime | None = None
    end: datetime | None = None  # when it stopped running, met or not
    met: bool = False
    pausable: bool = True


def _ending(start: datetime, hours: float, met_at: datetime | None, stop_at: datetime | None) -> _Leg:
    """A leg met at ``met_at`` unless ``stop_at`` (resolution) came first."""
    if met_at is not None and (stop_at is None or met_at <= stop_at):
        return _Leg(start, hours, end=met_at, met=True)
    return _Leg(start, hours, end=stop_at)


def _first_response(history: _History, targets: SlaTargets) -> _Leg | None:
    if not history.episodes:
        return None
    first = history.episodes[0]
    reply = next((e.at for e in first.exchange if e.kind is EntryKind.PUBLIC_REPLY), None)
    return _ending(first.start, targets.first_response_hours, reply, first.end)


def _resolution(history: _History, targets: SlaTargets) -> _Leg | None:
    if not history.episodes:
        return None
    last = history.episodes[-1]
    return _Leg(last.start, targets.resolution_hours, end=last.end, met=last.end is not None)


def _stop_after(history: _History, start: datetime) -> datetime | None:
    """When a clock started at ``start`` is stopped by resolution (``start`` if resolved then)."""
    for index, episode in enumerate(history.episodes):
        if start < episode.start:
            # Before the case first opened it runs until the case resolves; while the case
            # is resolved it never runs (a reopening does not restart this clock).
            return episode.end if index == 0 else start
        if episode.end is None or start < episode.end:
            return episode.end
    return start if history.episodes else None


def _escalation(history: _History, targets: SlaTargets, triggered_at: datetime | None) -> _Leg | None:
    start = triggered_at or (history.episodes[0].start if history.episodes else None)
    if start is None:
        return None
    escalated = next((at for at in history.escalations if at >= start), None)
    leg = _ending(start, targets.escalation_hours, escalated, _stop_after(history, start))
    return replace(leg, pausable=False)


def _unanswered(episode: _Episode) -> list[tuple[datetime, datetime | None]]:
    """(oldest unanswered message, the reply that answered it) for each exchange in order."""
    cycles: list[tuple[datetime, datetime | None]] = []
    waiting_from: datetime | None = None
    for entry in episode.exchange:
        if entry.kind is EntryKind.CUSTOMER_MESSAGE:
            waiting_from = waiting_from or entry.at
        elif waiting_from is not None:
            cycles.append((waiting_from, entry.at))
            waiting_from = None
    if waiting_from is not None:
        cycles.append((waiting_from, None))
    # The first exchange of the case is the first-response clock's, not this one's.
    return cycles if episode.reopened else cycles[1:]


def _next_update(history: _History, policy: ClockPolicy) -> _Leg | None:
    if not history.episodes:
        return None
    episode, hours = history.episodes[-1], policy.targets.next_update_hours
    replies = [e for e in episode.exchange if e.kind is EntryKind.PUBLIC_REPLY]
    latest = replies[-1] if replies else None
    if latest is not None and latest.promised_update_at is not None and latest.promised_update_at > latest.at:
        return _Leg(latest.at, hours, promise=latest.promised_update_at, end=episode.end)
    if policy.update_mode is UpdateMode.BETWEEN_REPLIES:
        start = latest.at if latest is not None else (episode.start if episode.reopened else None)
        return None if start is None else _Leg(start, hours, end=episode.end)
    cycles = _unanswered(episode)
    if not cycles:
        return None
    asked, answered = cycles[-1]
    return _ending(asked, hours, answered, episode.end)


# --- from a leg to a clock ---------------------------------------------------------------


def _promised_due(
    start: datetime, promise: datetime, calendar: BusinessCalendar, pauses: Sequence[Span]
) -> datetime:
    """The promise, moved on by the business time paused between the reply and it.

    Business time rather than wall time, so a wait over a weekend does not move a Monday
    promise to Thursday; a promise outside opening hours stands as made when nothing paused.
    """
    paused = business_minutes(start, promise, calendar) - business_minutes(start, promise, calendar, pauses)
    if paused <= 0:
        return promise.astimezone(calendar.tz)
    return due_at(promise, paused, calendar, pauses)


def _due(leg: _Leg, calendar: BusinessCalendar, pauses: Sequence[Span]) -> datetime:
    if leg.promise is not None:
        return _promised_due(leg.start, leg.promise, calendar, pauses)
    if leg.hours > 0:
        return due_at(leg.start, leg.hours * 60, calendar, pauses)
    # 0 hours: the rest of the business day the clock started in, pushed on by any pause.
    rest_of_day = business_minutes(leg.start, end_of_business_day(leg.start, calendar), calendar)
    return due_at(leg.start, rest_of_day, calendar, pauses)


def _settle(
    name: ClockName, leg: _Leg | None, history: _History, policy: ClockPolicy, now: datetime
) -> Clock:
    if leg is None:
        return Clock(name=name, state=ClockState.STOPPED)
    calendar = policy.calendar
    started = leg.start.astimezone(calendar.tz)
    pauses = history.pauses if leg.pausable else []
    due = _due(leg, calendar, pauses)
    if leg.end is not None:
        if due < leg.end:  # ended late: the breach stands, the late reply does not undo it
            return Clock(name=name, state=ClockState.BREACHED, started_at=started, breached_at=due)
        if leg.met:
            return Clock(
                name=name, state=ClockState.MET, started_at=started, met_at=leg.end.astimezone(calendar.tz)
            )
        return Clock(name=name, state=ClockState.STOPPED, started_at=started)
    waiting = history.waiting_since
    if leg.pausable and waiting is not None and due >= waiting:
        return Clock(name=name, state=ClockState.PAUSED, started_at=started)
    if now > due:
        return Clock(name=name, state=ClockState.BREACHED, started_at=started, due_at=due, breached_at=due)
    used = business_minutes(leg.start, now, calendar, pauses)
    budget = business_minutes(leg.start, due, calendar, pauses)
    # A zero budget (a promise for when the store is closed) is all used from the start.
    if used >= policy.at_risk_share * budget:
        return Clock(
            name=name, state=ClockState.AT_RISK, started_at=started, due_at=due, turns_at=due + _AFTER
        )
    at_risk = due_at(leg.start, policy.at_risk_share * budget, calendar, pauses)
    return Clock(name=name, state=ClockState.ON_TRACK, started_at=started, due_at=due, turns_at=at_risk)


def compute_clocks(
    timeline: Sequence[TimelineEntry],
    policy: ClockPolicy,
    now: datetime,
    *,
    escalation_triggered_at: datetime | None = None,
) -> tuple[Clock, ...]:
    """One ``Clock`` per timeline clock (``TIMELINE_CLOCKS``), in order, as they stand at ``now``.

    Raises ``ValueError`` for a naive ``now`` or trigger, or a calendar with no open time.
    """
    _require_aware(now, "now")
    if escalation_triggered_at is not None:
        _require_aware(escalation_triggered_at, "escalation_triggered_at")
        if escalation_triggered_at > now:
            escalation_triggered_at = None  # not triggered yet, as far as ``now`` knows
    history = _read(timeline, now)
    legs = {
        ClockName.FIRST_RESPONSE: _first_response(history, policy.targets),
        ClockName.NEXT_UPDATE: _next_update(history, policy),
        ClockName.RESOLUTION: _resolution(history, policy.targets),
        ClockName.ESCALATION: _escalation(history, policy.targets, escalation_triggered_at),
    }
    return tuple(_settle(name, legs[name], history, policy, now) for name in TIMELINE_CLOCKS)


@dataclass(frozen=True, slots=True, kw_only=True)
class Deadline:
    """A deadline someone else set, such as a dispute's evidence due date."""

    started_at: datetime
    due: datetime
    met_at: datetime | None = None  # when the thing was done
    stopped: bool = False  # the matter closed without it


def deadline_clock(
    name: ClockName, deadline: Deadline, now: datetime, at_risk_share: float, zone: tzinfo
) -> Clock:
    """The clock of a ``Deadline``: it runs in calendar time (banks do not keep the store's
    hours), is met when the thing is done before the deadline and stops when the matter
    closes."""
    started_at, due, met_at = deadline.started_at, deadline.due, deadline.met_at
    for moment, label in ((started_at, "started_at"), (due, "due"), (now, "now")):
        _require_aware(moment, label)
    started, due = started_at.astimezone(zone), due.astimezone(zone)
    if met_at is not None and met_at <= now:
        if met_at > due:
            return Clock(name=name, state=ClockState.BREACHED, started_at=started, breached_at=due)
        return Clock(name=name, state=ClockState.MET, started_at=started, met_at=met_at.astimezone(zone))
    if deadline.stopped:
        return Clock(name=name, state=ClockState.STOPPED, started_at=started)
    if now > due:
        return Clock(name=name, state=ClockState.BREACHED, started_at=started, due_at=due, breached_at=due)
    used, budget = (now - started).total_seconds(), (due - started).total_seconds()
    if used >= at_risk_share * budget:
        return Clock(
            name=name, state=ClockState.AT_RISK, started_at=started, due_at=due, turns_at=due + _AFTER
        )
    at_risk = started + timedelta(seconds=at_risk_share * budget)
    return Clock(name=name, state=ClockState.ON_TRACK, started_at=started, due_at=due, turns_at=at_risk)


# --- reading clocks ----------------------------------------------------------------------


def new_breaches(previous: Sequence[Clock], current: Sequence[Clock]) -> list[Clock]:
    """Clocks breached in ``current`` whose run was not already breached in ``previous``.

    A run is a clock name and its ``started_at``, so a late reply, a recomputation or a
    target change that moves ``breached_at`` does not report the same breach twice. The
    service records each returned clock once, at its ``breached_at``, and never deletes the
    record: a stored breach stays recorded even if a later target change would put the clock
    back on track, since a policy change must not rewrite history. Pass the clocks of
    recorded breaches in ``previous`` as well as the last computed ones, so a run that went
    breached, back on track, then breached again is recorded once. (A tightened target can
    surface a breach whose ``breached_at`` precedes the change; apply a new policy to a case
    from its next update, as Zendesk does, to keep such breaches rare.)

    To catch a breach that a late entry closes before any scheduled check saw it, compute
    the clocks on the timeline as it was just before the new entry, with ``now`` at the
    entry's time, and pass them as ``current`` before adding the entry.

    The runs of one clock follow each other, so a new run starts after every run before it.
    A breached run that starts no later than one already breached is that run seen again
    with its start moved back: a customer's older mail taken in after a newer one (mail
    arrives out of date order) starts the first-response clock earlier, but it is still the
    one breach.
    """
    latest: dict[ClockName, datetime] = {}
    for clock in previous:
        if clock.state is ClockState.BREACHED and clock.started_at is not None:
            seen = latest.get(clock.name)
            latest[clock.name] = clock.started_at if seen is None else max(seen, clock.started_at)
    return [
        c
        for c in current
        if c.state is ClockState.BREACHED
        and (c.name not in latest or c.started_at is None or c.started_at > latest[c.name])
    ]


# Live clocks come first, so a queue sorts by what still needs work: a breach already
# answered late is history, not risk, and ranks below an on-track clock that is running.
_LIVE_RANK = {ClockState.BREACHED: 0, ClockState.AT_RISK: 1, ClockState.ON_TRACK: 2, ClockState.PAUSED: 3}
_DONE_RANK = {ClockState.BREACHED: 4, ClockState.MET: 5, ClockState.STOPPED: 6}


def _rank(clock: Clock) -> int:
    if clock.due_at is not None or clock.state is ClockState.PAUSED:
        return _LIVE_RANK.get(clock.state, 3)
    return _DONE_RANK.get(clock.state, 6)


def worst_state(clocks: Iterable[Clock]) -> ClockState:
    """The most urgent state among ``clocks``; ``stopped`` when there are none.

    Order: breached and still running, at risk, on track, paused, then finished clocks
    (breached late, met, stopped).
    """
    worst = min(clocks, key=_rank, default=None)
    return ClockState.STOPPED if worst is None else worst.state


def next_due(clocks: Iterable[Clock]) -> datetime | None:
    """The earliest due time among running clocks (overdue ones included), else None."""
    return min((c.due_at for c in clocks if c.due_at is not None), default=None)


def next_turn(clocks: Iterable[Clock]) -> datetime | None:
    """The earliest moment the passing of time alone changes one of ``clocks``, else None."""
    return min((c.turns_at for c in clocks if c.turns_at is not None), default=None)

"""Keep a case's stored clocks in step with its timeline, and record each breach once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from aftersales.domain.cases import CaseStatus, Event
from aftersales.domain.history_import import clocks_count_from
from aftersales.domain.orders import DISPUTE_OPEN_STATUSES
from aftersales.domain.queue import urgency
from aftersales.domain.routes import Route, SlaTargets
from aftersales.domain.sla.clocks import (
    Clock,
    ClockName,
    ClockPolicy,
    ClockState,
    Deadline,
    EntryKind,
    TimelineEntry,
    UpdateMode,
    compute_clocks,
    deadline_clock,
    new_breaches,
    next_turn,
)
from aftersales.ports import ClockStore
from aftersales.services.routing import RoutingKit

_ENTRY_OF_DIRECTION = {
    "inbound": EntryKind.CUSTOMER_MESSAGE,
    "outbound": EntryKind.PUBLIC_REPLY,
    "note": EntryKind.INTERNAL_NOTE,
}


def timeline_entries(
    messages: Sequence[Mapping[str, Any]], events: Sequence[Mapping[str, Any]]
) -> list[TimelineEntry]:
    """The clocks' timeline. Of an imported case only what came after its import counts: its
    history's waits are never a breach now (domain/history_import.py)."""
    entries = _entries(messages, events)
    since = clocks_count_from(events)
    return entries if since is None else [e for e in entries if e.at >= since]


def _entries(
    messages: Sequence[Mapping[str, Any]], events: Sequence[Mapping[str, Any]]
) -> list[TimelineEntry]:
    entries = [
        TimelineEntry(
            at=m["sent_at"],
            kind=_ENTRY_OF_DIRECTION[m["direction"]],
            promised_update_at=m["promised_update_at"],
        )
        for m in messages
    ]
    for event in events:
        if event["kind"] == "status_changed":
            entries.append(TimelineEntry(at=event["at"], kind=EntryKind.STATUS, status=event["data"]["to"]))
        elif event["kind"] == "escalated":
            entries.append(TimelineEntry(at=event["at"], kind=EntryKind.ESCALATED))
    return sorted(entries, key=lambda e: e.at)


def clocks_for(
    kit: RoutingKit,
    route: Route,
    messages: Sequence[Mapping[str, Any]],
    events: Sequence[Mapping[str, Any]],
    now: datetime,
) -> tuple[Clock, ...]:
    """The case's clocks at ``now``. The escalation clock only runs once a route's
    escalation trigger has held (an ``escalation_needed`` event): most cases never escalate."""
    policy = ClockPolicy(
        targets=_targets(kit, route, events),
        calendar=kit.calendar,
        at_risk_share=kit.policy.at_risk_share,
        update_mode=UpdateMode(kit.policy.update_mode),
    )
    triggered = next((e["at"] for e in events if e["kind"] == "escalation_needed"), None)
    clocks = compute_clocks(
        timeline_entries(messages, events), policy, now, escalation_triggered_at=triggered
    )
    if triggered is None or triggered > now:
        clocks = tuple(
            Clock(name=c.name, state=ClockState.STOPPED) if c.name is ClockName.ESCALATION else c
            for c in clocks
        )
    evidence = _evidence_deadline(events)
    if evidence is not None:
        zone = kit.calendar.tz
        clocks = (
            *clocks,
            deadline_clock(ClockName.DISPUTE_EVIDENCE, evidence, now, kit.policy.at_risk_share, zone),
        )
    return clocks


_DISPUTE_EVENTS = ("dispute_opened", "dispute_updated")


def _evidence_deadline(events: Sequence[Mapping[str, Any]]) -> Deadline | None:
    """The dispute's evidence deadline, from the case's dispute events (the newest wins):
    met when the evidence was sent, stopped when the dispute closed without it."""
    disputes = [e for e in events if e["kind"] in _DISPUTE_EVENTS and e["data"].get("evidence_due_by")]
    if not disputes:
        return None
    latest = disputes[-1]["data"]
    sent = latest.get("evidence_sent_on")
    return Deadline(
        started_at=disputes[0]["at"],
        due=datetime.fromisoformat(latest["evidence_due_by"]),
        met_at=datetime.fromisoformat(sent) if sent else None,
        stopped=latest.get("status") not in DISPUTE_OPEN_STATUSES,
    )


@dataclass(frozen=True, slots=True)
class CaseHistory:
    """What the clocks are computed from; intake passes it for a case it just opened or
    updated, so the clocks need not read back what it wrote a moment ago.

    ``current`` is the case's stored row (at least its status). ``changes`` are fields and
    ``new_events`` events the caller made and has not stored yet (``events`` includes them):
    they are written with the clocks, in one update and one insert.
    """

    route: Route
    stored_clocks: Sequence[Mapping[str, Any]]
    messages: Sequence[Mapping[str, Any]]
    events: Sequence[Mapping[str, Any]]
    current: Mapping[str, Any] = field(default_factory=dict)
    changes: Mapping[str, Any] = field(default_factory=dict)
    new_events: Sequence[Event] = ()


def _targets(kit: RoutingKit, route: Route, events: Sequence[Mapping[str, Any]]) -> SlaTargets:
    """A re-route (a dispute threat after a delay) sets the next-update and escalation
    targets from then on, but never those of the first-response and resolution clocks that
    were already running: a stricter target applied after the fact would back-date a breach."""
    opening = next((Route(e["data"]["route"]) for e in events if e["kind"] == "routed"), route)
    if opening is route:
        return kit.specs[route].sla
    first = kit.specs[opening].sla
    return replace(
        kit.specs[route].sla,
        first_response_hours=first.first_response_hours,
        resolution_hours=first.resolution_hours,
    )


def refresh_clocks(
    cases: ClockStore, kit: RoutingKit, case_id: int, now: datetime, history: CaseHistory | None = None
) -> list[Clock]:
    """Recompute, store the clocks and the queue's sort keys (the risk and next due time of
    the clocks that ask something of us now, domain/queue.py::urgency); record new at-risk and
    breach events once each (a breach at the moment it happened, never back-dated). Returns
    the clocks that breached in this refresh."""
    if history is None:
        row = cases.case_row(case_id)
        history = CaseHistory(
            row.route,
            row.clocks,
            cases.message_times(case_id),
            cases.timeline(case_id),
            current=row.queue_state(),
        )
    refresh = plan_refresh(kit, history, now)
    cases.add_events(case_id, [*history.new_events, *refresh.events])
    cases.update_case(
        case_id,
        {**history.changes, **refresh.fields},
        current=history.current or None,
    )
    return refresh.breached


@dataclass(frozen=True, slots=True)
class Refresh:
    """What refreshing a case's clocks at a moment writes: the clocks, the queue's sort keys
    and the at-risk and breach events not recorded yet."""

    clocks: tuple[Clock, ...]
    breached: list[Clock]
    events: list[Event]
    fields: Mapping[str, Any]  # clocks, next_due_at and risk, as stored

    def changes(self, history: CaseHistory) -> bool:
        """Whether storing it would change anything of the case ``history`` was read from:
        with no new entry, only the passing of time (a clock turning at risk or breached)."""
        current = history.current
        return bool(self.events) or any(
            (history.stored_clocks if name == "clocks" else current.get(name)) != value
            for name, value in self.fields.items()
        )


def plan_refresh(kit: RoutingKit, history: CaseHistory, now: datetime) -> Refresh:
    """The clocks of the case in ``history`` at ``now``, and what storing them writes."""
    clocks = clocks_for(kit, history.route, history.messages, history.events, now)
    recorded = [_clock_from(e["data"]) for e in history.events if e["kind"] == "clock_breached"]
    breached = new_breaches([*_stored(history.stored_clocks), *recorded], clocks)
    breach_events = [
        Event("clock_breached", c.breached_at or now, "system", _clock_data(c)) for c in breached
    ]
    at_risk_events = _at_risk_events(history.stored_clocks, clocks, now)
    status = history.changes.get("status", history.current.get("status"))
    owed = urgency(
        clocks,
        waiting=status == CaseStatus.WAITING_ON_CUSTOMER.value,
        answered=_answered(history.messages, now),
    )
    fields = {
        "clocks": [_clock_data(c) for c in clocks],
        "next_due_at": owed.next_due_at,
        "risk": owed.risk,
        "next_check_at": next_check(clocks, history, now),
    }
    return Refresh(clocks, breached, [*breach_events, *at_risk_events], fields)


# Stored as a case's next look when nothing changes with time alone until the case itself
# does (every clock met, stopped, paused or already breached). Not NULL: NULL is "not known
# yet, look at the next tick" (a case stored before migration 0023).
NO_TURN = datetime(9999, 12, 31, tzinfo=UTC)


def next_check(clocks: Sequence[Clock], history: CaseHistory, now: datetime) -> datetime:
    """When the SLA tick must look at the case again: a clock turning at risk or breached, or
    an entry dated after ``now`` (a reply sent later, an escalation trigger still to come)
    starting to count; ``NO_TURN`` when nothing will."""
    later = [m["sent_at"] for m in history.messages if m["sent_at"] > now]
    later += [e["at"] for e in history.events if e["at"] > now]
    turn = next_turn(clocks)
    return min([*later, *([turn] if turn is not None else [])], default=NO_TURN)


def _answered(messages: Sequence[Mapping[str, Any]], now: datetime) -> bool:
    """Our public reply is the last word so far: the customer has not written since."""
    said = [m for m in messages if m["direction"] in ("inbound", "outbound") and m["sent_at"] <= now]
    # sorted() is stable: of two messages at one instant the later stored is the last word
    return bool(said) and sorted(said, key=lambda m: m["sent_at"])[-1]["direction"] == "outbound"


def _at_risk_events(
    stored: Sequence[Mapping[str, Any]], clocks: Sequence[Clock], now: datetime
) -> list[Event]:
    before = {(c["name"], c.get("started_at")): c["state"] for c in stored or ()}
    events = []
    for clock in clocks:
        key = (clock.name.value, clock.started_at.isoformat() if clock.started_at else None)
        if clock.state is ClockState.AT_RISK and before.get(key) != ClockState.AT_RISK.value:
            events.append(Event("clock_at_risk", now, "system", _clock_data(clock)))
    return events


def _clock_data(clock: Clock) -> dict[str, Any]:
    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment is not None else None

    return {
        "name": clock.name.value,
        "state": clock.state.value,
        "started_at": iso(clock.started_at),
        "due_at": iso(clock.due_at),
        "met_at": iso(clock.met_at),
        "breached_at": iso(clock.breached_at),
    }


def _clock_from(data: Mapping[str, Any]) -> Clock:
    def moment(key: str) -> datetime | None:
        value = data.get(key)
        return datetime.fromisoformat(value) if value else None

    return Clock(
        name=ClockName(data["name"]),
        state=ClockState(data["state"]),
        started_at=moment("started_at"),
        due_at=moment("due_at"),
        met_at=moment("met_at"),
        breached_at=moment("breached_at"),
    )


def _stored(raw: Sequence[Mapping[str, Any]] | None) -> list[Clock]:
    return [_clock_from(c) for c in raw or ()]

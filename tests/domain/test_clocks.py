"""Properties of the SLA clocks, and the helpers that read them (breaches, queue order)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from aftersales.domain.policy import Interval
from aftersales.domain.routes import SlaTargets
from aftersales.domain.sla.calendar import BusinessCalendar
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
    next_due,
    next_turn,
    worst_state,
)

NEW_YORK = ZoneInfo("America/New_York")
OFFICE = BusinessCalendar(NEW_YORK, dict.fromkeys(range(5), (Interval(time(9), time(17)),)))
TARGETS = SlaTargets(first_response_hours=4, next_update_hours=8, escalation_hours=8, resolution_hours=40)
POLICY = ClockPolicy(targets=TARGETS, calendar=OFFICE)
RUNNING = frozenset({ClockState.ON_TRACK, ClockState.AT_RISK})


def ny(day: int, hour: int, minute: int = 0) -> datetime:
    """A New York wall time in June 2026 (Monday 15 June starts the week used)."""
    return datetime(2026, 6, day, hour, minute, tzinfo=NEW_YORK)


def message(at: datetime) -> TimelineEntry:
    return TimelineEntry(at=at, kind=EntryKind.CUSTOMER_MESSAGE)


def reply(at: datetime, promise: datetime | None = None) -> TimelineEntry:
    return TimelineEntry(at=at, kind=EntryKind.PUBLIC_REPLY, promised_update_at=promise)


def status(at: datetime, value: str) -> TimelineEntry:
    return TimelineEntry(at=at, kind=EntryKind.STATUS, status=value)


def by_name(clocks: tuple[Clock, ...]) -> dict[ClockName, Clock]:
    return {clock.name: clock for clock in clocks}


# --- timelines for the properties -----------------------------------------------------------
#
# A timeline is built from "beats": each beat is a few entries with nothing else in between,
# so a wait on the customer (waiting, then back to open) is one beat and gaps between beats
# are known to be free of waits.

Beat = tuple[datetime, datetime, list[TimelineEntry]]  # first entry, last entry, entries

STARTS = st.datetimes(
    min_value=datetime(2026, 1, 5),  # noqa: DTZ001 - bounds for hypothesis, zone added below
    max_value=datetime(2026, 12, 20),  # noqa: DTZ001
    timezones=st.just(UTC),
)
BEAT_KINDS = ("message", "reply", "promise", "note", "escalated", "wait", "resolve")


def beat(kind: str, at: datetime, length: timedelta) -> Beat:
    if kind == "wait":
        return at, at + length, [status(at, "waiting_on_customer"), status(at + length, "open")]
    entry = {
        "message": message(at),
        "reply": reply(at),
        "promise": reply(at, promise=at + length),
        "note": TimelineEntry(at=at, kind=EntryKind.INTERNAL_NOTE),
        "escalated": TimelineEntry(at=at, kind=EntryKind.ESCALATED),
        "resolve": status(at, "resolved"),
    }[kind]
    return at, at, [entry]


@st.composite
def beats(draw: st.DrawFn, kinds: tuple[str, ...] = BEAT_KINDS) -> tuple[list[Beat], datetime]:
    """Beats in time order (the first is always a customer message) and a ``now`` after them."""
    at = draw(STARTS)
    minutes = st.integers(min_value=1, max_value=3 * 24 * 60)
    chosen = ["message", *draw(st.lists(st.sampled_from(kinds), max_size=8))]
    result: list[Beat] = []
    for kind in chosen:
        at += timedelta(minutes=draw(minutes))
        result.append(beat(kind, at, timedelta(minutes=draw(minutes))))
        at = result[-1][1]
    return result, at + timedelta(minutes=draw(minutes))


def entries(timeline_beats: list[Beat]) -> list[TimelineEntry]:
    return [entry for _start, _end, group in timeline_beats for entry in group]


policies = st.builds(
    ClockPolicy,
    targets=st.builds(
        SlaTargets,
        first_response_hours=st.sampled_from([0, 1, 4, 24]),
        next_update_hours=st.sampled_from([0, 2, 8]),
        escalation_hours=st.sampled_from([0, 8]),
        resolution_hours=st.sampled_from([0, 16, 40]),
    ),
    calendar=st.just(OFFICE),
    update_mode=st.sampled_from(list(UpdateMode)),
)


def assert_never_earlier(before: tuple[Clock, ...], after: tuple[Clock, ...]) -> None:
    for old, new in zip(before, after, strict=True):
        assert (old.due_at is None) == (new.due_at is None), (old, new)
        if old.due_at is not None and new.due_at is not None:
            assert new.due_at >= old.due_at, (old, new)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), policy=policies)
def test_adding_a_pause_never_makes_a_due_time_earlier(data: st.DataObject, policy: ClockPolicy) -> None:
    timeline_beats, now = data.draw(beats())
    # A gap between beats, or between the last beat and now, before any resolution (a
    # status change after one would reopen the case, which is not a pause).
    resolved = [
        index for index, (_s, _e, group) in enumerate(timeline_beats) if group[0].status == "resolved"
    ]
    last = resolved[0] if resolved else len(timeline_beats)
    bounds = [(timeline_beats[i][1], timeline_beats[i + 1][0]) for i in range(last - 1)]
    bounds += [] if resolved else [(timeline_beats[-1][1], now)]
    assume(bounds)
    gap_start, gap_end = data.draw(st.sampled_from(bounds))
    span = int((gap_end - gap_start) / timedelta(seconds=1))
    first = data.draw(st.integers(min_value=1, max_value=max(1, span - 1)))
    last_second = data.draw(st.integers(min_value=first, max_value=max(first, span - 1)))
    pause_start, pause_end = gap_start + timedelta(seconds=first), gap_start + timedelta(seconds=last_second)
    assume(gap_start < pause_start < pause_end < gap_end)  # a pause strictly inside the gap
    pause = [status(pause_start, "waiting_on_customer"), status(pause_end, "open")]

    before = compute_clocks(entries(timeline_beats), policy, now)
    after = compute_clocks(entries(timeline_beats) + pause, policy, now)

    assert_never_earlier(before, after)
    for old, new in zip(before, after, strict=True):
        if new.breached_at is not None:  # a pause never brings a breach forward or creates one
            assert old.breached_at is not None
            assert new.breached_at >= old.breached_at


@settings(max_examples=150, deadline=None)
@given(data=st.data(), policy=policies)
def test_moving_every_entry_later_never_makes_a_due_time_earlier(
    data: st.DataObject, policy: ClockPolicy
) -> None:
    # Waits are left out: see test_moving_a_wait_later_can_make_a_due_time_earlier.
    timeline_beats, now = data.draw(beats(tuple(kind for kind in BEAT_KINDS if kind != "wait")))
    timeline = entries(timeline_beats)
    steps = data.draw(st.lists(st.integers(0, 2 * 24 * 60), min_size=len(timeline), max_size=len(timeline)))
    moved: list[TimelineEntry] = []
    delay = timedelta()
    for entry, step in zip(timeline, steps, strict=True):
        delay += timedelta(minutes=step)  # never less than the entry before: order is kept
        promise = entry.promised_update_at + delay if entry.promised_update_at is not None else None
        moved.append(replace(entry, at=entry.at + delay, promised_update_at=promise))

    before = compute_clocks(timeline, policy, now)
    after = compute_clocks(moved, policy, now + delay)

    assert_never_earlier(before, after)


def test_moving_a_wait_later_can_make_a_due_time_earlier() -> None:
    # Why the property above leaves waits out: here the whole 30-minute budget fits before
    # the later wait begins, but not before the earlier one.
    policy = replace(POLICY, targets=replace(TARGETS, first_response_hours=0.5))

    def first_response_due(shift: timedelta) -> datetime | None:
        timeline = [
            message(ny(15, 8) + shift),
            status(ny(15, 9) + shift, "waiting_on_customer"),
            status(ny(15, 10) + shift, "open"),
        ]
        return compute_clocks(timeline, policy, ny(15, 11))[0].due_at

    assert first_response_due(timedelta()) == ny(15, 10, 30)
    assert first_response_due(timedelta(minutes=30)) == ny(15, 9, 30)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), policy=policies, later=st.integers(0, 5 * 24 * 60))
def test_clock_invariants(data: st.DataObject, policy: ClockPolicy, later: int) -> None:
    timeline_beats, now = data.draw(beats())
    now += timedelta(minutes=later)
    clocks = compute_clocks(entries(timeline_beats), policy, now)

    assert new_breaches(clocks, clocks) == []
    for clock in clocks:
        assert clock.met_at is None or clock.breached_at is None, clock  # never both
        assert (clock.state is ClockState.MET) == (clock.met_at is not None), clock
        assert (clock.state is ClockState.BREACHED) == (clock.breached_at is not None), clock
        assert clock.breached_at is None or clock.breached_at <= now, clock
        if clock.state in RUNNING:
            assert clock.due_at is not None, clock
        if clock.state in {ClockState.MET, ClockState.PAUSED, ClockState.STOPPED}:
            assert clock.due_at is None, clock
        if clock.started_at is None:
            assert clock.state is ClockState.STOPPED, clock
        elif clock.due_at is not None:
            assert clock.due_at >= clock.started_at, clock


@settings(max_examples=100, deadline=None)
@given(data=st.data(), policy=policies, step=st.integers(1, 3 * 24 * 60))
def test_breaches_reported_later_were_not_breached_earlier(
    data: st.DataObject, policy: ClockPolicy, step: int
) -> None:
    timeline_beats, now = data.draw(beats())
    timeline = entries(timeline_beats)
    earlier = compute_clocks(timeline, policy, now)
    later_now = now + timedelta(minutes=step)
    for clock in new_breaches(earlier, compute_clocks(timeline, policy, later_now)):
        assert clock.breached_at is not None
        assert clock.breached_at <= later_now
        old = by_name(earlier)[clock.name]
        assert old.state is not ClockState.BREACHED or old.started_at != clock.started_at


# --- when a clock next turns (what the SLA tick waits for) ---------------------------------


MICROSECOND = timedelta(microseconds=1)


def states(clocks: tuple[Clock, ...]) -> list[ClockState]:
    return [clock.state for clock in clocks]


@settings(max_examples=150, deadline=None)
@given(data=st.data(), policy=policies, fraction=st.floats(0, 0.999))
def test_no_clock_changes_before_its_turn_and_one_does_at_it(
    data: st.DataObject, policy: ClockPolicy, fraction: float
) -> None:
    # The SLA tick leaves a case alone until its clocks' next turn: so before it nothing of
    # the clocks may change, and at it something must (else the tick would look for nothing).
    timeline_beats, now = data.draw(beats())
    timeline = entries(timeline_beats)
    clocks = compute_clocks(timeline, policy, now)
    turn = next_turn(clocks)
    if turn is None:  # nothing runs: a week later the clocks stand as they are
        assert compute_clocks(timeline, policy, now + timedelta(days=7)) == clocks
        return
    assert turn > now
    # to the microsecond: the at-risk moment is worked out in float minutes
    before = now + (turn - now) * fraction
    assume(before < turn - MICROSECOND)
    assert compute_clocks(timeline, policy, before) == clocks
    assert states(compute_clocks(timeline, policy, turn + MICROSECOND)) != states(clocks)


TURNS = [
    # (first response asked at Monday 10:00, 4 business hours, at-risk share 0.75)
    pytest.param(
        ny(15, 11),
        ClockState.ON_TRACK,
        ny(15, 13),
        id="on track: turns at risk after 3 of 4 hours",
    ),
    pytest.param(
        ny(15, 13),
        ClockState.AT_RISK,
        ny(15, 14) + timedelta(microseconds=1),
        id="at risk: turns breached just after due",
    ),
    pytest.param(ny(15, 15), ClockState.BREACHED, None, id="breached: never turns again"),
]


@pytest.mark.parametrize(("now", "state", "turn"), TURNS)
def test_the_first_response_clock_turns(now: datetime, state: ClockState, turn: datetime | None) -> None:
    first = compute_clocks([message(ny(15, 10))], POLICY, now)[0]

    assert (first.state, first.turns_at) == (state, turn)


def test_a_deadline_turns_at_risk_then_breached_in_calendar_time() -> None:
    deadline = Deadline(started_at=ny(15, 10), due=ny(25, 10))  # ten days; at risk after 7.5
    clock = deadline_clock(ClockName.DISPUTE_EVIDENCE, deadline, ny(16, 10), 0.75, NEW_YORK)
    later = deadline_clock(ClockName.DISPUTE_EVIDENCE, deadline, ny(23, 10), 0.75, NEW_YORK)

    assert (clock.state, clock.turns_at) == (ClockState.ON_TRACK, ny(22, 22))
    assert (later.state, later.turns_at) == (ClockState.AT_RISK, ny(25, 10) + timedelta(microseconds=1))


# --- recording breaches ---------------------------------------------------------------------


def test_a_breach_is_new_once_per_run() -> None:
    timeline = [message(ny(15, 9))]
    on_track = compute_clocks(timeline, POLICY, ny(15, 10))
    breached = compute_clocks(timeline, POLICY, ny(15, 14))

    fresh = new_breaches(on_track, breached)

    assert [clock.name for clock in fresh] == [ClockName.FIRST_RESPONSE]
    assert fresh[0].breached_at == ny(15, 13)
    assert new_breaches(breached, compute_clocks(timeline, POLICY, ny(15, 15))) == []


def test_a_late_reply_does_not_report_the_breach_again() -> None:
    before = compute_clocks([message(ny(15, 9))], POLICY, ny(15, 14))
    after = compute_clocks([message(ny(15, 9)), reply(ny(15, 14))], POLICY, ny(15, 14))
    assert by_name(after)[ClockName.FIRST_RESPONSE].state is ClockState.BREACHED
    assert new_breaches(before, after) == []


def test_reading_the_clocks_just_before_an_entry_catches_a_breach_no_check_saw() -> None:
    # Last check at 10:00, then a late reply at 14:00: the clocks as they stood just before
    # the reply show the breach, which the clocks after it would also show as late.
    last_check = compute_clocks([message(ny(15, 9))], POLICY, ny(15, 10))
    just_before = compute_clocks([message(ny(15, 9))], POLICY, ny(15, 14))
    assert [clock.name for clock in new_breaches(last_check, just_before)] == [ClockName.FIRST_RESPONSE]


def test_a_target_change_neither_undoes_nor_repeats_a_recorded_breach() -> None:
    timeline = [message(ny(15, 9))]
    recorded = new_breaches([], compute_clocks(timeline, POLICY, ny(15, 14)))
    relaxed = replace(POLICY, targets=replace(TARGETS, first_response_hours=8))

    back_on_track = compute_clocks(timeline, relaxed, ny(15, 14))
    breached_again = compute_clocks(timeline, relaxed, ny(16, 10))

    assert by_name(back_on_track)[ClockName.FIRST_RESPONSE].state is ClockState.ON_TRACK
    assert new_breaches(recorded + list(back_on_track), back_on_track) == []
    # The stored breach stays; the same run breaching again under the new target is not new
    # (the escalation clock breaching overnight is).
    fresh = new_breaches(recorded + list(back_on_track), breached_again)
    assert [clock.name for clock in fresh] == [ClockName.ESCALATION]


def test_a_new_run_breaching_is_a_new_breach() -> None:
    first_cycle = compute_clocks([message(ny(15, 9)), reply(ny(15, 10))], POLICY, ny(16, 11))
    timeline = [message(ny(15, 9)), reply(ny(15, 10)), reply(ny(16, 12))]
    second_cycle = compute_clocks(timeline, POLICY, ny(17, 13))
    assert by_name(first_cycle)[ClockName.NEXT_UPDATE].breached_at == ny(16, 10)
    fresh = new_breaches(first_cycle, second_cycle)
    assert [(clock.name, clock.breached_at) for clock in fresh] == [(ClockName.NEXT_UPDATE, ny(17, 12))]


# --- queue order ------------------------------------------------------------------------------


def clock(state: ClockState, due: datetime | None = None) -> Clock:
    return Clock(name=ClockName.RESOLUTION, state=state, due_at=due, started_at=ny(15, 9))


@pytest.mark.parametrize(
    ("states", "worst"),
    [
        ([], ClockState.STOPPED),
        ([clock(ClockState.MET), clock(ClockState.ON_TRACK, ny(16, 9))], ClockState.ON_TRACK),
        ([clock(ClockState.AT_RISK, ny(16, 9)), clock(ClockState.BREACHED, ny(15, 9))], ClockState.BREACHED),
        ([clock(ClockState.PAUSED), clock(ClockState.AT_RISK, ny(16, 9))], ClockState.AT_RISK),
        # a breach answered late is history: a running clock comes first
        ([clock(ClockState.BREACHED), clock(ClockState.PAUSED)], ClockState.PAUSED),
        ([clock(ClockState.BREACHED), clock(ClockState.MET), clock(ClockState.STOPPED)], ClockState.BREACHED),
        ([clock(ClockState.MET), clock(ClockState.STOPPED)], ClockState.MET),
    ],
)
def test_worst_state(states: list[Clock], worst: ClockState) -> None:
    assert worst_state(states) is worst


def test_next_due_is_the_earliest_running_due_time_overdue_included() -> None:
    clocks = [
        clock(ClockState.ON_TRACK, ny(16, 9)),
        clock(ClockState.BREACHED, ny(15, 13)),
        clock(ClockState.MET),
    ]
    assert next_due(clocks) == ny(15, 13)
    assert next_due([clock(ClockState.MET), clock(ClockState.PAUSED)]) is None


# --- refusing bad input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"at": datetime(2026, 6, 15, 9), "kind": EntryKind.CUSTOMER_MESSAGE}, "timezone-aware"),  # noqa: DTZ001
        ({"at": ny(15, 9), "kind": EntryKind.STATUS}, "status is required"),
        ({"at": ny(15, 9), "kind": EntryKind.PUBLIC_REPLY, "status": "open"}, "status is required"),
        ({"at": ny(15, 9), "kind": EntryKind.STATUS, "status": "pending"}, "unknown status"),
        ({"at": ny(15, 9), "kind": EntryKind.INTERNAL_NOTE, "promised_update_at": ny(16, 9)}, "public reply"),
        ({"at": ny(15, 9), "kind": "no_such_kind"}, "no_such_kind"),
    ],
)
def test_timeline_entries_are_checked(fields: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        TimelineEntry(**fields)


def test_kind_may_be_given_as_its_stored_string() -> None:
    assert TimelineEntry(at=ny(15, 9), kind="customer_message").kind is EntryKind.CUSTOMER_MESSAGE  # type: ignore[arg-type]


@pytest.mark.parametrize("share", [-0.1, 1.5, float("nan")])
def test_at_risk_share_is_a_fraction(share: float) -> None:
    with pytest.raises(ValueError, match="at_risk_share"):
        ClockPolicy(targets=TARGETS, calendar=OFFICE, at_risk_share=share)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="now"):
        compute_clocks([message(ny(15, 9))], POLICY, datetime(2026, 6, 15, 10))  # noqa: DTZ001


def test_a_trigger_after_now_has_not_fired_yet() -> None:
    clocks = compute_clocks([message(ny(15, 9))], POLICY, ny(15, 10), escalation_triggered_at=ny(15, 12))
    assert by_name(clocks)[ClockName.ESCALATION].started_at == ny(15, 9)


def test_a_promise_not_after_its_reply_is_ignored() -> None:
    timeline = [message(ny(15, 9)), reply(ny(15, 10), promise=ny(15, 10))]
    clocks = by_name(compute_clocks(timeline, POLICY, ny(15, 11)))
    assert clocks[ClockName.NEXT_UPDATE].due_at == ny(16, 10)


def test_a_status_after_resolution_reopens_the_case() -> None:
    timeline = [
        message(ny(15, 9)),
        reply(ny(15, 10)),
        status(ny(15, 11), "resolved"),
        status(ny(16, 9), "open"),
    ]
    clocks = by_name(compute_clocks(timeline, POLICY, ny(16, 10)))
    assert clocks[ClockName.RESOLUTION].started_at == ny(16, 9)
    assert clocks[ClockName.NEXT_UPDATE].due_at == ny(16, 17)

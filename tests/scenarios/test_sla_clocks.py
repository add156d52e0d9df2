"""Golden SLA clocks from ``sla/clocks.toml``: timelines read at a moment, clock by clock.

The table is the readable contract of ``compute_clocks``; a reply's promised time may be
given as text, which ``promised_time`` reads, so the two halves are checked together.
"""

from __future__ import annotations

import tomllib
from datetime import datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from aftersales.domain.policy import Interval
from aftersales.domain.routes import SlaTargets
from aftersales.domain.sla.calendar import BusinessCalendar
from aftersales.domain.sla.clocks import (
    TIMELINE_CLOCKS,
    Clock,
    ClockName,
    ClockPolicy,
    EntryKind,
    TimelineEntry,
    UpdateMode,
    compute_clocks,
)
from aftersales.domain.sla.promises import promised_time

TABLE = tomllib.loads((Path(__file__).parent / "sla" / "clocks.toml").read_text("utf-8"))
CASES: list[dict[str, Any]] = TABLE["case"]
NEW_YORK = ZoneInfo("America/New_York")
OFFICE = BusinessCalendar(NEW_YORK, dict.fromkeys(range(5), (Interval(time(9), time(17)),)))
FIELDS = ("started_at", "due_at", "met_at", "breached_at")


def local(moment: datetime) -> datetime:
    """A TOML local datetime as New York wall time."""
    assert moment.tzinfo is None, "the table uses local datetimes only"
    return moment.replace(tzinfo=NEW_YORK)


def entry(spec: dict[str, Any]) -> TimelineEntry:
    at = local(spec["at"])
    promised = spec.get("promised_update_at")
    if "text" in spec:
        found = promised_time(spec["text"], at, OFFICE)
        assert found is not None, f"no promise read in {spec['text']!r}"
        promised = found.at
    return TimelineEntry(
        at=at,
        kind=EntryKind(spec["kind"]),
        status=spec.get("status"),
        promised_update_at=local(promised) if promised is not None and promised.tzinfo is None else promised,
    )


def policy(case: dict[str, Any]) -> ClockPolicy:
    hours = TABLE["defaults"]["targets"] | case.get("targets", {})
    unknown = set(hours) - {name.value for name in ClockName}
    assert not unknown, f"unknown targets {unknown}"
    targets = SlaTargets(
        first_response_hours=hours["first_response"],
        next_update_hours=hours["next_update"],
        escalation_hours=hours["escalation"],
        resolution_hours=hours["resolution"],
    )
    mode = UpdateMode(case.get("update_mode", UpdateMode.BETWEEN_REPLIES))
    return ClockPolicy(targets=targets, calendar=OFFICE, update_mode=mode)


def check(clock: Clock, expected: dict[str, Any]) -> None:
    unknown = set(expected) - {"state", "none", *FIELDS}
    assert not unknown, f"unknown expectation keys {unknown}"
    assert clock.state == expected["state"], clock
    for name in FIELDS:
        if name in expected:
            assert getattr(clock, name) == local(expected[name]), f"{clock.name}.{name}: {clock}"
    for name in expected.get("none", []):
        assert name in FIELDS
        assert getattr(clock, name) is None, f"{clock.name}.{name} should be unset: {clock}"


def test_case_names_are_unique() -> None:
    names = [case["name"] for case in CASES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_golden_clocks(case: dict[str, Any]) -> None:
    trigger = case.get("escalation_triggered_at")
    clocks = compute_clocks(
        [entry(spec) for spec in case["timeline"]],
        policy(case),
        local(case["now"]),
        escalation_triggered_at=local(trigger) if trigger is not None else None,
    )

    assert [clock.name for clock in clocks] == list(TIMELINE_CLOCKS)
    by_name = {clock.name: clock for clock in clocks}
    assert case["expect"], "a case must expect something"
    for name, expected in case["expect"].items():
        check(by_name[ClockName(name)], expected)

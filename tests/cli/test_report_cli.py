"""`aftersales report` on SQLite and PostgreSQL: twelve weeks of planted cases, and the
per-week medians and 90th percentiles computed again here, plainly, from what was planted.

The reference below shares nothing with the report's code: business hours are summed day
by day over the policy's opening hours and the ``holidays`` package's New York holidays,
percentiles come from the standard library's ``statistics``.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import holidays
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine

from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.cli import cli
from aftersales.services.routing import RoutingKit
from support.trend_cases import FIRST_MONDAY, LAST_DAY, NOW, WEEKS, ZONE, PlantedCase, insert_cases, plant

Env = dict[str, str | None]


@pytest.fixture
def planted(uow: SqlUnitOfWork, engine: Engine) -> list[PlantedCase]:
    cases = plant()
    insert_cases(engine, cases)
    return cases


@pytest.fixture
def env(engine: Engine, tmp_path: Path) -> Env:
    return {
        "AFTERSALES_DATA_DIR": str(tmp_path),
        "AFTERSALES_POLICY": None,
        "AFTERSALES_DATABASE_URL": engine.url.render_as_string(hide_password=False),
    }


def run(env: Env, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["report", "--week", LAST_DAY, "--now", NOW, *args], env=env)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


# ------------------------------------------------------------------ the reference


def reference_hours(kit: RoutingKit, start: datetime, end: datetime) -> float:
    """Open hours between two moments, one local day at a time."""
    closed = holidays.country_holidays("US", subdiv="NY", years=range(2025, 2028))
    seconds = 0.0
    day = start.astimezone(ZONE).date() - timedelta(days=1)
    while day <= end.astimezone(ZONE).date():
        if day not in closed and day not in kit.policy.closures:
            for interval in kit.policy.business_hours.get(day.weekday(), ()):
                close_day = day + timedelta(days=1) if interval.end == time(0) else day
                opens = datetime.combine(day, interval.start, tzinfo=ZONE).astimezone(UTC)
                closes = datetime.combine(close_day, interval.end, tzinfo=ZONE).astimezone(UTC)
                overlap = (min(closes, end) - max(opens, start)).total_seconds()
                seconds += max(0.0, overlap)
        day += timedelta(days=1)
    return seconds / 3600


def reference_spread(values: Sequence[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    if len(values) == 1:
        return values[0], values[0]
    return statistics.median(values), statistics.quantiles(values, n=10, method="inclusive")[8]


def reference_weeks(kit: RoutingKit, cases: list[PlantedCase]) -> list[dict[str, Any]]:
    weeks = []
    for number in range(WEEKS):
        start = FIRST_MONDAY + timedelta(weeks=number)
        end = FIRST_MONDAY + timedelta(weeks=number + 1)
        mine = [c for c in cases if start <= c.opened_at < end]
        first_response, resolution = [], []
        for case in mine:
            opening = min(case.inbound)
            replies = sorted(at for at, _ in case.outbound if at >= opening)
            if replies:
                first_response.append(reference_hours(kit, opening, replies[0]))
            if case.resolved_at is not None:
                resolution.append(reference_hours(kit, opening, case.resolved_at))
        latest = [max(c.ratings)[1] for c in mine if c.ratings]
        weeks.append(
            {
                "cases": len(mine),
                "routes": {
                    route: sum(1 for c in mine if c.route == route) for route in {c.route for c in mine}
                },
                "first_response": reference_spread(first_response),
                "resolution": reference_spread(resolution),
                "satisfaction": latest.count("good") / len(latest) if latest else None,
            }
        )
    return weeks


# ------------------------------------------------------------------ the tests


def test_the_per_week_medians_and_p90s_match_a_plain_reference(
    planted: list[PlantedCase], env: Env, kit: RoutingKit
) -> None:
    report = json.loads(run(env, "--weeks", "12", "--json").output)
    expected = reference_weeks(kit, planted)
    assert len(report["weeks"]) == WEEKS
    assert report["weeks"][0]["start"] == "2026-09-07T00:00:00-04:00"
    assert report["weeks"][-1]["week"] == "2026-W48"
    assert sum(w["cases"] for w in report["weeks"]) == len(planted) - 2  # one before, one after
    for got, want in zip(report["weeks"], expected, strict=True):
        assert got["cases"] == want["cases"], got["week"]
        assert got["volume_by_route"] == want["routes"], got["week"]
        for name, key in (("first_response_hours", "first_response"), ("resolution_hours", "resolution")):
            median, p90 = want[key]
            assert got[name]["median"] == pytest.approx(median, abs=1e-3), (got["week"], name)
            assert got[name]["p90"] == pytest.approx(p90, abs=1e-3), (got["week"], name)
        assert got["satisfaction"] == pytest.approx(want["satisfaction"], abs=1e-4), got["week"]
    # the figures are not trivially empty: most weeks have hours of both kinds
    assert sum(1 for w in report["weeks"] if w["resolution_hours"]["median"] is not None) >= 10


def test_each_agent_and_the_imported_cases_are_counted(planted: list[PlantedCase], env: Env) -> None:
    report = json.loads(run(env, "--json").output)
    inside = planted[1:-1]
    agents = {row["agent"]: row for row in report["agents"]}
    assert agents["Ana"]["cases"] == sum(1 for c in inside if c.assignee == "ana@northwind.example") + sum(
        1 for c in inside if not c.assignee and _first_author(c) == "Ana"
    )
    assert "ben@northwind.example" in agents  # a user with no name shows by e-mail
    reopened = sum(row["reopened"] for row in report["agents"])
    assert reopened == sum(1 for c in inside if c.reopened) > 0
    assert sum(w["imported"] for w in report["weeks"]) == sum(1 for c in inside if c.imported_from) > 0
    assert all(0 <= (w["sla_attainment"] or 0) <= 1 for w in report["weeks"])


def _first_author(case: PlantedCase) -> str:
    replies = sorted(r for r in case.outbound if r[0] >= min(case.inbound))
    return replies[0][1] if replies else ""


def test_csv_and_text_carry_the_same_figures(planted: list[PlantedCase], env: Env) -> None:
    report = json.loads(run(env, "--json").output)
    rows = list(csv.DictReader(io.StringIO(run(env, "--csv").output)))
    medians = {
        r["week"]: r["value"]
        for r in rows
        if r["scope"] == "week" and r["metric"] == "first_response_hours_median"
    }
    for week in report["weeks"]:
        median = week["first_response_hours"]["median"]
        assert medians[week["week"]] == ("" if median is None else str(median))
    text = run(env).output
    assert "Trend 2026-W37 to 2026-W48" in text
    assert "Agents (every week):" in text


def test_a_report_file_is_written_whole(planted: list[PlantedCase], env: Env, tmp_path: Path) -> None:
    out = tmp_path / "trend.md"
    result = run(env, "--markdown", "--output", str(out))
    assert "written to" in result.output
    assert "| Agent | Cases |" in out.read_text(encoding="utf-8")


def test_the_weekly_review_ends_with_the_same_trend(planted: list[PlantedCase], env: Env) -> None:
    def review(*args: str) -> dict[str, Any]:
        command = ["review", "--week", LAST_DAY, "--now", NOW, "--format", "json", *args]
        result = CliRunner().invoke(cli, command, env=env)
        assert result.exit_code == 0, (result.output, result.exception)
        parsed: dict[str, Any] = json.loads(result.output)
        return parsed

    report = json.loads(run(env, "--json").output)
    trend = review()["trend"]
    assert [w["first_response_hours"] for w in trend["weeks"]] == [
        w["first_response_hours"] for w in report["weeks"]
    ]
    assert review("--trend-weeks", "0")["trend"] is None


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--weeks", "0"], "--weeks"),
        (["--weeks", "500"], "--weeks"),
        (["--json", "--csv"], "choose one of"),
        (["--week", "last week"], "--week"),
    ],
)
def test_bad_options_are_refused(env: Env, args: list[str], says: str) -> None:
    result = CliRunner().invoke(cli, ["report", "--now", NOW, *args], env=env)
    assert result.exit_code == 2
    assert says in result.output


def test_a_week_that_has_not_started_is_refused(env: Env, uow: SqlUnitOfWork) -> None:
    result = CliRunner().invoke(cli, ["report", "--week", "2027-01-20", "--now", NOW], env=env)
    assert result.exit_code != 0
    assert "has not started yet" in str(result.exception)


def test_the_reference_hours_are_business_hours(kit: RoutingKit) -> None:
    """The reference itself, on a week the default policy spells out: Friday closes at
    16:00, Saturday opens 10-13, Sunday is closed, Monday opens 9-12 and 13-17."""
    friday = datetime.combine(date(2026, 11, 20), time(15, 30), tzinfo=ZONE)
    monday = datetime.combine(date(2026, 11, 23), time(13, 30), tzinfo=ZONE)
    assert reference_hours(kit, friday, monday) == pytest.approx(0.5 + 3 + 3 + 0.5)

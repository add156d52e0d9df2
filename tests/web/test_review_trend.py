"""The weekly review page's trend (browser-free): twelve weeks of charts as inline SVG that
screen readers can name, the same numbers in tables, and the agents' table."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from aftersales.domain.accounts import Role
from aftersales.services.trends import run_trend
from support.trend_cases import LAST_DAY, PlantedCase, insert_cases, plant

PAGE = f"/review?week={LAST_DAY}"


def test_the_review_page_draws_the_trend_and_tabulates_it(
    client: TestClient, app: FastAPI, engine: Engine, signed_in: Callable[[Role], str]
) -> None:
    cases: list[PlantedCase] = plant()
    insert_cases(engine, cases)
    signed_in(Role.OPERATIONS)
    page = client.get(PAGE)
    assert page.status_code == 200
    section = page.text[page.text.index('<section class="trend">') :]
    assert "Trend: the last 12 weeks" in section
    assert "2026-W37 to 2026-W48" in section

    svgs = re.findall(r"<svg .*?</svg>", section, re.DOTALL)
    assert len(svgs) == 4
    for svg in svgs:
        assert 'role="img"' in svg
        assert "viewBox=" in svg
        ident = re.search(r'aria-labelledby="(\S+) (\S+)"', svg)
        assert ident is not None
        assert f'<title id="{ident.group(1)}">' in svg
        assert f'<desc id="{ident.group(2)}">' in svg
    assert "<script" not in section

    web = app.state.web
    trend = run_trend(
        web.desk.read_trends, web.kit, last_day=date.fromisoformat(LAST_DAY), weeks=12, now=datetime.now(UTC)
    )
    last = trend.weeks[-1]
    row = re.search(r"<tr><td>2026-W48</td>(.*?)</tr>", section)
    assert row is not None
    cells = re.findall(r"<td>(.*?)</td>", row.group(1))
    assert cells[0] == str(last.cases)
    assert last.first_response.median is not None
    assert last.resolution.p90 is not None
    assert cells[1] == f"{last.first_response.median:.1f}"
    assert cells[4] == f"{last.resolution.p90:.1f}"
    assert f"2026-W48: {last.cases} cases" in svgs[0]  # the chart's description says it too

    agents = section[section.index("<h3>Agents</h3>") :]
    for agent in trend.agents:
        assert f"<td>{agent.agent}</td><td>{agent.cases}</td>" in agents
    assert "ben@northwind.example" in agents


def test_the_standalone_report_carries_the_trend_too(
    client: TestClient, engine: Engine, signed_in: Callable[[Role], str]
) -> None:
    insert_cases(engine, plant())
    signed_in(Role.OPERATIONS)
    report = client.get(f"/review/report.html?week={LAST_DAY}")
    assert report.status_code == 200
    assert '<section class="trend">' in report.text
    assert report.text.count("<svg") >= 9  # the week's five bar charts and the trend's four

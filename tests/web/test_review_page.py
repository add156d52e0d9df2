"""The weekly review page: the report for a week, findings linked to their cases, filing
the tasks, and closing one with a note (CSRF-protected)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert

from aftersales.adapters.db import schema
from aftersales.domain.accounts import Role

WEEK = "/review?week=2026-11-25"
FINDING = "3 wrong_item cases on sku TMB-20-BLK (Black)"


@pytest.fixture
def planted(engine: Engine, app: object) -> list[int]:
    """The demo week in short: three wrong colours on one SKU, two stalled UPS scans."""
    monday = datetime(2026, 11, 23, 9, tzinfo=ZoneInfo("America/New_York"))
    rows = [
        (2, "wrong_item", "TMB-20-BLK", "Black", ""),
        (3, "wrong_item", "TMB-20-BLK", "Black", ""),
        (4, "wrong_item", "TMB-20-BLK", "Black", ""),
        (1, "shipping_delay", "TMB-20-BLK", "Black", "UPS"),
        (1, "shipping_delay", "MUG-12-WHT", "White", "UPS"),
    ]
    ids = []
    with engine.begin() as connection:
        for day, route, sku, variant, carrier in rows:
            at = monday + timedelta(days=day)
            values = {"route": route, "status": "open", "lead_role": "operations", "opened_at": at}
            values |= {"updated_at": at, "sku": sku, "variant": variant, "carrier": carrier, "reason": "x"}
            values |= {"clocks": [{"name": "first_response", "state": "met"}]}
            ids.append(
                connection.execute(
                    insert(schema.cases).values(values).returning(schema.cases.c.id)
                ).scalar_one()
            )
    return ids


def test_the_page_shows_the_week_without_filing(
    client: TestClient, signed_in: Callable[[Role], str], planted: list[int]
) -> None:
    signed_in(Role.OPERATIONS)
    page = client.get(WEEK)
    assert page.status_code == 200
    assert FINDING in page.text
    for case_id in planted[:3]:
        assert f'href="/cases/{case_id}"' in page.text
    assert "<svg" in page.text
    assert "not filed yet" in page.text
    assert "shipping_delay carrier UPS: 2 cases" in page.text


def test_filing_then_closing_a_task_with_a_note(
    client: TestClient, signed_in: Callable[[Role], str], planted: list[int]
) -> None:
    token = signed_in(Role.OPERATIONS)
    filed = client.post("/review/file", data={"csrf_token": token, "week": "2026-11-25"})
    assert filed.status_code == 303
    page = client.get(filed.headers["location"]).text
    assert "1 findings filed, 1 new tasks" in page
    task_id = re.search(r'action="/review/tasks/(\d+)/close"', page)
    assert task_id is not None
    close = f"/review/tasks/{task_id.group(1)}/close"
    assert client.post(close, data={"note": "Bins relabelled"}).status_code == 403  # no CSRF token
    refused = client.post(close, data={"csrf_token": token, "note": " ", "week": "2026-11-25"})
    assert "needs a note" in client.get(refused.headers["location"]).text
    done = client.post(close, data={"csrf_token": token, "note": "Bins relabelled", "week": "2026-11-25"})
    page = client.get(done.headers["location"]).text
    assert f"task {task_id.group(1)} closed" in page
    assert "closed: Bins relabelled" in page
    assert 'action="/review/tasks/' not in page


def test_the_standalone_report_has_no_script(
    client: TestClient, signed_in: Callable[[Role], str], planted: list[int]
) -> None:
    signed_in(Role.OPERATIONS)
    report = client.get("/review/report.html?week=2026-11-25")
    assert report.status_code == 200
    assert FINDING in report.text
    assert "<script" not in report.text


def test_a_week_that_is_not_a_date_is_refused(client: TestClient, signed_in: Callable[[Role], str]) -> None:
    signed_in(Role.OPERATIONS)
    assert client.get("/review?week=last-week").status_code == 422


def test_signed_out_visitors_go_to_sign_in(client: TestClient) -> None:
    response = client.get(WEEK)
    assert (response.status_code, response.headers["location"].split("?")[0]) == (303, "/login")

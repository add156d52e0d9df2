"""The jobs page: an admin sees the job log's runs and failures, nobody else does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from aftersales.adapters.db.job_log import job_log_unit_of_work
from aftersales.domain.accounts import Role
from aftersales.services.jobs import JobRunner


def _log_runs(app: FastAPI) -> None:
    runner = JobRunner(
        job_log_unit_of_work(app.state.web.desk.engine), lambda: datetime.now(UTC), "web1:4242"
    )
    runner.run("sla_tick", lambda: {"cases": 7, "breaches": 1})

    def down() -> dict[str, int]:
        raise ConnectionRefusedError

    with pytest.raises(ConnectionRefusedError):
        runner.run("send_outbox", down)


def test_an_admin_sees_the_runs_and_can_show_only_failures(
    app: FastAPI, client: TestClient, signed_in: Callable[[Role], str]
) -> None:
    _log_runs(app)
    signed_in(Role.ADMIN)
    page = client.get("/jobs")
    assert page.status_code == 200
    assert 'href="/jobs"' in page.text  # the admin menu's link
    assert "sla_tick" in page.text
    assert "cases 7, breaches 1" in page.text
    assert "web1:4242" in page.text
    failed = client.get("/jobs?failed=true").text
    assert "ConnectionRefusedError" in failed
    assert "sla_tick" not in failed


@pytest.mark.parametrize("role", [Role.OPERATIONS, Role.FRONTLINE])
def test_only_an_admin_sees_the_jobs(
    client: TestClient, signed_in: Callable[[Role], str], role: Role
) -> None:
    signed_in(role)
    assert client.get("/jobs").status_code == 403
    assert 'href="/jobs"' not in client.get("/cases").text

"""An imported case on the web desk: its page and the API's case show it, with its history's
messages and timeline and no clock running. Runs on SQLite, and on PostgreSQL when configured."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from aftersales.adapters.db import schema
from aftersales.adapters.db.history_import import history_unit_of_work
from aftersales.adapters.files.history.readers import read_history
from aftersales.domain.accounts import Role
from aftersales.services.history_import import import_history
from support.history import STORY, write_lines


def test_the_page_and_the_api_show_an_imported_case(
    app: FastAPI,
    client: TestClient,
    engine: Engine,
    tmp_path: Path,
    token: Callable[[Role], dict[str, str]],
    signed_in: Callable[[Role], str],
) -> None:
    path = write_lines(tmp_path / "past.jsonl", STORY)
    import_history(
        history_unit_of_work(engine), app.state.web.kit, read_history(path, None), now=datetime.now(UTC)
    )
    with engine.connect() as db:
        case_id = db.execute(
            select(schema.cases.c.id).where(schema.cases.c.order_number == "1043")
        ).scalar_one()
    headers = token(Role.OPERATIONS)

    api = client.get(f"/api/cases/{case_id}", headers=headers)
    signed_in(Role.FRONTLINE)
    page = client.get(f"/cases/{case_id}")

    assert api.status_code == 200, api.text
    case = api.json()["case"]
    assert (case["status"], case["next_due_at"], case["risk"]) == ("closed", None, 0)
    assert case["route_check"].startswith("imported from aftersales: routed by")
    assert page.status_code == 200, page.text
    assert "Sorry Anna, I have asked the carrier." in page.text
    assert "carrier ticket opened" in page.text
    assert "history_opened" in page.text or "imported" in page.text

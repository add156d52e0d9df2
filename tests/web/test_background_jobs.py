"""The server's timer: the SLA tick every time, the review-request job once an hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from sqlalchemy import func, select

from aftersales.adapters.db import schema
from aftersales.domain.orders import OrderFacts
from aftersales.web.app import REVIEW_REQUEST_SECONDS, _Jobs


def deliver(app: FastAPI, number: str) -> None:
    web = app.state.web
    now = datetime.now(UTC)
    with web.desk.uow() as cases:
        buyer = cases.customer_id(f"buyer{number}@example.com", "", now)
        cases.save_order(OrderFacts(number=number, delivered_at=now - timedelta(days=20)), buyer, now)


def requests(app: FastAPI) -> int:
    with app.state.web.desk.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(schema.review_requests)).scalar_one())


def test_review_requests_run_on_the_first_tick_then_hourly(app: FastAPI) -> None:
    jobs = _Jobs(app.state.web, 60)
    deliver(app, "1043")
    jobs.run_once()
    assert requests(app) == 1
    deliver(app, "1044")
    jobs.run_once()  # a minute later: the hour is not up
    assert requests(app) == 1
    assert jobs.review_requests_ran is not None
    jobs.review_requests_ran -= REVIEW_REQUEST_SECONDS
    jobs.run_once()
    assert requests(app) == 2

"""The server's jobs: review requests hourly, the tick on its timer, retraining every ten minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from sqlalchemy import func, select

from aftersales.adapters.db import schema
from aftersales.domain.jobs import JobName
from aftersales.domain.orders import OrderFacts
from aftersales.jobs.desk_jobs import RETRAIN_SECONDS, REVIEW_REQUEST_SECONDS
from aftersales.web.app import web_jobs


def deliver(app: FastAPI, number: str) -> None:
    web = app.state.web
    now = datetime.now(UTC)
    with web.desk.uow() as cases:
        buyer = cases.customer_id(f"buyer{number}@example.com", "", now)
        cases.save_order(OrderFacts(number=number, delivered_at=now - timedelta(days=20)), buyer, now)


def requests(app: FastAPI) -> int:
    with app.state.web.desk.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(schema.review_requests)).scalar_one())


def test_the_review_request_job_schedules_newly_delivered_orders(app: FastAPI) -> None:
    jobs = web_jobs(app.state.web)
    deliver(app, "1043")
    assert jobs.review_requests()["scheduled"] == 1
    assert requests(app) == 1
    deliver(app, "1044")
    jobs.review_requests()
    assert requests(app) == 2


def test_review_requests_run_hourly_and_the_tick_on_its_timer(app: FastAPI) -> None:
    periods = {job.name: job.seconds for job, _body in web_jobs(app.state.web).schedule(60)}
    assert periods[JobName.REVIEW_REQUESTS] == REVIEW_REQUEST_SECONDS
    assert (periods[JobName.SLA_TICK], periods[JobName.RETRAIN_ROUTER]) == (60, RETRAIN_SECONDS)
    assert JobName.SLA_TICK not in {job.name for job, _body in web_jobs(app.state.web).schedule(None)}

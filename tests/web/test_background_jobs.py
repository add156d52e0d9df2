"""The server's jobs: review requests hourly, the tick on its timer, retraining every ten minutes,
the cases intake routed by words alone read by meaning every minute."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from sqlalchemy import func, select

from aftersales.adapters.db import schema
from aftersales.domain.jobs import JobName
from aftersales.domain.orders import OrderFacts
from aftersales.domain.routes import Route
from aftersales.jobs.desk_jobs import (
    REREAD_SECONDS,
    RETRAIN_SECONDS,
    REVIEW_REQUEST_SECONDS,
    DeskJobs,
    KitHolder,
)
from aftersales.services.intake import Incoming, take_in
from aftersales.web.app import web_jobs
from support.messages import message


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


def test_the_cases_read_by_words_are_read_by_meaning_every_minute(app: FastAPI) -> None:
    web = app.state.web
    words_only = replace(web.kit, semantic=None, meaning_later=True)
    text = "Hello, do you ship to Canada and roughly how long does it take to get there? Order #1043"
    take_in(web.desk.uow, words_only, Incoming(message(text), "backlog.mbox#1"), now=datetime.now(UTC))
    web.kit = replace(
        web.kit, semantic=lambda _text: {r: 0.9 if r is Route.PRE_PURCHASE else 0.01 for r in Route}
    )

    periods = {job.name: job.seconds for job, _body in web_jobs(web).schedule(None)}
    assert periods[JobName.READ_BY_MEANING] == REREAD_SECONDS
    assert web_jobs(web).read_by_meaning() == {"read": 1, "rerouted": 1, "left": 0}
    without = DeskJobs(web.settings, web.desk, KitHolder(replace(web.kit, semantic=None)))
    assert JobName.READ_BY_MEANING not in {job.name for job, _ in without.schedule(None)}

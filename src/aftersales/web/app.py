"""The web desk: an ASGI app (FastAPI) with server-rendered pages and a JSON API.

``create_app`` builds everything once: the desk's database, the routing kit, the accounts.
While it runs, a background task advances the SLA clocks (`aftersales sla tick`) on a timer
and runs the review-request job (`aftersales review-requests run`) once an hour, and retrains
the store's router model once the policy's ``[learning] retrain_every`` new route labels came.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

import anyio.to_thread
from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware

from aftersales import __version__
from aftersales.adapters.db.review_requests import review_requests_unit_of_work
from aftersales.ports import PasswordHasher
from aftersales.services.learning import retrain_if_due
from aftersales.services.review_requests import schedule_and_send
from aftersales.services.sla import tick
from aftersales.settings import Settings, load_settings
from aftersales.web import api, errors, pages, queue_pages, review_pages, user_pages, webhooks
from aftersales.web.access_log import AccessLog
from aftersales.web.attachment_pages import router as attachment_router
from aftersales.web.body_limit import BodyLimit, body_caps
from aftersales.web.context import WebDesk, build_web_desk
from aftersales.web.packet_pages import router as packet_router
from aftersales.web.sanitize import FRAME_CSP, PAGE_CSP
from aftersales.wiring import builtin_examples, load_store_model, router_models

log = logging.getLogger("aftersales.web")
_HERE = resources.files("aftersales.web")
FORM_COOKIE = "aftersales_form"  # the anonymous CSRF token of the sign-in and contact forms
HANDLER_THREADS = 4  # below the connection pool's 5
REVIEW_REQUEST_SECONDS = 3600.0  # review requests are due by the day: hourly is soon enough
_SESSION_DAYS = 14


def create_app(
    settings: Settings, *, hasher: PasswordHasher | None = None, tick_seconds: float | None = 60.0
) -> FastAPI:
    """The app for the store in ``settings``; ``tick_seconds`` None runs no background tick."""
    web = build_web_desk(settings, hasher)
    app = FastAPI(
        title="aftersales",
        version=__version__,
        summary="The support desk's JSON API: cases, replies, notes, evidence, decisions, routing.",
        docs_url=None,  # Swagger UI loads from a CDN; the schema is at /openapi.json
        redoc_url=None,
        lifespan=_lifespan(web, tick_seconds),
    )
    app.state.web = web
    app.state.templates = _templates(web)
    app.add_middleware(
        SessionMiddleware,
        secret_key=web.secret_key,
        session_cookie=FORM_COOKIE,
        max_age=_SESSION_DAYS * 24 * 3600,
        same_site="lax",
        https_only=settings.secure_cookies,  # signed-in sessions: web/security.py
    )
    app.add_middleware(errors.LastResort)  # a 500 answered and logged without customer data
    app.middleware("http")(_security_headers)
    # an oversize body is refused before sessions, sign-in or parsing (only the access log
    # is outside it, so a 413 is logged too)
    app.add_middleware(BodyLimit, default=settings.max_body_bytes, caps=body_caps(settings))
    app.add_middleware(AccessLog)  # outermost: one line per request, 500s included
    errors.install(app)
    app.include_router(api.router)
    app.include_router(queue_pages.router)
    app.include_router(pages.router)
    app.include_router(packet_router)
    app.include_router(attachment_router)
    app.include_router(review_pages.router)
    app.include_router(user_pages.router)
    app.include_router(webhooks.router)
    app.mount("/static", StaticFiles(directory=str(_HERE / "static")), name="static")
    app.add_api_route("/healthz", _health, methods=["GET"], tags=["health"])
    return app


def create_app_from_environment() -> FastAPI:
    """The app of one of several server processes (`aftersales serve --workers N`): settings
    from the environment, and no clock tick (the parent process ticks, once for all)."""
    return create_app(load_settings(os.environ), tick_seconds=None)


def tick_in_background(web: WebDesk, seconds: float) -> threading.Thread:
    """`aftersales sla tick` every ``seconds`` in a daemon thread of this process."""

    jobs = _Jobs(web, seconds)

    def run() -> None:
        while True:
            time.sleep(seconds)
            jobs.run_once()

    thread = threading.Thread(target=run, name="sla-tick", daemon=True)
    thread.start()
    return thread


def _health() -> dict[str, str]:
    """Public: the server is up."""
    return {"status": "ok", "version": __version__}


async def _security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def _templates(web: WebDesk) -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(_HERE / "templates"))
    # the templates ship with the package: no need to look at their files' times on every page
    templates.env.auto_reload = False
    zone = web.kit.calendar.tz
    templates.env.filters["local"] = lambda moment: _local(moment, zone)
    templates.env.globals.update(store=web.kit.policy.store_name, version=__version__, frame_csp=FRAME_CSP)
    # what the mail banner and the replies' delivery states say (base.html, _delivery.html)
    templates.env.globals.update(
        smtp_configured=web.settings.smtp is not None, imap_configured=web.settings.imap is not None
    )
    return templates


def _local(moment: Any, zone: ZoneInfo) -> str:
    """A stored time as the store reads it: 'Tue 24 Nov 10:00 EST'."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if not isinstance(moment, datetime):
        return "-"
    return _local_text(moment, zone)


@functools.lru_cache(maxsize=8192)
def _local_text(moment: datetime, zone: ZoneInfo) -> str:
    """Cached: a queue page shows the same cases' times on every refresh, and formatting them
    was a twentieth of the page's time."""
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %H:%M} {local.tzname() or ''}".strip()


def _lifespan(web: WebDesk, tick_seconds: float | None) -> Callable[[FastAPI], Any]:
    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Handlers run in worker threads. One process has one core's worth of Python, so
        # more threads only queue on the GIL and the connection pool: a few at a time
        # finish sooner (measured in docs/benchmarks.md).
        anyio.to_thread.current_default_thread_limiter().total_tokens = HANDLER_THREADS
        task = asyncio.create_task(_tick_forever(web, tick_seconds)) if tick_seconds else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            web.desk.engine.dispose()

    return lifespan


async def _tick_forever(web: WebDesk, seconds: float) -> None:
    """`aftersales sla tick` every ``seconds``: clocks move and breaches are recorded even when
    nobody opens a page."""
    jobs = _Jobs(web, seconds)
    while True:
        await asyncio.sleep(seconds)
        await asyncio.to_thread(jobs.run_once)


@dataclass(slots=True)
class _Jobs:
    """What the server does on its timer: the SLA tick every time, and the review-request job
    (`aftersales review-requests run`) once an hour. A failed job is logged and tried again."""

    web: WebDesk
    seconds: float
    review_requests_ran: float | None = None  # time.monotonic() of the last run

    def run_once(self) -> None:
        try:
            tick(self.web.desk.uow, self.web.kit, self.web.now(), read=self.web.desk.read)
        except Exception as error:  # logged without its text, which may quote customer data
            errors.log_failure(f"the SLA tick failed; trying again in {self.seconds} s", error)
        self.retrain()
        started = time.monotonic()
        if (
            self.review_requests_ran is not None
            and started - self.review_requests_ran < REVIEW_REQUEST_SECONDS
        ):
            return
        self.review_requests_ran = started
        try:
            schedule_and_send(
                review_requests_unit_of_work(self.web.desk.engine),
                usage_days=self.web.kit.policy.review_request_days,
                now=self.web.now(),
            )
        except Exception as error:
            errors.log_failure("the review-request job failed; trying again in an hour", error)

    def retrain(self) -> None:
        """Retrain the store's router model from the desk's labels once the policy's
        ``[learning] retrain_every`` new ones came; a promoted model is used from then on."""
        web = self.web
        try:
            learned = retrain_if_due(
                web.desk.read,
                web.kit,
                router_models(web.settings),
                builtin_examples(),
                every=web.kit.policy.retrain_every,
                at=web.now(),
            )
            if learned is None:
                return
            log.info("router model retrained: %s", learned.as_dict())
            if learned.version.promoted:
                web.kit = dataclasses.replace(web.kit, model=load_store_model(web.settings.model_file))
        except Exception as error:
            errors.log_failure("retraining the router model failed; trying again on the next tick", error)

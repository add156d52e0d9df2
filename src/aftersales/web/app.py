"""The web desk: an ASGI app (FastAPI) with server-rendered pages and a JSON API.

``create_app`` builds everything once: the desk's database, the routing kit, the accounts.
With ``tick_seconds``, it runs the desk's background jobs in this process while it runs
(aftersales/jobs/: the SLA tick, review requests, retraining, and the mail poll and outbox
when IMAP and SMTP are configured); `aftersales serve` decides where jobs run instead.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
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
from aftersales.jobs.back_end import start_in_process
from aftersales.jobs.desk_jobs import DeskJobs
from aftersales.ports import PasswordHasher
from aftersales.settings import Settings, load_settings
from aftersales.web import (
    api,
    errors,
    job_pages,
    outbound_webhook_pages,
    pages,
    queue_pages,
    rating_pages,
    user_pages,
    webhooks,
    weekly_review_pages,
)
from aftersales.web.access_log import AccessLog
from aftersales.web.attachment_pages import router as attachment_router
from aftersales.web.body_limit import BodyLimit, body_caps
from aftersales.web.context import WebDesk, build_web_desk
from aftersales.web.packet_pages import router as packet_router
from aftersales.web.sanitize import FRAME_CSP, PAGE_CSP

log = logging.getLogger("aftersales.web")
_HERE = resources.files("aftersales.web")
FORM_COOKIE = "aftersales_form"  # the anonymous CSRF token of the sign-in and contact forms
HANDLER_THREADS = 4  # below the connection pool's 5
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
    app.middleware("http")(_fresh_model)  # a model another process promoted is used here too
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
    app.include_router(weekly_review_pages.router)
    app.include_router(user_pages.router)
    app.include_router(rating_pages.router)
    app.include_router(job_pages.router)
    app.include_router(outbound_webhook_pages.router)
    app.include_router(webhooks.router)
    app.mount("/static", StaticFiles(directory=str(_HERE / "static")), name="static")
    app.add_api_route("/healthz", _health, methods=["GET"], tags=["health"])
    return app


def create_app_from_environment() -> FastAPI:
    """The app of one of several server processes (`aftersales serve --workers N`): settings
    from the environment, and no clock tick (the parent process ticks, once for all)."""
    return create_app(load_settings(os.environ), tick_seconds=None)


def web_jobs(web: WebDesk) -> DeskJobs:
    """The desk's jobs, reading the web desk's kit (a promoted model replaces it there)."""
    return DeskJobs(web.settings, web.desk, web)


def _health() -> dict[str, str]:
    """Public: the server is up."""
    return {"status": "ok", "version": __version__}


async def _fresh_model(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    request.app.state.web.refresh_model()
    return await call_next(request)


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
        jobs = start_in_process(web_jobs(web), tick_seconds) if tick_seconds else None
        try:
            yield
        finally:
            if jobs is not None:
                jobs.stop()
            web.desk.close()

    return lifespan

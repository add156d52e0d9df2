"""One JSON error shape for the API, an HTML page for the pages, the sign-in redirect.

Every API error is ``{"error": {"status": 404, "code": "not_found", "message": "..."}}``;
``details`` is added where there is more to say (which fields, which reply checks).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aftersales import logs
from aftersales.domain.cases import CaseNotFound, InvalidTransition
from aftersales.domain.errors import AftersalesError, InputError, headed
from aftersales.services.collisions import CaseChanged
from aftersales.services.desk import EvidenceNotFound
from aftersales.services.replies import ReplyRefused
from aftersales.wiring import storage_error

log = logging.getLogger("aftersales.web")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


class LoginRequired(Exception):
    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def error_body(status: int, code: str, message: str, details: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"status": status, "code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {"error": error}


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(AftersalesError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


def _respond(request: Request, status: int, code: str, message: str, details: Any = None) -> Response:
    if request.url.path.startswith(("/api/", "/webhooks/")) or "json" in request.headers.get("accept", ""):
        return JSONResponse(error_body(status, code, message, details), status_code=status)
    templates = request.app.state.templates
    page = {"status": status, "message": message, "back": back_link(request.url.path, status)}
    return templates.TemplateResponse(  # type: ignore[no-any-return]
        request, "error.html", page | _signed_in(request), status_code=status
    )


def back_link(path: str, status: int) -> str:
    """Where an error page's Back goes: the case the request was about, else the queue (a plain
    link: the site's CSP runs no inline script, so ``javascript:history.back()`` does nothing).
    A case that is not there sends back to the queue."""
    parts = path.strip("/").split("/")
    if (
        status != 404
        and len(parts) >= 2
        and parts[0] == "cases"
        and parts[1].isdigit()
        and len(parts[1]) <= 10
    ):
        return f"/cases/{parts[1]}"
    return "/cases"


def _signed_in(request: Request) -> dict[str, Any]:
    """The site menu's user and the sign-out form's token, when the request is signed in."""
    # imported here: web.security raises this module's errors, so it imports this module
    from aftersales.web.security import desk_session

    try:
        session = desk_session(request)
    except storage_error() as error:  # the page says what went wrong first; the menu is extra
        log_failure("the error page could not read the session", error)
        return {"path": request.url.path}
    if session is None:
        return {"path": request.url.path}
    return {"user": session.user, "csrf_token": session.csrf_token, "path": request.url.path}


async def _api_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ApiError)
    return _respond(request, error.status, error.code, error.message, error.details)


async def _login_required(request: Request, error: Exception) -> Response:
    assert isinstance(error, LoginRequired)
    return RedirectResponse(f"/login?next={quote(error.path)}", status_code=303)


def domain_error_status(error: AftersalesError) -> tuple[int, str]:
    if isinstance(error, CaseNotFound | EvidenceNotFound):
        return 404, "not_found"
    if isinstance(error, InvalidTransition):
        return 409, "invalid_transition"
    if isinstance(error, CaseChanged):
        return 409, "case_changed"
    if isinstance(error, ReplyRefused):
        return 422, "reply_refused"
    if isinstance(error, InputError):
        return 422, "invalid_input"
    return 400, "bad_request"


async def _domain_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, AftersalesError)
    status, code = domain_error_status(error)
    return _respond(request, status, code, headed(error), domain_error_details(error))


def domain_error_details(error: AftersalesError) -> Any:
    """What the API adds to the message: the failed reply checks, the case's changes."""
    if isinstance(error, ReplyRefused):
        return [{"check": p.check, "fix": p.fix, "sentence": p.sentence} for p in error.problems]
    if isinstance(error, CaseChanged):
        return error.details()
    return None


async def _validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    details = [
        {"where": ".".join(str(part) for part in e.get("loc", ())), "problem": e.get("msg", "")}
        for e in error.errors()
    ]
    message = "; ".join(f"{d['where']}: {d['problem']}" for d in details) or "the request is not valid"
    return _respond(request, 422, "invalid_request", message, details)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
        error.status_code, "http_error"
    )
    return _respond(request, error.status_code, code, str(error.detail))


async def _unexpected(request: Request, error: Exception) -> Response:
    log_unexpected(request.method, request.url.path, error)
    return _respond(request, 500, "internal", "something went wrong on the server; it has been logged")


def log_unexpected(method: str, path: str, error: BaseException) -> None:
    log_failure(f"unexpected error on {method} {path}", error)


def log_failure(what: str, error: BaseException) -> None:
    """The error's type, where it was raised and a short message that carries no customer data
    (see ``aftersales.logs``)."""
    logs.log_failure(log, what, error)


class LastResort:
    """Turns an error no handler took into the 500 answer, logged by ``log_unexpected``.

    Starlette's own last handler sends the 500 and then raises the error again for the server
    to log, with its full text (SQL parameters, a customer's address); stopping it here keeps
    that out of the logs. An error after the answer started is raised as before."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_noting_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_noting_start)
        except Exception as error:
            if started:
                raise
            request = Request(scope)
            log_unexpected(request.method, request.url.path, error)
            message = "something went wrong on the server; it has been logged"
            response = _respond(request, 500, "internal", message)
            await response(scope, receive, send)

"""Who is asking: server-side sessions for the pages, API tokens for scripts, CSRF tokens for forms.

A signed-in browser holds only a random session token in its cookie (``aftersales_session``,
HttpOnly, SameSite=Lax, Secure over HTTPS or with AFTERSALES_SECURE_COOKIES=1); the session
row (the token's hash, the user, the CSRF token, its expiry) is in the database, so signing out,
a password or role change and disabling the user end it on the server, and a copied cookie
dies with it. Before sign-in, the sign-in and contact forms' CSRF token lives in Starlette's
signed cookie (SessionMiddleware). A form post must carry the CSRF token (a synchronizer token:
no library in good standing does only this); a JSON call made with the cookie must send it in
``X-CSRF-Token``. A call with an API token (``Authorization: Bearer ...``) carries no cookie,
so it needs no CSRF token.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Form, Path, Request, Response

from aftersales.domain.accounts import DeskSession, User
from aftersales.domain.values import MAX_ID
from aftersales.services.accounts import (
    SESSION_LIFETIME,
    end_session,
    session_for,
    start_session,
    touch_session,
    user_for_token,
)
from aftersales.web.context import WebDesk
from aftersales.web.errors import ApiError, LoginRequired

SESSION_COOKIE = "aftersales_session"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A session's last use is written at most this often: a write on every page would make each
# read take SQLite's one write lock.
_SEEN_RESOLUTION = timedelta(minutes=5)
_SESSION_KEY = "aftersales.session"  # where a request keeps the session it was found to carry


def web_desk(request: Request) -> WebDesk:
    web: WebDesk = request.app.state.web
    return web


Web = Annotated[WebDesk, Depends(web_desk)]


def desk_session(request: Request) -> DeskSession | None:
    """The signed-in session the request's cookie names, read once per request."""
    state = request.scope.setdefault("state", {})
    if _SESSION_KEY in state:
        found: DeskSession | None = state[_SESSION_KEY]
        return found
    token = request.cookies.get(SESSION_COOKIE, "")
    web = web_desk(request)
    now = web.now()
    session = None
    if token:
        with web.users_read() as users:
            session = session_for(users, token, now)
    if session is not None and now - session.last_seen_at > _SEEN_RESOLUTION:
        with web.users() as users:
            touch_session(users, token, now)
    state[_SESSION_KEY] = session
    if session is not None:
        note_user(request, session.user)
    return session


def note_user(request: Request, user: User) -> None:
    """The user id the access log names for this request."""
    request.scope.setdefault("state", {})["user_id"] = user.id


def csrf_token(request: Request) -> str:
    """The CSRF token of the signed-in session, or else of the anonymous form session (made
    on first use: the sign-in form needs one too)."""
    session = desk_session(request)
    if session is not None:
        return session.csrf_token
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def csrf_matches(request: Request, sent: str) -> bool:
    session = desk_session(request)
    expected = session.csrf_token if session is not None else request.session.get("csrf")
    return isinstance(expected, str) and bool(sent) and hmac.compare_digest(expected, sent)


def session_user(request: Request, web: WebDesk) -> User | None:
    session = desk_session(request)
    return session.user if session is not None else None


def secure_cookies(request: Request, web: WebDesk) -> bool:
    """Secure when the request came over HTTPS (uvicorn reads X-Forwarded-Proto only with
    --proxy-headers from a trusted proxy) or when AFTERSALES_SECURE_COOKIES=1."""
    return web.settings.secure_cookies or request.url.scheme == "https"


def sign_in(request: Request, response: Response, web: WebDesk, user: User) -> None:
    """A fresh server-side session for the user, with a new CSRF token: one seen before
    sign-in is useless, and an old session cookie of this browser is ended."""
    with web.users() as users:
        old = request.cookies.get(SESSION_COOKIE, "")
        if old:
            end_session(users, old)
        token, session = start_session(users, user, web.now())
    request.session.clear()
    request.scope.setdefault("state", {})[_SESSION_KEY] = session
    note_user(request, user)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request, web),
    )


def sign_out(request: Request, response: Response, web: WebDesk) -> None:
    """End the session on the server: the cookie, wherever it was copied, signs nobody in."""
    token = request.cookies.get(SESSION_COOKIE, "")
    if token:
        with web.users() as users:
            end_session(users, token)
    request.session.clear()
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure_cookies(request, web)
    )


def api_user(request: Request, web: Web) -> User:
    """The caller of a JSON endpoint: an API token, or the session with its CSRF header."""
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        with web.users() as users:
            user = user_for_token(users, header[7:].strip(), web.now())
        if user is None:
            raise ApiError(401, "unauthorized", "the API token is not valid or was revoked")
        note_user(request, user)
        return user
    user = session_user(request, web)
    if user is None:
        raise ApiError(401, "unauthorized", "sign in, or send an API token as 'Authorization: Bearer ...'")
    if request.method not in _SAFE_METHODS and not csrf_matches(
        request, request.headers.get("x-csrf-token", "")
    ):
        raise ApiError(403, "csrf", "the X-CSRF-Token header is missing or wrong")
    return user


def page_user(request: Request, web: Web) -> User:
    """The signed-in user of a page; anyone else is sent to the sign-in page."""
    user = session_user(request, web)
    if user is None:
        raise LoginRequired(request.url.path)
    return user


def form_user(request: Request, web: Web, csrf: Annotated[str, Form(alias="csrf_token")] = "") -> User:
    """The signed-in user of a form post that carries the session's CSRF token."""
    user = page_user(request, web)
    if not csrf_matches(request, csrf):
        raise ApiError(403, "csrf", "the form is out of date or was not sent by this site: reload the page")
    return user


# Case ids are the database's 32-bit integers (domain/values.py): a larger one is refused here
# (422) instead of overflowing in the query.
CaseId = Annotated[int, Path(ge=1, le=MAX_ID, description="the case's number")]

ApiUser = Annotated[User, Depends(api_user)]
PageUser = Annotated[User, Depends(page_user)]
FormUser = Annotated[User, Depends(form_user)]

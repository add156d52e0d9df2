"""Who is asking: session cookies for the pages, API tokens for scripts, CSRF tokens for forms.

The session cookie is signed (Starlette's SessionMiddleware, itsdangerous), HttpOnly and
SameSite=Lax, and holds only the user id and the CSRF token. A form post must carry the
session's CSRF token (a synchronizer token: no library in good standing does only this); a
JSON call made with the cookie must send it in ``X-CSRF-Token``. A call with an API token
(``Authorization: Bearer ...``) carries no cookie, so it needs no CSRF token.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Form, Path, Request

from aftersales.domain.accounts import User
from aftersales.services.accounts import user_for_token
from aftersales.web.context import WebDesk
from aftersales.web.errors import ApiError, LoginRequired

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def web_desk(request: Request) -> WebDesk:
    web: WebDesk = request.app.state.web
    return web


Web = Annotated[WebDesk, Depends(web_desk)]


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use (the sign-in form needs one too)."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def csrf_matches(request: Request, sent: str) -> bool:
    expected = request.session.get("csrf")
    return isinstance(expected, str) and bool(sent) and hmac.compare_digest(expected, sent)


def session_user(request: Request, web: WebDesk) -> User | None:
    user_id = request.session.get("user_id")
    if not isinstance(user_id, int):
        return None
    with web.users_read() as users:
        user: User | None = users.user_by_id(user_id)
    return user if user is not None and user.active else None


def sign_in(request: Request, user: User) -> None:
    """A fresh session for the user: a new CSRF token, so one seen before sign-in is useless."""
    request.session.clear()
    request.session["user_id"] = user.id
    csrf_token(request)


def sign_out(request: Request) -> None:
    request.session.clear()


def api_user(request: Request, web: Web) -> User:
    """The caller of a JSON endpoint: an API token, or the session with its CSRF header."""
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        with web.users() as users:
            user = user_for_token(users, header[7:].strip(), web.now())
        if user is None:
            raise ApiError(401, "unauthorized", "the API token is not valid or was revoked")
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


# Case ids are the database's 32-bit integers: a larger one is refused here (422) instead of
# overflowing in the query.
MAX_ID = 2_147_483_647
CaseId = Annotated[int, Path(ge=1, le=MAX_ID, description="the case's number")]

ApiUser = Annotated[User, Depends(api_user)]
PageUser = Annotated[User, Depends(page_user)]
FormUser = Annotated[User, Depends(form_user)]

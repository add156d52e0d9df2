"""The users page for admins: every user with their role and whether they are active, and
forms to disable, enable, change a role or set a password (the `aftersales user` commands).

Each change ends the user's sessions the way the command does; only an admin sees the page or
posts its forms (403 for anyone else).

The account page is every user's own: which notifications they get by e-mail, and whether at
once or in the daily digest (`aftersales user notify`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from aftersales.domain.accounts import MIN_PASSWORD_LENGTH, Role, User, refusal_to_manage_users
from aftersales.domain.errors import InputError
from aftersales.domain.notifications import TOPIC_LABELS, Timing, Topic
from aftersales.domain.values import MAX_ID
from aftersales.ports import UserRepository
from aftersales.services.accounts import disable_user, enable_user, set_password, set_role
from aftersales.services.notifications import choices_of, choose
from aftersales.web.context import WebDesk
from aftersales.web.pages import render
from aftersales.web.security import FormUser, PageUser, Web
from aftersales.web.work import refuse_unless_allowed

router = APIRouter(include_in_schema=False)
UserId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _admin(user: User) -> User:
    refuse_unless_allowed(user, "users", refusal_to_manage_users(user.role))
    return user


def _back(problem: str = "", done: str = "") -> RedirectResponse:
    query = {k: v for k, v in {"problem": problem, "done": done}.items() if v}
    return RedirectResponse(f"/users?{urlencode(query)}" if query else "/users", status_code=303)


def _email_of(users: UserRepository, user_id: int) -> str:
    found = users.user_by_id(user_id)
    if found is None:
        raise InputError(f"no user with id {user_id}")
    return found.email


@router.get("/users")
def users_page(request: Request, web: Web, user: PageUser, problem: str = "", done: str = "") -> HTMLResponse:
    _admin(user)
    with web.users_read() as users:
        everyone = users.list_users()
    context = {
        "user": user,
        "users": everyone,
        "roles": [r.value for r in Role],
        "min_password": MIN_PASSWORD_LENGTH,
        "problem": problem[:300],
        "done": done[:300],
    }
    return render(request, "users.html", context)


Change = Callable[[UserRepository, str], object]


def _change(web: WebDesk, admin: User, user_id: int, change: Change, done: str) -> RedirectResponse:
    """One account change in one transaction; a refusal (the last admin) comes back as text."""
    _admin(admin)
    try:
        with web.users() as users:
            email = _email_of(users, user_id)
            change(users, email)
    except InputError as error:
        return _back(problem=str(error))
    return _back(done=f"{email}: {done}")


@router.post("/users/{user_id}/disable")
def disable(web: Web, user: FormUser, user_id: UserId) -> RedirectResponse:
    change = partial(disable_user, at=web.now())
    return _change(web, user, user_id, change, "disabled, signed out everywhere, API tokens revoked")


@router.post("/users/{user_id}/enable")
def enable(web: Web, user: FormUser, user_id: UserId) -> RedirectResponse:
    return _change(web, user, user_id, enable_user, "enabled")


@router.post("/users/{user_id}/role")
def change_role(web: Web, user: FormUser, user_id: UserId, role: Annotated[Role, Form()]) -> RedirectResponse:
    change = partial(set_role, role=role)
    return _change(web, user, user_id, change, f"now {role.value}, signed out everywhere")


@router.post("/users/{user_id}/password")
def reset_password(
    web: Web, user: FormUser, user_id: UserId, password: Annotated[str, Form(max_length=1_000)]
) -> RedirectResponse:
    def change(users: UserRepository, email: str) -> object:
        return set_password(users, web.hasher, email, password)

    return _change(web, user, user_id, change, "new password set, signed out everywhere")


# ---------------------------------------------------------------- the account page: notifications

_OFF = "off"
_TIMINGS = {_OFF: "never", Timing.IMMEDIATE.value: "at once", Timing.DIGEST.value: "in the daily digest"}


@router.get("/account")
def account_page(request: Request, web: Web, user: PageUser, done: str = "") -> HTMLResponse:
    chosen = choices_of(web.desk.read, user.id)
    shown = {topic.value: timing.value for topic, timing in chosen.items()}
    return _account(request, user, shown, done=done[:300])


def _account(
    request: Request, user: User, chosen: dict[str, str], *, done: str = "", problem: str = ""
) -> HTMLResponse:
    context = {
        "user": user,
        "topics": [(topic.value, TOPIC_LABELS[topic]) for topic in Topic],
        "timings": _TIMINGS,
        "chosen": chosen,
        "done": done,
        "problem": problem,
    }
    return render(request, "account.html", context, 422 if problem else 200)


@router.post("/account/notifications")
async def save_notifications(request: Request, web: Web, user: FormUser) -> Response:
    """One select per topic (``off``, ``immediate``, ``digest``); a topic not sent is off."""
    form = await request.form()
    typed = {topic.value: str(form.get(topic.value, _OFF))[:40] for topic in Topic}
    wrong = [f"{name}: {value!r}" for name, value in typed.items() if value not in _TIMINGS]
    if wrong:
        problem = f"Not saved: {'; '.join(wrong)} is not one of {', '.join(_TIMINGS)}."
        return _account(request, user, typed, problem=problem)
    chosen = {Topic(name): Timing(value) for name, value in typed.items() if value != _OFF}
    choose(web.desk.uow, user.id, chosen)
    return RedirectResponse("/account?done=saved", status_code=303)

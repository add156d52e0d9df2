"""The outbound webhooks page for admins (`aftersales webhooks` on the web): the registered
endpoints, a form to add one (its secret is shown on the answer to that form, once), the
newest deliveries with each attempt's answer, and a button to replay one. Only an admin sees
the page or posts its forms (403 for anyone else): registering a URL makes the desk post to
it, internal hosts included, so it is an admin's decision (docs/webhooks.md)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from aftersales.domain.accounts import Role, User
from aftersales.domain.errors import InputError
from aftersales.domain.outbound_webhooks import MAX_URL_LENGTH, WebhookEvent
from aftersales.domain.values import MAX_ID
from aftersales.services import outbound_webhooks as hooks
from aftersales.web.context import WebDesk
from aftersales.web.pages import render
from aftersales.web.security import FormUser, PageUser, Web
from aftersales.web.work import refuse_unless_allowed

router = APIRouter(include_in_schema=False)
PAGE = "/outbound-webhooks"
SHOWN = 50  # deliveries on the page; `aftersales webhooks log` reads further back
ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _admin(user: User) -> None:
    refusal = None if user.role is Role.ADMIN else "only an admin may see or change the outbound webhooks"
    refuse_unless_allowed(user, "outbound webhooks", refusal)


def _back(problem: str = "", done: str = "") -> RedirectResponse:
    query = {k: v for k, v in {"problem": problem, "done": done}.items() if v}
    return RedirectResponse(f"{PAGE}?{urlencode(query)}" if query else PAGE, status_code=303)


def _page(request: Request, web: WebDesk, user: User, **more: Any) -> HTMLResponse:
    with web.desk.read_webhooks() as store:
        endpoints = store.endpoints()
        sends = store.sends(SHOWN)
        attempts = store.attempts_of([s.id for s in sends])
    context = {
        "user": user,
        "endpoints": endpoints,
        "sends": sends,
        "attempts": attempts,
        "events": [e.value for e in WebhookEvent],
        "shown": SHOWN,
        "max_url": MAX_URL_LENGTH,
        "problem": "",
        "done": "",
        "secret": "",
        "added": None,
    }
    return render(request, "outbound_webhooks.html", context | more)


@router.get(PAGE)
def webhooks_page(
    request: Request, web: Web, user: PageUser, problem: str = "", done: str = ""
) -> HTMLResponse:
    _admin(user)
    return _page(request, web, user, problem=problem[:300], done=done[:300])


@router.post(PAGE, response_model=None)
def add(
    request: Request,
    web: Web,
    user: FormUser,
    url: Annotated[str, Form(max_length=MAX_URL_LENGTH + 100)],
    events: Annotated[list[str] | None, Form(max_length=len(WebhookEvent))] = None,
) -> HTMLResponse | RedirectResponse:
    """The secret is on this answer's page and nowhere else (never in a URL or a redirect)."""
    _admin(user)
    try:
        endpoint, secret = hooks.add_endpoint(
            web.desk.webhooks, url, events or [], by=user.email, at=web.now()
        )
    except InputError as error:
        return _back(problem=str(error))
    page = _page(request, web, user, secret=secret, added=endpoint, done=f"endpoint {endpoint.id} added")
    page.headers["Cache-Control"] = "private, no-store"  # the secret: never kept by a cache
    return page


@router.post(PAGE + "/{endpoint_id}/remove")
def remove(web: Web, user: FormUser, endpoint_id: ItemId) -> RedirectResponse:
    _admin(user)
    try:
        hooks.remove_endpoint(web.desk.webhooks, endpoint_id, at=web.now())
    except InputError as error:
        return _back(problem=str(error))
    return _back(done=f"endpoint {endpoint_id} removed; its deliveries stay in the log")


@router.post(PAGE + "/deliveries/{delivery_id}/replay")
def replay(web: Web, user: FormUser, delivery_id: ItemId) -> RedirectResponse:
    """Queued again, due now: the background job posts it within seconds (the request does
    not wait on the receiver)."""
    _admin(user)
    try:
        hooks.replay(web.desk.webhooks, delivery_id, now=web.now())
    except InputError as error:
        return _back(problem=str(error))
    return _back(done=f"delivery {delivery_id} queued again; it is sent within seconds")

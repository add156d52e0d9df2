"""The satisfaction survey's public page: a customer answers without signing in, from the
link in the reply that resolved their case (services/satisfaction.py).

Opening a link records nothing: mail link scanners (Outlook Safe Links and the like) open
every link of a mail, and a rating they "gave" would be worth nothing and would use the link
up. The page opened shows the customer's choice made (``?rating=good`` or ``bad``, as the
link they clicked says), a box for a comment, and one button; the POST it sends records the
rating, once. The POST carries the page's CSRF token (the anonymous form session, as the
contact form) besides the signed link itself.

A forged or altered link: 400; an unknown one: 404; used already or expired: 410; each a
page that says so in plain words.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse

from aftersales.domain.satisfaction import MAX_COMMENT, LinkRefused, LinkState, Rating, parse_rating
from aftersales.services.satisfaction import rate, usable_link
from aftersales.web.pages import render
from aftersales.web.security import Web, csrf_matches

router = APIRouter(include_in_schema=False)
Signed = Annotated[str, Path(min_length=1, max_length=400)]
_STATUS = {None: 404, LinkState.USED: 410, LinkState.EXPIRED: 410}
_FORGED = "This rating link is not valid. Please use the link in our e-mail as it came."


def _page(request: Request, web: Web, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    page = {
        "store": web.kit.policy.store_name,
        "ratings": [r.value for r in Rating],
        "max_comment": MAX_COMMENT,
    }
    response = render(request, "rate.html", page | context, status)
    # a customer's link: kept out of caches and of the Referer of anything the page links to
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _refused(request: Request, web: Web, error: LinkRefused) -> HTMLResponse:
    return _page(request, web, {"refused": str(error)}, _STATUS[error.state])


@router.get("/rate/{signed}")
def rating_page(
    request: Request, web: Web, signed: Signed, rating: Annotated[str, Query(max_length=16)] = ""
) -> HTMLResponse:
    token = web.links.token_from(signed)
    if token is None:
        return _page(request, web, {"refused": _FORGED}, 400)
    try:
        link = usable_link(web.desk.uow, token, now=web.now())
    except LinkRefused as error:
        return _refused(request, web, error)
    chosen = parse_rating(rating)
    context = {"signed": signed, "chosen": chosen.value if chosen else "", "case_id": link.case_id}
    return _page(request, web, context)


@router.post("/rate/{signed}")
def send_rating(  # noqa: PLR0913  (the form's fields)
    request: Request,
    web: Web,
    signed: Signed,
    rating: Annotated[str, Form(max_length=16)] = "",
    comment: Annotated[str, Form(max_length=20_000)] = "",
    csrf: Annotated[str, Form(alias="csrf_token")] = "",
) -> HTMLResponse:
    token = web.links.token_from(signed)
    if token is None:
        return _page(request, web, {"refused": _FORGED}, 400)
    chosen = parse_rating(rating)
    again = {"signed": signed, "chosen": chosen.value if chosen else "", "comment": comment}
    if not csrf_matches(request, csrf):
        return _page(request, web, again | {"problem": "The page expired: send your answer again."}, 403)
    if chosen is None:
        return _page(request, web, again | {"problem": "Choose good or bad, then send."}, 422)
    try:
        rate(web.desk.uow, token, chosen, comment, now=web.now())
    except LinkRefused as error:
        return _refused(request, web, error)
    return _page(request, web, {"thanked": chosen.value})

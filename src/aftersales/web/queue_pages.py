"""The queue page (`/cases`) and the filters it shares with `GET /api/cases`.

The page is a GET form: every filter is in the address, so a view can be bookmarked ("mine" is
`/cases?assignee=me`). `static/app.js` re-reads the results part every 30 seconds
(`?part=rows`) without touching the form, so a half-typed search is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from aftersales.domain.accounts import User
from aftersales.domain.cases import OPEN_STATUSES, RISK_LABELS, SLA_LABELS, CaseStatus
from aftersales.domain.queue import SEARCH_MESSAGE_CAP, QueueOrder, QueueQuery
from aftersales.domain.routes import Route
from aftersales.services.assignment import UnknownAssignee, active_users, desk_user
from aftersales.web.context import WebDesk
from aftersales.web.errors import ApiError
from aftersales.web.security import PageUser, Web, csrf_token

router = APIRouter(include_in_schema=False)
QUEUE_PAGE = 50  # the first rows; "show more" lists further
REFRESH_SECONDS = 30
ME, NOBODY = "me", "none"


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueFilters:
    """The queue's filters as typed (the page's form, the API's query)."""

    q: str = ""
    status: str = ""  # "" the open statuses, or one status
    assignee: str = ""  # "" anyone, "me", "none" (nobody), or a desk user's e-mail
    route: str = ""
    lead: str = ""
    breaching: bool = False
    include_closed: bool = False  # with no status chosen: every status
    order: QueueOrder = QueueOrder.RISK
    limit: int = QUEUE_PAGE

    def address(self, **changes: Any) -> str:
        """The query string of these filters, with ``changes``; defaults left out."""
        values = {
            "q": self.q,
            "status": self.status,
            "assignee": self.assignee,
            "route": self.route,
            "lead": self.lead,
            "breaching": "true" if self.breaching else "",
            "all": "true" if self.include_closed else "",
            "order": "" if self.order is QueueOrder.RISK else self.order.value,
            "limit": "" if self.limit == QUEUE_PAGE else str(self.limit),
        } | {k: str(v) for k, v in changes.items()}
        return urlencode({k: v for k, v in values.items() if v})

    @property
    def narrowed(self) -> bool:
        return bool(self.q or self.status or self.assignee or self.route or self.lead or self.breaching)


def queue_query(web: WebDesk, user: User, filters: QueueFilters) -> QueueQuery:
    """The query the filters describe; an unknown status, route or user is a 422 saying which
    values there are."""
    if filters.status:
        statuses = frozenset({CaseStatus(_choice(filters.status, "status", [s.value for s in CaseStatus]))})
    else:
        statuses = frozenset(CaseStatus) if filters.include_closed else OPEN_STATUSES
    route = _choice(filters.route, "route", [r.value for r in Route]) if filters.route else None
    return QueueQuery(
        statuses=statuses,
        route=Route(route) if route else None,
        lead=filters.lead,
        breaching=filters.breaching,
        search=filters.q,
        order=filters.order,
        limit=filters.limit,
        **_assignee(web, user, filters.assignee),
    )


def _choice(value: str, name: str, allowed: list[str]) -> str:
    if value not in allowed:
        raise ApiError(
            422,
            "invalid_input",
            f"unknown {name} {value!r}; allowed: {', '.join(allowed)}",
            {"allowed": allowed},
        )
    return value


def _assignee(web: WebDesk, user: User, wanted: str) -> dict[str, Any]:
    wanted = wanted.strip()
    if not wanted:
        return {}
    if wanted.lower() == ME:
        return {"assignee_id": user.id}
    if wanted.lower() == NOBODY:
        return {"unassigned": True}
    try:
        with web.users_read() as users:
            return {"assignee_id": desk_user(users, wanted, active=False).id}
    except UnknownAssignee as error:
        raise ApiError(422, "unknown_user", str(error), {"users": list(error.users)}) from error


@router.get("/cases")
def queue(  # noqa: PLR0913  (FastAPI passes each query parameter as an argument)
    *,
    request: Request,
    web: Web,
    user: PageUser,
    q: Annotated[str, Query(max_length=320)] = "",
    status: Annotated[str, Query(max_length=32)] = "",
    assignee: Annotated[str, Query(max_length=320)] = "",
    route: Annotated[str, Query(max_length=64)] = "",
    lead: Annotated[str, Query(max_length=200)] = "",
    breaching: bool = False,
    include_closed: Annotated[bool, Query(alias="all")] = False,
    order: QueueOrder = QueueOrder.RISK,
    limit: Annotated[int, Query(ge=1, le=1_000)] = QUEUE_PAGE,
    part: Annotated[str, Query(max_length=8)] = "",
) -> HTMLResponse:
    filters = QueueFilters(
        q=q,
        status=status,
        assignee=assignee,
        route=route,
        lead=lead,
        breaching=breaching,
        include_closed=include_closed,
        order=order,
        limit=limit,
    )
    problem, rows, capped, flagged = "", [], False, {}
    try:
        query = queue_query(web, user, filters)
        rows = web.listings(query)
        with web.desk.read() as cases:
            capped = bool(rows) and bool(query.search.strip()) and cases.search_is_capped(query.search)
            flagged = cases.flagged_cases([row.id for row in rows])  # bad ratings for the lead
    except ApiError as error:  # a hand-typed address: the page says what is wrong
        problem = error.message
    with web.users_read() as users:
        people = active_users(users)
    context = {
        "user": user,
        "rows": rows,
        "rating_flags": flagged,
        "problem": problem,
        "search_capped": capped,
        "search_cap": SEARCH_MESSAGE_CAP,
        "filters": filters,
        "people": people,
        "statuses": [s.value for s in CaseStatus],
        "routes": [r.value for r in Route],
        "risk_labels": RISK_LABELS,
        "sla_labels": SLA_LABELS,
        "more": filters.address(limit=limit + 200) if len(rows) == limit else "",
        "closed_too": filters.address(all="true") if not filters.include_closed and not status else "",
        "refresh_seconds": REFRESH_SECONDS,
    }
    template = "_queue_rows.html" if part == "rows" else "queue.html"
    templates = request.app.state.templates
    page = {"csrf_token": csrf_token(request), "path": request.url.path, **context}
    response: HTMLResponse = templates.TemplateResponse(request, template, page)
    return response

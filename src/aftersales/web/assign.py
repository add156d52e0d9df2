"""Assigning a case to a user of the desk: the case page's form, and what it shares with
`POST /api/cases/{id}/assign` (in api.py).

Any signed-in user may assign (it says who works the case; what they may decide is still the
role table's). The route's lead stays the case's escalation owner.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse

from aftersales.domain.accounts import User
from aftersales.services.assignment import UnknownAssignee, active_users, assign_case, assignable_user
from aftersales.web.context import WebDesk
from aftersales.web.errors import ApiError
from aftersales.web.security import CaseId, FormUser, Web
from aftersales.web.work import author

router = APIRouter(include_in_schema=False)


def assign(web: WebDesk, by: User, case_id: int, email: str | None) -> User | None:
    """Give the case to the desk user with ``email`` (None or "": nobody); an unknown or
    disabled user is a 422 that lists the users, and nothing is written."""
    assignee = None
    if email:
        try:
            with web.users_read() as users:
                assignee = assignable_user(users, email)
        except UnknownAssignee as error:
            raise ApiError(422, "unknown_user", str(error), {"users": list(error.users)}) from error
    assign_case(web.desk.uow, case_id, assignee, by=author(by), at=web.now())
    return assignee


@router.post("/cases/{case_id}/assign")
def assign_form(
    case_id: CaseId, web: Web, user: FormUser, assignee: Annotated[str, Form(max_length=320)] = ""
) -> RedirectResponse:
    """The case page's select: "" is nobody; a refusal comes back to the page with its reason."""
    try:
        assign(web, user, case_id, assignee.strip() or None)
    except ApiError as error:
        return RedirectResponse(f"/cases/{case_id}?{urlencode({'problem': error.message})}", status_code=303)
    return RedirectResponse(f"/cases/{case_id}#assign", status_code=303)


def assignees(web: WebDesk) -> list[User]:
    """Who the case page offers to assign the case to: the active users of the desk."""
    with web.users_read() as users:
        return active_users(users)

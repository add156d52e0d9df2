"""Assigning a case to a user of the desk: what the case page's form (pages.py) and
`POST /api/cases/{id}/assign` (api.py) share.

Any signed-in user may assign (it says who works the case; what they may decide is still the
role table's). The route's lead stays the case's escalation owner.
"""

from __future__ import annotations

from aftersales.domain.accounts import User
from aftersales.services.assignment import UnknownAssignee, active_users, assign_case, assignable_user
from aftersales.web.context import WebDesk
from aftersales.web.errors import ApiError
from aftersales.web.work import author


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


def assignees(web: WebDesk) -> list[User]:
    """Who the case page offers to assign the case to: the active users of the desk."""
    with web.users_read() as users:
        return active_users(users)

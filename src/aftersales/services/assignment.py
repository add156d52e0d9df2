"""Who works a case: assigning it to a user of the desk (the page, the API and the CLI).

The assignee is the person doing the work now; the route's lead (``desk.assign_lead``) stays
the case's escalation owner. Only an active user of the desk can be given a case: an unknown
or disabled address is refused before anything is written, with the list of who can.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from aftersales.domain.accounts import User
from aftersales.domain.cases import Event
from aftersales.domain.errors import InputError
from aftersales.ports import UnitOfWork, UserRepository


class UnknownAssignee(InputError):
    """No active desk user has that e-mail; ``users`` are the addresses that could be given."""

    def __init__(self, email: str, users: Sequence[User]) -> None:
        self.users = tuple(u.email for u in users)
        listed = ", ".join(f"{u.email} ({u.name})" if u.name else u.email for u in users) or "none yet"
        super().__init__(f"{email!r} is not an active user of the desk; its users: {listed}")


def active_users(users: UserRepository) -> list[User]:
    """The users a case can be given to, by e-mail."""
    return [u for u in users.list_users() if u.active]


def assignable_user(users: UserRepository, email: str) -> User:
    """The active desk user with this e-mail (any case); UnknownAssignee otherwise."""
    return desk_user(users, email, active=True)


def desk_user(users: UserRepository, email: str, *, active: bool) -> User:
    """The desk user with this e-mail (any case), only an active one when ``active`` (a
    queue may still list a disabled user's cases); UnknownAssignee otherwise."""
    found = users.user_by_email(email.strip().lower())
    if found is None or (active and not found[0].active):
        raise UnknownAssignee(email, active_users(users) if active else users.list_users())
    return found[0]


def assign_case(uow: UnitOfWork, case_id: int, user: User | None, *, by: str, at: datetime) -> bool:
    """Give the case to ``user`` (None: to nobody); the timeline records an ``assigned`` event.
    False when it was already theirs (nothing is written)."""
    with uow() as cases:
        row = cases.case_row(case_id)  # raises CaseNotFound
        before = row.assignee_email or None
        after = user.email if user is not None else None
        if before == after:
            return False
        cases.update_case(case_id, {"assignee_user_id": user.id if user else None, "updated_at": at})
        data = {"from": before, "to": after, "name": user.name if user else ""}
        cases.add_event(case_id, Event("assigned", at, by, data))
    return True

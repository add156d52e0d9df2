"""Working a case from the web, shared by the pages and the API: the role boundaries are
enforced here, on the server, before the use case runs."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from aftersales.domain.accounts import User
from aftersales.domain.cases import CaseStatus
from aftersales.domain.collisions import blocks, change_summary, changes_after
from aftersales.domain.permissions import (
    missing_refund_amount,
    refusal_to_change_status,
    refusal_to_record_decision,
    refusal_to_reroute,
)
from aftersales.domain.presence import PRESENCE_SECONDS, REFRESH_SECONDS, presence_line
from aftersales.domain.replies import format_moment
from aftersales.domain.routes import Route
from aftersales.services import desk
from aftersales.services.presence import note_viewer
from aftersales.services.replies import Reply, check_case_reply, send_reply
from aftersales.services.rerouting import Reroute, confirm_route, reroute
from aftersales.web.context import WebDesk
from aftersales.web.errors import ApiError

log = logging.getLogger("aftersales.web")


def jsonable(value: Any) -> Any:
    """Stored rows as JSON: times as ISO 8601, money as text."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def author(user: User) -> str:
    return user.name or user.email


def reply(  # noqa: PLR0913  (keyword-only after the text's promise)
    web: WebDesk,
    user: User,
    case_id: int,
    text: str,
    next_update: datetime | None,
    *,
    force: bool,
    seen_event_id: int | None = None,
    resolve: bool = False,
) -> datetime | None:
    """Send the reply; ``resolve``: it resolves the case (the role must be allowed to), and
    its mail carries the satisfaction survey's rating link."""
    if resolve:
        refusal = refusal_to_change_status(user.role, _route_of(web, case_id), CaseStatus.RESOLVED)
        refuse_unless_allowed(user, f"case {case_id}", refusal)
    if next_update is not None and next_update.utcoffset() is None:
        next_update = next_update.replace(tzinfo=web.kit.calendar.tz)
    draft = Reply(
        case_id=case_id,
        text=text,
        author=author(user),
        at=web.now(),
        next_update=next_update,
        force=force,
        seen_event_id=seen_event_id,
        resolve=resolve,
    )
    return send_reply(web.desk.uow, web.kit, draft, links=web.links)


def change_status(
    web: WebDesk, user: User, case_id: int, status: CaseStatus, *, seen_event_id: int | None = None
) -> None:
    refusal = refusal_to_change_status(user.role, _route_of(web, case_id), status)
    refuse_unless_allowed(user, f"case {case_id}", refusal)
    desk.change_status(
        web.desk.uow, web.kit, case_id, status, by=author(user), at=web.now(), seen_event_id=seen_event_id
    )


def record_decision(web: WebDesk, user: User, case_id: int, decision: str, amount: Decimal | None) -> None:
    if amount is not None and not (amount.is_finite() and amount >= 0):
        # "nan" and "-5" read as Decimals; a NaN cannot even be compared with the limit
        raise ApiError(422, "invalid_input", f"the amount {amount} is not a sum of money given back")
    missing = missing_refund_amount(decision, amount)
    if missing:
        raise ApiError(422, "invalid_input", missing)
    limit = web.kit.policy.frontline_refund_limit
    refusal = refusal_to_record_decision(user.role, _route_of(web, case_id), decision, amount, limit)
    refuse_unless_allowed(user, f"case {case_id}", refusal)
    desk.record_decision(web.desk.uow, case_id, decision, by=author(user), at=web.now(), amount=amount)


def change_route(web: WebDesk, user: User, case_id: int, route: str, reason: str) -> None:
    """Re-route the case (plans it again); 422 with the allowed routes for an unknown one."""
    allowed = [r.value for r in Route]
    if route not in allowed:
        raise ApiError(
            422,
            "invalid_input",
            f"unknown route {route!r}; allowed: {', '.join(allowed)}",
            {"allowed": allowed},
        )
    refuse_unless_allowed(user, f"case {case_id}", refusal_to_reroute(user.role, _route_of(web, case_id)))
    change = Reroute(case_id=case_id, route=Route(route), by=author(user), at=web.now(), reason=reason)
    reroute(web.desk.uow, web.kit, change)


def confirm(web: WebDesk, user: User, case_id: int) -> None:
    refuse_unless_allowed(user, f"case {case_id}", refusal_to_reroute(user.role, _route_of(web, case_id)))
    confirm_route(web.desk.uow, case_id, by=author(user), at=web.now())


def refuse_unless_allowed(user: User, about: str, refusal: str | None) -> None:
    """403 with the table's reason; the log names the user and the case by id, and the
    refusal's words (a role, a route, an amount): no customer data."""
    if refusal:
        log.warning("role refusal: user id %s (%s) on %s: %s", user.id, user.role, about, refusal)
        raise ApiError(403, "forbidden", refusal)


def _route_of(web: WebDesk, case_id: int) -> str:
    with web.desk.read() as cases:
        return cases.case_row(case_id).route


def clocks_of(web: WebDesk, case_id: int) -> dict[str, Any]:
    with web.desk.read() as cases:
        row = cases.case_row(case_id)
    return {"status": row.status.value, "next_due_at": jsonable(row.next_due_at), "clocks": row.clocks}


def presence(web: WebDesk, user: User, case_id: int, seen_event_id: int | None) -> dict[str, Any]:
    """The user has the case open: who else has, and what changed after ``seen_event_id``, as
    ``POST /api/cases/{id}/presence`` answers."""
    now = note_viewer(web.desk.presence, case_id, user.id, at=web.now())
    changes: list[Mapping[str, Any]] = []
    if seen_event_id is not None and now.latest_event_id > seen_event_id:
        with web.desk.read() as cases:
            changes = changes_after(cases.events_after(case_id, seen_event_id), seen_event_id)
    return {
        "viewers": [{"name": v.name, "seen_at": v.seen_at.isoformat()} for v in now.others],
        "line": presence_line(now.others),
        "latest_event_id": now.latest_event_id,
        "changes": [
            {"id": e["id"], "kind": e["kind"], "summary": change_summary(e), "blocking": blocks([e])}
            for e in changes
        ],
        "refresh_seconds": REFRESH_SECONDS,
        "expires_seconds": PRESENCE_SECONDS,
    }


def reply_check(web: WebDesk, text: str, case_id: int | None) -> dict[str, Any]:
    """What the composer shows while a reply is typed: the failed checks and the promised
    time, read exactly as sending the reply reads it; times in the store's zone."""
    case = None
    if case_id is not None:
        with web.desk.read() as cases:
            case = cases.case_row(case_id)
    check = check_case_reply(web.kit, text, at=web.now(), case=case)
    promised = check.promised_at
    return {
        "ok": check.ok,
        "problems": [{"check": p.check, "sentence": p.sentence, "fix": p.fix} for p in check.problems],
        "promised_update_at": promised.isoformat() if promised else None,
        "promised_update_text": format_moment(promised) if promised else None,
        "closing": check.closing,
    }

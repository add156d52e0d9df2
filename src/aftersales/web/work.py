"""Working a case from the web, shared by the pages and the API: the role boundaries are
enforced here, on the server, before the use case runs."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from aftersales.domain.accounts import User, refusal_to_change_status, refusal_to_record_decision
from aftersales.domain.cases import CaseStatus
from aftersales.domain.replies import check_reply
from aftersales.domain.sla.promises import promised_time
from aftersales.services import desk
from aftersales.services.replies import Reply, send_reply
from aftersales.web.context import WebDesk
from aftersales.web.errors import ApiError


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


def reply(
    web: WebDesk, user: User, case_id: int, text: str, next_update: datetime | None, *, force: bool
) -> datetime | None:
    if next_update is not None and next_update.utcoffset() is None:
        next_update = next_update.replace(tzinfo=web.kit.calendar.tz)
    draft = Reply(
        case_id=case_id, text=text, author=author(user), at=web.now(), next_update=next_update, force=force
    )
    return send_reply(web.desk.uow, web.kit, draft)


def change_status(web: WebDesk, user: User, case_id: int, status: CaseStatus) -> None:
    with web.desk.read() as cases:
        route = cases.case_row(case_id)["route"]
    refusal = refusal_to_change_status(user.role, route, status.value)
    if refusal:
        raise ApiError(403, "forbidden", refusal)
    desk.change_status(web.desk.uow, web.kit, case_id, status, by=author(user), at=web.now())


def record_decision(web: WebDesk, user: User, case_id: int, decision: str, amount: Decimal | None) -> None:
    if amount is not None and not (amount.is_finite() and amount >= 0):
        # "nan" and "-5" read as Decimals; a NaN cannot even be compared with the limit
        raise ApiError(422, "invalid_input", f"the amount {amount} is not a sum of money given back")
    refusal = refusal_to_record_decision(user.role, amount, web.kit.policy.frontline_refund_limit)
    if refusal:
        raise ApiError(403, "forbidden", refusal)
    desk.record_decision(web.desk.uow, case_id, decision, by=author(user), at=web.now(), amount=amount)


def clocks_of(web: WebDesk, case_id: int) -> dict[str, Any]:
    with web.desk.read() as cases:
        row = cases.case_row(case_id)
    return {"status": row["status"], "next_due_at": jsonable(row["next_due_at"]), "clocks": row["clocks"]}


def reply_check(web: WebDesk, text: str, case_id: int | None) -> dict[str, Any]:
    """What the composer shows while a reply is typed: the failed checks and the promised time."""
    decision: dict[str, Any] = {}
    if case_id is not None:
        with web.desk.read() as cases:
            decision = dict(cases.case_row(case_id)["decision"] or {})
    check = check_reply(
        text, stop_line_clear=bool(decision.get("stop_line_clear")), stop_line=decision.get("stop_line", "")
    )
    promise = promised_time(text, web.now(), web.kit.calendar)
    return {
        "ok": check.ok,
        "problems": [{"check": p.check, "sentence": p.sentence, "fix": p.fix} for p in check.problems],
        "promised_update_at": promise.at.isoformat() if promise else None,
    }

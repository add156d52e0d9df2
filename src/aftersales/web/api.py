"""The JSON API under /api/: thin handlers over the same use cases as the CLI.

Every handler is a plain (sync) function: FastAPI runs it in its thread pool, and each use
case is one transaction on the desk's database.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from aftersales.adapters.files.order_json import parse_order
from aftersales.adapters.mail.message_files import MessageReader, message_from_record
from aftersales.adapters.policy.file import PolicyError, parse_policy
from aftersales.domain.card import card_to_dict
from aftersales.domain.cases import CaseStatus, record_to_dict, summary_to_dict
from aftersales.domain.queue import QueueOrder
from aftersales.domain.routes import Route
from aftersales.domain.sla.calendar import due_at
from aftersales.domain.values import MAX_ID
from aftersales.services.case_side import case_side, evidence_now, evidence_to_dict, side_to_dict
from aftersales.services.desk import EvidenceMark, add_note, case_record, mark_evidence
from aftersales.services.intake import Incoming, take_in
from aftersales.services.routing import build_card
from aftersales.services.saved_replies import saved_replies_for
from aftersales.web import work
from aftersales.web.assign import assign
from aftersales.web.attachment_pages import file_response
from aftersales.web.errors import ApiError
from aftersales.web.queue_pages import QueueFilters, queue_query
from aftersales.web.security import ApiUser, CaseId, Web

router = APIRouter(prefix="/api", tags=["api"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "not signed in, or the API token is not valid"},
    403: {"description": "the CSRF header is missing, or the role may not do this"},
    404: {"description": "no such case or evidence item"},
    409: {
        "description": "the case cannot move to that status from its current one, or it changed after "
        "`seen_event_id` (`error.details` lists the changes; nothing was stored)"
    },
    422: {"description": "the request or its content is not valid; `error.details` says where"},
}


class MessageIn(BaseModel):
    """A customer message; the same keys as a line of `aftersales intake` JSONL."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")
    text: str = Field(min_length=1, max_length=200_000)
    sender: str | None = Field(default=None, alias="from", max_length=320)
    name: str | None = Field(default=None, max_length=200)
    subject: str | None = Field(default=None, max_length=998)
    sent_at: str | None = Field(default=None, description="ISO 8601 with an offset")
    channel: Literal["email", "form", "chat", "social", "review", "api"] = "api"
    order: str | None = Field(default=None, max_length=64)
    in_reply_to: str | None = Field(default=None, max_length=998)
    case: str | None = Field(default=None, max_length=20)
    id: str | None = Field(default=None, max_length=998, description="the message's own id, for dedupe")


class TextIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=50_000)


_SEEN = (
    "the highest timeline event id the agent saw (`GET /api/cases/{id}`: `timeline[].id`); when the "
    "case changed after it (the customer wrote, someone replied or moved it), 409 and nothing is stored"
)


class ReplyIn(TextIn):
    next_update: datetime | None = Field(default=None, description="overrides the time the text promises")
    force: bool = False
    seen_event_id: int | None = Field(default=None, ge=0, le=MAX_ID, description=_SEEN)
    resolve: bool = Field(
        default=False,
        description="the reply resolves the case; its mail ends with the satisfaction survey's link",
    )


class PresenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seen_event_id: int | None = Field(default=None, ge=0, le=MAX_ID, description=_SEEN)


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: CaseStatus
    seen_event_id: int | None = Field(default=None, ge=0, le=MAX_ID, description=_SEEN)


class EvidenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(min_length=1, max_length=100)
    present: bool
    note: str = Field(default="", max_length=2_000)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: str = Field(min_length=1, max_length=2_000)
    amount: Decimal | None = Field(default=None, ge=0, le=1_000_000, description="money given back, if any")


class RerouteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # checked in work.change_route, so an unknown route is answered with the allowed list
    route: str = Field(min_length=1, max_length=64)
    reason: str = Field(default="", max_length=2_000)


class RouteIn(TextIn):
    order: dict[str, Any] | None = Field(default=None, description="order facts, as `route --order` reads")


class ReplyCheckIn(TextIn):
    case_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: str | None = Field(
        max_length=320, description="the e-mail of an active user of the desk; null: assign to nobody"
    )


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    toml: str = Field(max_length=200_000)


@router.post("/messages", status_code=201, responses=_ERRORS)
def create_message(body: MessageIn, web: Web, user: ApiUser) -> dict[str, Any]:
    """Take in one customer message: threaded into its open case or opening one."""
    now = web.now()
    reader = MessageReader.of(now, [web.kit.policy.support_email])
    message = message_from_record(body.model_dump(by_alias=True, exclude_none=True), reader)
    result = take_in(web.desk.uow, web.kit, Incoming(message, f"api:{user.email}"), now=now)
    return {"outcome": result.outcome.value, "case_id": result.case_id}


@router.get("/cases", responses=_ERRORS)
def list_cases(
    *,
    web: Web,
    user: ApiUser,
    q: Annotated[
        str, Query(max_length=320, description="a customer's name or e-mail, an order number, words")
    ] = "",
    status: Annotated[CaseStatus | None, Query(description="only this status")] = None,
    assignee: Annotated[
        str, Query(max_length=320, description="a desk user's e-mail, `me`, or `none` (unassigned)")
    ] = "",
    route: Route | None = None,
    lead: Annotated[str, Query(max_length=200, description="a role, or the start of the lead's name")] = "",
    breaching: bool = False,
    include_closed: Annotated[bool, Query(alias="all", description="resolved and closed too")] = False,
    order: Annotated[QueueOrder, Query(description="`risk` (act now first) or `overdue`")] = QueueOrder.RISK,
    limit: Annotated[int, Query(ge=1, le=1_000)] = 200,
) -> list[dict[str, Any]]:
    """The queue: open cases before those waiting on the customer, then by the route's risk,
    breached / at risk / on track, and the soonest due (`order=overdue`: the soonest due first)."""
    filters = QueueFilters(
        q=q,
        status=status.value if status else "",
        assignee=assignee,
        route=route.value if route else "",
        lead=lead,
        breaching=breaching,
        include_closed=include_closed,
        order=order,
        limit=limit,
    )
    return [summary_to_dict(row) for row in web.listings(queue_query(web, user, filters))]


@router.get("/cases/{case_id}", responses=_ERRORS)
def get_case(case_id: CaseId, web: Web, user: ApiUser) -> dict[str, Any]:
    """One case: the case, its messages, evidence (from facts, as it stands now), files,
    order (lines, fulfilment, scans, addresses, refunds, the customer's other cases) and timeline."""
    record = case_record(web.desk.read, case_id)
    side = case_side(web.desk.read, web.kit.specs, case_id, shop=web.settings.shopify.shop)
    found: dict[str, Any] = work.jsonable(record | side_to_dict(side, record["evidence"]))
    return found


@router.get(
    "/attachments/{attachment_id}",
    response_class=Response,
    responses=_ERRORS
    | {200: {"description": "the file: an image inline, anything else as application/octet-stream"}},
)
def get_attachment(
    attachment_id: Annotated[str, Path(description="the file's id (`files[].id` of a case)")],
    web: Web,
    user: ApiUser,
) -> Response:
    """One file of a case by its id: a PNG, JPEG, GIF or WebP image (by its bytes) inline,
    anything else as a download; 404 for an unknown id or anything that is not one."""
    return file_response(web, attachment_id)


@router.post("/cases/{case_id}/reply", responses=_ERRORS)
def reply(case_id: CaseId, body: ReplyIn, web: Web, user: ApiUser) -> dict[str, Any]:
    """A public reply; refused (422, with the failed checks) when it names no next-update time,
    and (409, with what changed) when the case changed after ``seen_event_id``."""
    promised = work.reply(
        web,
        user,
        case_id,
        body.text,
        body.next_update,
        force=body.force,
        seen_event_id=body.seen_event_id,
        resolve=body.resolve,
    )
    return {"promised_update_at": promised.isoformat() if promised else None, **work.clocks_of(web, case_id)}


@router.get("/cases/{case_id}/saved-replies", responses=_ERRORS)
def saved_replies(case_id: CaseId, web: Web, user: ApiUser) -> dict[str, Any]:
    """The store's saved replies for the case's route, in the customer's language and the
    store's, filled in with the case's facts; ``missing`` names the variables it has no
    value for."""
    filled = saved_replies_for(web.desk.read, web.kit, case_id, now=web.now())
    return {"case_id": case_id, "saved_replies": [reply.as_dict() for reply in filled]}


@router.post("/cases/{case_id}/presence", responses=_ERRORS)
def presence(case_id: CaseId, web: Web, user: ApiUser, body: PresenceIn | None = None) -> dict[str, Any]:
    """The caller has the case open: who else has (seen within the last minute), the case's
    latest timeline event id, and what changed after ``seen_event_id`` (the changes that
    would refuse a reply are ``blocking``). A case page calls it every ``refresh_seconds``."""
    seen = body.seen_event_id if body is not None else None
    return work.presence(web, user, case_id, seen)


@router.post("/cases/{case_id}/assign", responses=_ERRORS)
def assign_case(case_id: CaseId, body: AssignIn, web: Web, user: ApiUser) -> dict[str, Any]:
    """Assign the case to a user of the desk (`{"user": EMAIL}`), or to nobody (`{"user":
    null}`); the case's `assignee` shows it and the timeline records it. Not an active user:
    422 (`error.details.users` lists them), nothing changed. The route's lead stays the
    case's escalation owner."""
    if body.user is not None and not body.user.strip():
        raise ApiError(422, "unknown_user", "give a user's e-mail, or null to assign the case to nobody")
    assignee = assign(web, user, case_id, body.user)
    shown = {"email": assignee.email, "name": assignee.name} if assignee else None
    return {"id": case_id, "assignee": shown}


@router.post("/cases/{case_id}/notes", status_code=201, responses=_ERRORS)
def note(case_id: CaseId, body: TextIn, web: Web, user: ApiUser) -> dict[str, Any]:
    add_note(web.desk.uow, case_id, body.text, by=user.name or user.email, at=web.now())
    return {"ok": True}


@router.post("/cases/{case_id}/status", responses=_ERRORS)
def status(case_id: CaseId, body: StatusIn, web: Web, user: ApiUser) -> dict[str, Any]:
    """Move the case; frontline may not resolve or close a chargeback-risk case; 409 when the
    case changed after ``seen_event_id``."""
    work.change_status(web, user, case_id, body.status, seen_event_id=body.seen_event_id)
    return work.clocks_of(web, case_id)


@router.post("/cases/{case_id}/evidence", responses=_ERRORS)
def evidence(case_id: CaseId, body: EvidenceIn, web: Web, user: ApiUser) -> dict[str, Any]:
    """Tick (or untick) an evidence item; answers with the item as it stands now."""
    mark = EvidenceMark(
        key=body.key, present=body.present, note=body.note, by=work.author(user), at=web.now()
    )
    mark_evidence(web.desk.uow, case_id, mark)
    return {
        "ok": True,
        "item": evidence_to_dict(evidence_now(web.desk.read, web.kit.specs, case_id, body.key)),
    }


@router.post("/cases/{case_id}/decision", responses=_ERRORS)
def decision(case_id: CaseId, body: DecisionIn, web: Web, user: ApiUser) -> dict[str, Any]:
    """Record a decision; frontline may not record one above the policy's frontline limit."""
    work.record_decision(web, user, case_id, body.decision, body.amount)
    return {"ok": True}


@router.post("/cases/{case_id}/route", responses=_ERRORS)
def change_route(case_id: CaseId, body: RerouteIn, web: Web, user: ApiUser) -> dict[str, Any]:
    """Re-route the case: its evidence checklist, lead, decision, stop line, first-reply draft
    and clocks are planned again for the new route (one transaction), the timeline records
    it, and the message is kept as a labelled example for the store's router model."""
    work.change_route(web, user, case_id, body.route, body.reason)
    return _case_now(web, case_id)


@router.post("/cases/{case_id}/route/confirm", responses=_ERRORS)
def confirm_route(case_id: CaseId, web: Web, user: ApiUser) -> dict[str, Any]:
    """The case's route is right: clears "check the route" and keeps a labelled example."""
    work.confirm(web, user, case_id)
    return _case_now(web, case_id)


def _case_now(web: Web, case_id: int) -> dict[str, Any]:
    with web.desk.read() as cases:
        row = cases.case_row(case_id)
    fields = ("id", "route", "secondary_routes", "lead_role", "lead_name", "route_check", "status")
    stop_line = row.decision.get("stop_line", "")
    values = record_to_dict(row)
    now: dict[str, Any] = work.jsonable({k: values[k] for k in fields} | {"stop_line": stop_line})
    return now


@router.post("/route", responses=_ERRORS)
def route_message(body: RouteIn, web: Web, user: ApiUser) -> dict[str, Any]:
    """The Routing Lab: a message (and optionally order facts) to its decision card."""
    order = parse_order(body.order, "order") if body.order is not None else None
    return card_to_dict(build_card(web.kit, body.text, now=web.now(), order=order))


@router.post("/reply-check", responses=_ERRORS)
def reply_check(body: ReplyCheckIn, web: Web, user: ApiUser) -> dict[str, Any]:
    """The reply checks, live: what a reply lacks and the next-update time it promises, read
    as sending it would read it (``promised_update_at`` in the store's zone, null when the
    promise is refused: a past day, a closed hour, a date that does not exist)."""
    return work.reply_check(web, body.text, body.case_id)


@router.post("/policy/check", responses=_ERRORS)
def policy_check(body: PolicyIn, user: ApiUser) -> dict[str, Any]:
    """Validate a policy file's text: every problem with its line and key."""
    try:
        parse_policy(body.toml, "policy.toml")
    except PolicyError as error:
        problems = [{"line": p.line, "key": p.key, "message": p.message} for p in error.problems]
        return {"ok": False, "problems": problems}
    return {"ok": True, "problems": []}


@router.get("/sla/due", responses=_ERRORS)
def sla_due(
    web: Web,
    user: ApiUser,
    start: datetime,
    hours: Annotated[float, Query(ge=0, le=10_000)],
) -> dict[str, Any]:
    """The moment ``hours`` business hours after ``start`` under the store's calendar."""
    if start.utcoffset() is None:
        raise ApiError(422, "invalid_request", "start needs an offset, e.g. 2026-11-27T16:00:00-05:00")
    return {"due_at": due_at(start, hours * 60, web.kit.calendar).isoformat()}

"""Server-rendered pages: sign-in, the queue, a case, the Routing Lab, the policy, the contact form.

Pages are plain HTML forms that work without JavaScript; ``static/app.js`` only adds the live
reply checks and the next-update picker's due time. Every form post carries the CSRF token.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from aftersales.adapters.files.order_json import parse_order
from aftersales.adapters.mail.message_files import MessageReader, message_from_record
from aftersales.adapters.policy.file import PolicyError, default_policy_text, parse_policy
from aftersales.domain.accounts import User
from aftersales.domain.attachments import CaseFile
from aftersales.domain.card import card_to_dict
from aftersales.domain.cases import ALLOWED, CaseStatus
from aftersales.domain.contact_form import CONTACT_ISSUES, HONEYPOT_FIELD, ContactLimits
from aftersales.domain.errors import AftersalesError, InputError
from aftersales.domain.messages import AttachmentMeta
from aftersales.domain.permissions import ROLE_TABLE, Action, RefundLimit, may, may_refund, statuses_offered
from aftersales.domain.presence import REFRESH_SECONDS, Viewer, presence_line
from aftersales.domain.routes import Route
from aftersales.domain.trust import SENDER_MARK_LABELS
from aftersales.domain.values import MAX_ID
from aftersales.services.accounts import account_key, sign_in_attempt
from aftersales.services.case_side import Upload, add_upload, case_side
from aftersales.services.case_view import CaseView, case_view
from aftersales.services.contact_form import admit_post
from aftersales.services.desk import EvidenceMark, add_note, mark_evidence
from aftersales.services.intake import Incoming, take_in
from aftersales.services.presence import note_viewer, others_viewing
from aftersales.services.routing import build_card, message_card
from aftersales.services.satisfaction import clear_flag, rating_flags
from aftersales.web import composer, work
from aftersales.web.assign import assign, assignees
from aftersales.web.case_forms import Retry, retry_for
from aftersales.web.errors import ApiError
from aftersales.web.sanitize import safe_email_html
from aftersales.web.security import (
    CaseId,
    FormUser,
    PageUser,
    Web,
    csrf_matches,
    csrf_token,
    sign_in,
    sign_out,
)

router = APIRouter(include_in_schema=False)
log = logging.getLogger("aftersales.web")
# A case page shows the latest messages and timeline entries, so one huge conversation cannot
# make it slow; "show earlier" lists further, up to MAX_SHOWN.
CASE_MESSAGES = 50
CASE_TIMELINE = 200
MAX_SHOWN = 2_000
MAX_TYPED = 50_000  # a reply, a note or a decision typed on the case page
CONTACT_LIMITS = ContactLimits()  # 5 posts an hour per e-mail address, 20 per client address


def render(request: Request, template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    templates = request.app.state.templates
    page = {"csrf_token": csrf_token(request), "path": request.url.path, **context}
    response: HTMLResponse = templates.TemplateResponse(request, template, page, status_code=status)
    return response


def _see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# ---------------------------------------------------------------- signing in


@router.get("/")
def home() -> RedirectResponse:
    return _see("/cases")


@router.get("/login")
def login_page(request: Request, next_url: Annotated[str, Query(alias="next")] = "/cases") -> HTMLResponse:
    return render(request, "login.html", {"next": _local(next_url), "error": ""})


@router.post("/login")
def login(
    request: Request,
    web: Web,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1_000)],
    csrf: Annotated[str, Form(alias="csrf_token")] = "",
    next_url: Annotated[str, Form(alias="next")] = "/cases",
) -> Response:
    if not csrf_matches(request, csrf):
        return render(
            request, "login.html", {"next": _local(next_url), "error": "The form expired: try again."}, 403
        )
    address = request.client.host if request.client else "-"
    with web.users() as users:
        attempt = sign_in_attempt(
            users, web.hasher, email=email, password=password, address=address, at=web.now()
        )
    if attempt.retry_after is not None:
        return _throttled(request, next_url, address, email, attempt.retry_after)
    if attempt.user is None:
        who = (
            f"user id {attempt.failed_user_id}"
            if attempt.failed_user_id
            else f"unknown account {account_key(email)[:12]}"
        )
        log.warning("sign-in failed for %s from %s", who, address)
        error = "That e-mail and password do not match an active account."
        return render(request, "login.html", {"next": _local(next_url), "error": error}, 401)
    response = _see(_local(next_url))
    sign_in(request, response, web, attempt.user)
    return response


def _throttled(request: Request, next_url: str, address: str, email: str, wait: timedelta) -> Response:
    """429 until the failures leave the window, even for the right password."""
    seconds = max(1, math.ceil(wait.total_seconds()))
    log.warning("sign-in throttled for account %s from %s", account_key(email)[:12], address)
    again = datetime.now(UTC) + timedelta(seconds=seconds)
    error = (
        f"Too many failed sign-ins: try again in {math.ceil(seconds / 60)} minutes (after {again:%H:%M} UTC)."
    )
    response = render(request, "login.html", {"next": _local(next_url), "error": error}, 429)
    response.headers["Retry-After"] = str(seconds)
    return response


@router.post("/logout")
def logout(request: Request, web: Web, user: FormUser) -> RedirectResponse:
    response = _see("/login")
    sign_out(request, response, web)
    return response


def _local(url: str) -> str:
    """Only a path on this site: a sign-in link must not send anyone elsewhere."""
    return url if url.startswith("/") and not url.startswith("//") and "\\" not in url else "/cases"


# ---------------------------------------------------------------- the queue: queue_pages.py


# ---------------------------------------------------------------- one case
# Every case form answers with the case page: a redirect to it when done, or the page again
# (4xx) with what was typed kept and the reason beside the field (web/case_forms.py).


@router.get("/cases/{case_id}")
def case_page(
    request: Request,
    case_id: CaseId,
    web: Web,
    user: PageUser,
    show: Annotated[int, Query(ge=1, le=MAX_SHOWN)] = CASE_MESSAGES,
    saved_reply: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    context = _case_context(web, user, case_id, show=show, saved_reply=saved_reply)
    return render(request, "case.html", context)


def _case_again(request: Request, web: Web, user: User, case_id: int, retry: Retry) -> HTMLResponse:
    """The case page again, as it stands now, with the form that came back."""
    return render(request, "case.html", _case_context(web, user, case_id, retry=retry), retry.status)


def _case_context(  # noqa: PLR0913  (keyword-only after the case)
    web: Web,
    user: User,
    case_id: int,
    *,
    show: int = CASE_MESSAGES,
    retry: Retry | None = None,
    saved_reply: str = "",
) -> dict[str, Any]:
    side = case_side(web.desk.read, web.kit.specs, case_id, shop=web.settings.shopify.shop)
    view = case_view(web.kit, web.desk.read, case_id, now=web.now())
    case, card = view.case, _card_dict(web, view)
    replied = any(m["direction"] == "outbound" for m in view.messages)
    messages, timeline = view.messages[-show:], view.timeline[-max(show, CASE_TIMELINE) :]
    viewers = _viewers(web, user, case_id, note=retry is None)
    context: dict[str, Any] = {
        "user": user,
        "case": case,
        "linked_from": view.linked_from,
        "messages": [dict(m, safe_html=safe_email_html(m["html"])) for m in messages],
        "earlier": len(view.messages) - len(messages),
        "show_more": min(show + 200, MAX_SHOWN),
        "evidence": side.evidence.items,
        **_file_lists(side.files),
        "order_side": side.order,
        "timeline": timeline,
        "earlier_events": len(view.timeline) - len(timeline),
        "card": card,
        # a draft written now, so its times are still ahead; once answered, the agent writes
        "draft": card["first_reply"] if card and not replied else "",
        "statuses": statuses_offered(
            user.role,
            case.route,
            [s.value for s in CaseStatus if s in ALLOWED[case.status]],
        ),
        "may_decide": may(user.role, Action.DECIDE, case.route),
        "may_refund": may_refund(user.role, case.route),
        "refund_cap": _refund_cap(web, user),
        "may_reroute": may(user.role, Action.REROUTE, case.route),
        "routes": [r.value for r in Route],
        "zone": web.kit.calendar.tz,
        "limit": web.kit.policy.frontline_refund_limit,
        "sender_mark": SENDER_MARK_LABELS[case.sender_mark],
        "replied": replied,
        "seen_event_id": view.latest_event_id,
        "presence": presence_line(viewers),
        "presence_seconds": REFRESH_SECONDS,
        "retry": retry or Retry(form="", status=200, problem=""),
        "people": assignees(web),  # _assign.html
        # a bad satisfaction rating not yet cleared: its comment ("" none given); None: no flag
        "rating_flag": rating_flags(web.desk.read, [case_id]).get(case_id),
        "survey": web.kit.policy.satisfaction.survey and web.links.can_link,
        "may_resolve": CaseStatus.RESOLVED.value
        in statuses_offered(user.role, case.route, [s.value for s in ALLOWED[case.status]]),
    }
    return context | composer.composer_context(web, case_id, context["draft"], saved_reply)


def _file_lists(files: Sequence[CaseFile]) -> dict[str, dict[Any, list[CaseFile]]]:
    """The case's files by the message that carried them, and by the evidence item they were
    uploaded for."""
    by_message: dict[Any, list[CaseFile]] = {}
    by_item: dict[Any, list[CaseFile]] = {}
    for file in files:
        if file.message_id is not None:
            by_message.setdefault(file.message_id, []).append(file)
        if file.evidence_key:
            by_item.setdefault(file.evidence_key, []).append(file)
    return {"files_by_message": by_message, "uploads": by_item}


def _viewers(web: Web, user: User, case_id: int, *, note: bool) -> list[Viewer]:
    """Who else has the case open; ``note``: and say this user has (a page load does; a form
    sent back changes nothing, not even this)."""
    if note:
        return note_viewer(web.desk.presence, case_id, user.id, at=web.now()).others
    return others_viewing(web.desk.read_presence, case_id, user.id, at=web.now())


def _card_dict(web: Web, view: CaseView) -> dict[str, Any] | None:
    """The card as the page shows it: its lead is the case's (a person may have changed it)."""
    if view.card is None:
        return None
    card = card_to_dict(view.card)
    role, name = view.case.lead_role, view.case.lead_name
    policy_lead = web.kit.policy.lead_for(role)
    email = policy_lead.email if policy_lead is not None and policy_lead.name == name else ""
    card["lead"] = {"role": role, "name": name, "email": email}
    return card


def _refund_cap(web: Web, user: User) -> Decimal | None:
    """The most the user may give back in one decision; None: no cap (or no refunds at all)."""
    limit = ROLE_TABLE[user.role].refund_limit
    return web.kit.policy.frontline_refund_limit if limit is RefundLimit.FRONTLINE else None


def _back(case_id: int) -> RedirectResponse:
    return _see(f"/cases/{case_id}")


def _typed(text: str, what: str) -> str:
    """Typed text that must not be empty, within the desk's limit for a message."""
    if not text.strip():
        raise InputError(f"write the {what} first")
    if len(text) > MAX_TYPED:
        raise InputError(f"the {what} is {len(text):,} characters; at most {MAX_TYPED:,}")
    return text


@router.post("/cases/{case_id}/reply")
def post_reply(
    *,
    request: Request,
    case_id: CaseId,
    web: Web,
    user: FormUser,
    text: Annotated[str, Form()] = "",
    next_update: Annotated[str, Form(max_length=40)] = "",
    force: Annotated[bool, Form()] = False,
    resolve: Annotated[bool, Form()] = False,
    seen_event_id: Annotated[int | None, Form(ge=0, le=MAX_ID)] = None,
) -> Response:
    typed = {
        "text": text,
        "next_update": next_update,
        "force": "true" if force else "",
        "resolve": "true" if resolve else "",
    }
    try:
        try:
            when = datetime.fromisoformat(next_update) if next_update else None
        except ValueError as error:
            raise InputError(f"the next-update time {next_update!r} is not a date and time") from error
        typed_text = _typed(text, "reply")
        work.reply(
            web, user, case_id, typed_text, when, force=force, seen_event_id=seen_event_id, resolve=resolve
        )
    except (ApiError, AftersalesError) as error:
        return _case_again(request, web, user, case_id, retry_for("reply", typed, error))
    return _back(case_id)


@router.post("/cases/{case_id}/rating-flag/clear")
def post_clear_rating_flag(case_id: CaseId, web: Web, user: FormUser) -> RedirectResponse:
    """A person has seen the bad rating: the flag goes (the timeline keeps who cleared it)."""
    clear_flag(web.desk.uow, case_id, by=work.author(user), at=web.now())
    return _back(case_id)


@router.post("/cases/{case_id}/note")
def post_note(
    request: Request, case_id: CaseId, web: Web, user: FormUser, text: Annotated[str, Form()] = ""
) -> Response:
    try:
        add_note(web.desk.uow, case_id, _typed(text, "note"), by=work.author(user), at=web.now())
    except (ApiError, AftersalesError) as error:
        return _case_again(request, web, user, case_id, retry_for("note", {"text": text}, error))
    return _back(case_id)


@router.post("/cases/{case_id}/status")
def post_status(
    request: Request,
    case_id: CaseId,
    web: Web,
    user: FormUser,
    status: Annotated[str, Form(max_length=64)] = "",
    seen_event_id: Annotated[int | None, Form(ge=0, le=MAX_ID)] = None,
) -> Response:
    try:
        moved = _status(status)
        work.change_status(web, user, case_id, moved, seen_event_id=seen_event_id)
    except (ApiError, AftersalesError) as error:
        return _case_again(request, web, user, case_id, retry_for("status", {"status": status}, error))
    return _back(case_id)


@router.post("/cases/{case_id}/assign")
def post_assign(
    request: Request,
    case_id: CaseId,
    web: Web,
    user: FormUser,
    assignee: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    """The case page's select: "" is nobody; a refusal comes back on the page with its reason."""
    try:
        assign(web, user, case_id, assignee.strip() or None)
    except (ApiError, AftersalesError) as error:
        return _case_again(request, web, user, case_id, retry_for("assign", {"assignee": assignee}, error))
    return _see(f"/cases/{case_id}#assign")


def _status(typed: str) -> CaseStatus:
    known = [s.value for s in CaseStatus]
    if typed not in known:
        raise InputError(
            "choose the status to move the case to" if not typed else f"unknown status {typed!r}"
        )
    return CaseStatus(typed)


@router.post("/cases/{case_id}/evidence")
def post_evidence(
    *,
    request: Request,
    case_id: CaseId,
    web: Web,
    user: FormUser,
    key: Annotated[str, Form(max_length=100)],
    present: Annotated[bool, Form()] = False,
    note: Annotated[str, Form(max_length=2_000)] = "",
    file: UploadFile | None = None,
) -> Response:
    """Tick or untick an item (the checkbox; without JavaScript, its Save button); a file
    uploaded with it is kept, listed on the case and ticks the item."""
    by, at = work.author(user), web.now()
    try:
        if file is not None and file.filename:
            meta, content = _read_upload(web, file)
            upload = Upload(
                case_id=case_id, evidence_key=key, meta=meta, content=content, note=note, by=by, at=at
            )
            add_upload(web.desk.uow, upload)
        else:
            mark = EvidenceMark(key=key, present=present, note=note, by=by, at=at)
            mark_evidence(web.desk.uow, case_id, mark)
    except (ApiError, AftersalesError) as error:
        typed = {"key": key, "note": note}
        return _case_again(request, web, user, case_id, retry_for("evidence", typed, error))
    return _see(f"/cases/{case_id}#evidence")


def _read_upload(web: Web, file: UploadFile) -> tuple[AttachmentMeta, bytes]:
    cap = web.settings.max_upload_bytes
    content = file.file.read(cap + 1)
    if len(content) > cap:
        raise InputError(f"the file {file.filename!r} is over {cap / 1024 / 1024:g} MB")
    meta = AttachmentMeta(
        file.filename or "upload", file.content_type or "", len(content), hashlib.sha256(content).hexdigest()
    )
    return meta, content


@router.post("/cases/{case_id}/route")
def post_route(
    request: Request,
    case_id: CaseId,
    web: Web,
    user: FormUser,
    route: Annotated[str, Form(max_length=64)] = "",
    reason: Annotated[str, Form(max_length=2_000)] = "",
) -> Response:
    try:
        work.change_route(web, user, case_id, route, reason)
    except (ApiError, AftersalesError) as error:
        typed = {"route": route, "reason": reason}
        return _case_again(request, web, user, case_id, retry_for("route", typed, error))
    return _back(case_id)


@router.post("/cases/{case_id}/route/confirm")
def post_route_confirm(request: Request, case_id: CaseId, web: Web, user: FormUser) -> Response:
    try:
        work.confirm(web, user, case_id)
    except (ApiError, AftersalesError) as error:
        return _case_again(request, web, user, case_id, retry_for("route", {}, error))
    return _back(case_id)


@router.post("/cases/{case_id}/decision")
def post_decision(
    request: Request,
    case_id: CaseId,
    web: Web,
    user: FormUser,
    decision: Annotated[str, Form(max_length=2_000)] = "",
    amount: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    typed = {"decision": decision, "amount": amount}
    try:
        money = _amount(amount)
        work.record_decision(web, user, case_id, _typed(decision, "decision"), money)
    except (ApiError, AftersalesError) as error:
        return _case_again(request, web, user, case_id, retry_for("decision", typed, error))
    return _back(case_id)


def _amount(typed: str) -> Decimal | None:
    try:
        return Decimal(typed) if typed.strip() else None
    except InvalidOperation as error:
        raise InputError(f"the amount {typed!r} is not a number") from error


# ---------------------------------------------------------------- Routing Lab and policy


@router.get("/lab")
def lab_page(request: Request, user: PageUser) -> HTMLResponse:
    return render(request, "lab.html", {"user": user, "text": "", "order": "", "card": None, "error": ""})


@router.post("/lab")
def lab(
    request: Request,
    web: Web,
    user: FormUser,
    text: Annotated[str, Form(min_length=1, max_length=50_000)],
    order: Annotated[str, Form(max_length=50_000)] = "",
) -> HTMLResponse:
    context: dict[str, Any] = {"user": user, "text": text, "order": order, "card": None, "error": ""}
    try:
        facts = parse_order(json.loads(order), "order") if order.strip() else None
        context["card"] = card_to_dict(build_card(web.kit, text, now=web.now(), order=facts))
    except json.JSONDecodeError as error:
        context["error"] = f"order facts: not valid JSON ({error.msg}, line {error.lineno})"
    except InputError as error:
        context["error"] = str(error)
    return render(request, "lab.html", context)


@router.get("/policy")
def policy_page(request: Request, web: Web, user: PageUser) -> HTMLResponse:
    path = web.settings.active_policy_file()
    text = path.read_text(encoding="utf-8") if path is not None else default_policy_text()
    source = str(path) if path is not None else "the built-in demo policy"
    return render(request, "policy.html", {"user": user, "text": text, "source": source, "problems": None})


@router.post("/policy")
def policy_check(
    request: Request, user: FormUser, text: Annotated[str, Form(max_length=200_000)]
) -> HTMLResponse:
    try:
        parse_policy(text, "policy.toml")
        problems: list[str] = []
    except PolicyError as error:
        problems = [str(p) for p in error.problems]
    context = {"user": user, "text": text, "source": "your edit (not saved)", "problems": problems}
    return render(request, "policy.html", context)


# ---------------------------------------------------------------- the public contact form


@router.get("/contact")
def contact_page(request: Request, web: Web) -> HTMLResponse:
    return render(request, "contact.html", _contact_context(web, {}, ""))


def _contact_context(web: Web, values: dict[str, str], error: str) -> dict[str, Any]:
    return {
        "issues": CONTACT_ISSUES,
        "values": values,
        "error": error,
        "store": web.kit.policy.store_name,
    }


@router.post("/contact")
def contact(
    request: Request,
    web: Web,
    name: Annotated[str, Form(min_length=1, max_length=200)],
    email: Annotated[str, Form(min_length=3, max_length=320)],
    issue: Annotated[str, Form(max_length=40)],
    message: Annotated[str, Form(min_length=1, max_length=20_000)],
    order: Annotated[str, Form(max_length=64)] = "",
    csrf: Annotated[str, Form(alias="csrf_token")] = "",
    trap: Annotated[str, Form(alias=HONEYPOT_FIELD, max_length=2000)] = "",
) -> HTMLResponse:
    values = {"name": name, "email": email, "issue": issue, "message": message, "order": order}
    if not csrf_matches(request, csrf):
        return render(
            request, "contact.html", _contact_context(web, values, "The form expired: send it again."), 403
        )
    if issue not in CONTACT_ISSUES:
        return render(
            request, "contact.html", _contact_context(web, values, "Choose what the message is about."), 422
        )
    now = web.now()
    record = {
        "text": f"{CONTACT_ISSUES[issue]}\n{message}",
        "from": email,
        "name": name,
        "subject": CONTACT_ISSUES[issue],
        "order": order.strip().lstrip("#") or None,
        "channel": "form",
        "sent_at": now.isoformat(),
    }
    reader = MessageReader.of(now, [web.kit.policy.support_email])
    try:
        inbound = message_from_record({k: v for k, v in record.items() if v}, reader)
    except InputError as error:
        return render(request, "contact.html", _contact_context(web, values, str(error)), 422)
    card = message_card(web.kit, inbound)
    context: dict[str, Any] = {
        "store": web.kit.policy.store_name,
        "case_id": None,
        "due": card.sla.first_response_due,
    }
    if trap:  # a bot filled the field no person sees: thanked alike, so it learns nothing
        return render(request, "contact_done.html", context)
    client = request.client.host if request.client else ""
    refused = admit_post(web.desk.contact_posts, email, client, now=now, limits=CONTACT_LIMITS)
    if refused is not None:
        limited = render(
            request,
            "contact.html",
            _contact_context(web, values, f"Not sent: {refused}. Please try again later."),
            429,
        )
        limited.headers["Retry-After"] = str(int(CONTACT_LIMITS.window.total_seconds()))
        return limited
    # its own new case, always: the thank-you page never names a case someone else opened
    result = take_in(web.desk.uow, web.kit, Incoming(inbound, "contact form", typed_sender=True), now=now)
    return render(request, "contact_done.html", context | {"case_id": result.case_id})

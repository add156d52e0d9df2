"""Server-rendered pages: sign-in, the queue, a case, the Routing Lab, the policy, the contact form.

Pages are plain HTML forms that work without JavaScript; ``static/app.js`` only adds the live
reply checks and the next-update picker's due time. Every form post carries the CSRF token.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from aftersales.adapters.db.contact_posts import contact_posts_unit_of_work
from aftersales.adapters.message_files import MessageReader, message_from_record
from aftersales.adapters.order_file import parse_order
from aftersales.adapters.policy_file import PolicyError, default_policy_text, parse_policy
from aftersales.domain.card import card_to_dict
from aftersales.domain.cases import ALLOWED, CaseStatus
from aftersales.domain.contact_form import HONEYPOT_FIELD, ContactLimits
from aftersales.domain.errors import InputError
from aftersales.domain.messages import AttachmentMeta
from aftersales.domain.permissions import Action, may, may_refund, statuses_offered
from aftersales.domain.routes import Route
from aftersales.domain.trust import SENDER_MARK_LABELS, SenderMark
from aftersales.services.accounts import account_key, sign_in_attempt
from aftersales.services.contact_form import admit_post
from aftersales.services.desk import EvidenceMark, add_note, case_record, mark_evidence
from aftersales.services.intake import Incoming, take_in
from aftersales.services.rerouting import case_card
from aftersales.services.routing import build_card, message_card
from aftersales.web import work
from aftersales.web.assign import assignees
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
CONTACT_LIMITS = ContactLimits()  # 5 posts an hour per e-mail address, 20 per client address
# what the contact form offers, in a buyer's words, and the words routing reads from it
ISSUES = {
    "where_is_my_order": "Where is my order?",
    "damaged": "My order arrived damaged",
    "wrong_item": "I received the wrong item",
    "return": "I want to return or exchange",
    "refund": "A question about a refund",
    "change_order": "Change or cancel my order",
    "question": "A question before buying",
    "other": "Something else",
}


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


@router.get("/cases/{case_id}")
def case_page(
    request: Request,
    case_id: CaseId,
    web: Web,
    user: PageUser,
    problem: Annotated[str, Query(max_length=2_000)] = "",
    show: Annotated[int, Query(ge=1, le=MAX_SHOWN)] = CASE_MESSAGES,
) -> HTMLResponse:
    record = case_record(web.desk.read, case_id)
    case = record["case"]
    card = _card_now(web, record)
    replied = any(m["direction"] == "outbound" for m in record["messages"])
    messages, timeline = record["messages"][-show:], record["timeline"][-max(show, CASE_TIMELINE) :]
    context = {
        "user": user,
        "case": case,
        "messages": [dict(m, safe_html=safe_email_html(m["html"])) for m in messages],
        "earlier": len(record["messages"]) - len(messages),
        "show_more": min(show + 200, MAX_SHOWN),
        "evidence": record["evidence"],
        "timeline": timeline,
        "earlier_events": len(record["timeline"]) - len(timeline),
        "card": card,
        # a draft written now, so its times are still ahead; once answered, the agent writes
        "draft": card["first_reply"] if card and not replied else "",
        "statuses": statuses_offered(
            user.role,
            case["route"],
            [s.value for s in CaseStatus if s in ALLOWED[CaseStatus(case["status"])]],
        ),
        "may_decide": may(user.role, Action.DECIDE, case["route"]),
        "may_refund": may_refund(user.role, case["route"]),
        "may_reroute": may(user.role, Action.REROUTE, case["route"]),
        "routes": [r.value for r in Route],
        "zone": web.kit.calendar.tz,
        "problem": problem,
        "limit": web.kit.policy.frontline_refund_limit,
        "sender_mark": SENDER_MARK_LABELS[SenderMark(case["sender_mark"])],
        "people": assignees(web),  # _assign.html
    }
    return render(request, "case.html", context)


def _card_now(web: Web, record: dict[str, Any]) -> dict[str, Any] | None:
    """The case's first message routed again as of now, with the order facts the store holds,
    on the case's route: its trace for the card, and a first-reply draft whose promised times
    are still ahead (the agent sees the order's facts; a sender who is not the buyer is not
    told them)."""
    first = next((m for m in record["messages"] if m["direction"] == "inbound"), None)
    if first is None:
        return None
    with web.desk.read() as cases:
        return card_to_dict(case_card(web.kit, cases, record["case"], first, now=web.now()))


def _back(case_id: int, problem: str = "") -> RedirectResponse:
    return _see(f"/cases/{case_id}" + (f"?{urlencode({'problem': problem})}" if problem else ""))


@router.post("/cases/{case_id}/reply")
def post_reply(
    case_id: CaseId,
    web: Web,
    user: FormUser,
    text: Annotated[str, Form(min_length=1, max_length=50_000)],
    next_update: Annotated[str, Form(max_length=40)] = "",
    force: Annotated[bool, Form()] = False,
) -> RedirectResponse:
    try:
        when = datetime.fromisoformat(next_update) if next_update else None
    except ValueError:
        return _back(case_id, f"the next-update time {next_update!r} is not a date and time")
    work.reply(web, user, case_id, text, when, force=force)
    return _back(case_id)


@router.post("/cases/{case_id}/note")
def post_note(
    case_id: CaseId, web: Web, user: FormUser, text: Annotated[str, Form(min_length=1, max_length=50_000)]
) -> RedirectResponse:
    add_note(web.desk.uow, case_id, text, by=work.author(user), at=web.now())
    return _back(case_id)


@router.post("/cases/{case_id}/status")
def post_status(
    case_id: CaseId, web: Web, user: FormUser, status: Annotated[CaseStatus, Form()]
) -> RedirectResponse:
    work.change_status(web, user, case_id, status)
    return _back(case_id)


@router.post("/cases/{case_id}/evidence")
def post_evidence(
    case_id: CaseId,
    web: Web,
    user: FormUser,
    key: Annotated[str, Form(max_length=100)],
    present: Annotated[bool, Form()] = False,
    note: Annotated[str, Form(max_length=2_000)] = "",
    file: UploadFile | None = None,
) -> RedirectResponse:
    if file is not None and file.filename:
        note = (note + " " if note else "") + _keep_upload(web, file)
    mark = EvidenceMark(key=key, present=present, note=note, by=work.author(user), at=web.now())
    mark_evidence(web.desk.uow, case_id, mark)
    return _back(case_id)


def _keep_upload(web: Web, file: UploadFile) -> str:
    cap = web.settings.max_upload_bytes
    content = file.file.read(cap + 1)
    if len(content) > cap:
        raise InputError(f"the file {file.filename!r} is over {cap / 1024 / 1024:g} MB")
    meta = AttachmentMeta(
        file.filename or "upload", file.content_type or "", len(content), hashlib.sha256(content).hexdigest()
    )
    with web.desk.uow() as cases:
        cases.save_attachment(meta, content)
    return f"(file {meta.filename}, sha256 {meta.sha256[:12]})"


@router.post("/cases/{case_id}/route")
def post_route(
    case_id: CaseId,
    web: Web,
    user: FormUser,
    route: Annotated[str, Form(max_length=64)],
    reason: Annotated[str, Form(max_length=2_000)] = "",
) -> RedirectResponse:
    work.change_route(web, user, case_id, route, reason)
    return _back(case_id)


@router.post("/cases/{case_id}/route/confirm")
def post_route_confirm(case_id: CaseId, web: Web, user: FormUser) -> RedirectResponse:
    work.confirm(web, user, case_id)
    return _back(case_id)


@router.post("/cases/{case_id}/decision")
def post_decision(
    case_id: CaseId,
    web: Web,
    user: FormUser,
    decision: Annotated[str, Form(min_length=1, max_length=2_000)],
    amount: Annotated[str, Form(max_length=20)] = "",
) -> RedirectResponse:
    try:
        money = Decimal(amount) if amount.strip() else None
    except InvalidOperation:
        return _back(case_id, f"the amount {amount!r} is not a number")
    work.record_decision(web, user, case_id, decision, money)
    return _back(case_id)


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
        "issues": ISSUES,
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
    if issue not in ISSUES:
        return render(
            request, "contact.html", _contact_context(web, values, "Choose what the message is about."), 422
        )
    now = web.now()
    record = {
        "text": f"{ISSUES[issue]}\n{message}",
        "from": email,
        "name": name,
        "subject": ISSUES[issue],
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
    refused = admit_post(
        contact_posts_unit_of_work(web.desk.engine), email, client, now=now, limits=CONTACT_LIMITS
    )
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

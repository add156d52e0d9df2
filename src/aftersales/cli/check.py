"""`aftersales check`: the launch readiness check, each item passed, failed (with its fix) or
skipped."""

from __future__ import annotations

import json
import secrets
import sys
from datetime import UTC, datetime
from importlib import resources

import click

from aftersales.domain.contact_form import CONTACT_ISSUES
from aftersales.domain.errors import AftersalesError
from aftersales.domain.outgoing import MailKind, MailNotSent, OutgoingMail, mail_domain, new_message_id
from aftersales.domain.policy import StorePolicy
from aftersales.domain.readiness import CheckResult, Status, all_pass
from aftersales.services.readiness import ContactForm, MailProbes, Probe, check_readiness
from aftersales.settings import MailServer, Settings
from aftersales.wiring import build_routing_kit, inbox, mail_sender, open_desk

PROBE_TIMEOUT_SECONDS = 10.0  # a server that does not answer fails the item, not the command
_MARKS = {Status.PASS: "PASS", Status.FAIL: "FAIL", Status.SKIP: "SKIP"}


@click.command("check")
@click.option(
    "--json", "as_json", is_flag=True, help="Print {ready, items: [{key, title, status, detail, fix}]}."
)
@click.option("--no-network", is_flag=True, help="Skip the IMAP login and the SMTP test mail.")
@click.pass_obj
def check(settings: Settings, *, as_json: bool, no_network: bool) -> None:
    """Check the desk is ready to open: every item passes, fails with its fix, or is skipped.

    Items: the support inbox accepts the IMAP login; the SMTP server sends a test mail to the
    support address (only when AFTERSALES_SMTP_HOST is set); the automatic acknowledgement
    states a first-response time; the contact form asks for the order number and the issue
    type; the return policy text in force states the window, who pays return shipping and the
    proof required; every route has a lead; holidays are configured; rating links reach the
    desk; the semantic reader is installed and reads (or the policy turns it off).
    Exits 0 when nothing failed, 1 when an item failed.

    \b
    Example:
      aftersales check --no-network
      PASS  The automatic acknowledgement states a first-response time
      FAIL  The return policy states the window, who pays return shipping and the proof required
            no policy texts are stored
            fix: add it with `aftersales policy texts add --return FILE`
    """
    kit = build_routing_kit(settings)
    results = check_readiness(
        kit,
        contact_form=_contact_form(),
        policy_texts=open_desk(settings).read_policy_texts,
        mail=_probes(settings, kit.policy, offline=no_network),
        now=datetime.now(UTC),
        public_url=settings.public_url,
    )
    _report(results, as_json=as_json)
    sys.exit(0 if all_pass(results) else 1)


def _contact_form() -> ContactForm:
    """The contact form as the web desk defines it: its template and its issue list (read,
    not served: no server is started)."""

    template = resources.files("aftersales.web").joinpath("templates", "contact.html")
    return ContactForm(html=template.read_text(encoding="utf-8"), issue_choices=len(CONTACT_ISSUES))


def _probes(settings: Settings, policy: StorePolicy, *, offline: bool) -> MailProbes:
    imap, smtp = settings.imap, settings.smtp
    return MailProbes(
        imap=_imap_probe(imap, settings.imap_folder) if imap else None,
        imap_where=f"{imap.user}@{imap.host}/{settings.imap_folder}" if imap else "",
        smtp=_smtp_probe(smtp, policy) if smtp else None,
        smtp_to=policy.support_email,
        offline=offline,
    )


def _imap_probe(server: MailServer, folder: str) -> Probe:
    def probe() -> str | None:
        try:
            with inbox(server, folder, timeout=PROBE_TIMEOUT_SECONDS):
                return None
        except AftersalesError as error:  # the server is down, the login refused: said plainly
            return str(error)

    return probe


def _smtp_probe(server: MailServer, policy: StorePolicy) -> Probe:
    """A test mail from the support address to itself, marked automatic: intake screens our
    own address, so it opens no case."""

    def probe() -> str | None:
        now = datetime.now(UTC)
        mail = OutgoingMail(
            case_id=0,
            kind=MailKind.ACKNOWLEDGEMENT,  # sent with Auto-Submitted: nobody answers it
            message_id=new_message_id(mail_domain(policy.support_email), f"check-{secrets.token_hex(8)}"),
            to_address=policy.support_email,
            subject="aftersales check: test mail",
            body="This mail tests that the desk can send through the mail server. Nothing to do.",
        )
        sender = mail_sender(server, policy, timeout=PROBE_TIMEOUT_SECONDS)
        try:
            sender.send(mail, at=now)
        except MailNotSent as error:
            return str(error)
        return None

    return probe


def _report(results: list[CheckResult], *, as_json: bool) -> None:
    if as_json:
        click.echo(
            json.dumps({"ready": all_pass(results), "items": [r.to_dict() for r in results]}, indent=2)
        )
        return
    for result in results:
        click.echo(f"{_MARKS[result.status]}  {result.title}")
        if result.detail:
            click.echo(f"      {result.detail}")
        if result.status is Status.FAIL and result.fix:
            click.echo(f"      fix: {result.fix}")
    counts = {status: sum(1 for r in results if r.status is status) for status in Status}
    click.echo(
        f"{counts[Status.PASS]} passed, {counts[Status.FAIL]} failed, {counts[Status.SKIP]} skipped: "
        + ("ready" if all_pass(results) else "not ready")
    )

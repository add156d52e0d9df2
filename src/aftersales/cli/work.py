"""`aftersales reply`, `note`, `status`, `assign` ...: working a case from the command line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from aftersales.cli.options import parse_now
from aftersales.domain.cases import CaseStatus
from aftersales.domain.routes import Route
from aftersales.services.assignment import assign_case, assignable_user
from aftersales.services.desk import (
    EvidenceMark,
    add_note,
    assign_lead,
    change_status,
    escalate,
    mark_evidence,
    record_decision,
)
from aftersales.services.replies import Reply, send_reply
from aftersales.services.rerouting import Reroute, reroute
from aftersales.services.routing import format_moment
from aftersales.services.satisfaction import clear_flag
from aftersales.settings import Settings
from aftersales.wiring import build_routing_kit, mail_links, open_desk

_AUTHOR = click.option(
    "--by", "author", default="support", show_default=True, help="Who is acting (for the timeline)."
)


_TEXT_FILE = click.option(
    "--file",
    "text_file",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="Read the text from a file instead of --text.",
)


def _text(text: str | None, text_file: Path | None) -> str:
    if text_file is not None:
        return text_file.read_text(encoding="utf-8")
    if not text:
        raise click.UsageError("give the text with --text or --file")
    return text


@click.command()
@click.argument("case_id", type=int)
@click.option("--text", help="The reply.")
@_TEXT_FILE
@click.option(
    "--next-update",
    "next_update",
    metavar="WHEN",
    help="The promised next update (ISO 8601 with offset), if the text does not say it.",
)
@click.option("--force", is_flag=True, help="Send even if the reply checks fail (the timeline records it).")
@click.option(
    "--resolve",
    is_flag=True,
    help="The reply resolves the case: no next-update time needed; its mail ends with the rating link.",
)
@click.option("--at", "at_text", metavar="ISO8601", help="When it was sent (default: now).")
@_AUTHOR
@click.pass_obj
def reply(  # noqa: PLR0913  (click passes each option)
    settings: Settings,
    *,
    case_id: int,
    text: str | None,
    text_file: Path | None,
    next_update: str | None,
    force: bool,
    resolve: bool,
    at_text: str | None,
    author: str,
) -> None:
    """Record a public reply. It must state the next step and its time ("I'll update you by
    tomorrow 3 pm"): the promised time becomes the next-update due time. A reply without a
    time, with defensive wording, or promising a refund before the stop line clears is
    refused with the reason, unless --force.

    With --resolve the reply resolves the case, and its mail ends with the satisfaction
    survey's one-click rating link (policy [satisfaction], AFTERSALES_PUBLIC_URL).

    \b
    Examples:
      aftersales reply 12 --text "Your refund is on its way; it shows in 3-5 days." --resolve
      aftersales reply 12 --file answer.txt --next-update 2026-03-04T15:00+01:00
    """
    kit = build_routing_kit(settings)
    at = parse_now(at_text).astimezone(UTC)
    promise = parse_now(next_update) if next_update else None
    request = Reply(
        case_id=case_id,
        text=_text(text, text_file),
        author=author,
        at=at,
        next_update=promise,
        force=force,
        resolve=resolve,
    )
    promised = send_reply(open_desk(settings).uow, kit, request, links=mail_links(settings))
    if resolve:
        click.echo(f"case {case_id}: reply recorded; the case is resolved")
        return
    when = format_moment(promised.astimezone(kit.calendar.tz)) if promised else "no time found"
    click.echo(f"case {case_id}: reply recorded; next update due {when}")


@click.command("clear-rating-flag")
@click.argument("case_id", type=int)
@_AUTHOR
@click.pass_obj
def clear_rating_flag(settings: Settings, case_id: int, author: str) -> None:
    """Clear a case's bad-rating flag once its lead has seen it (the timeline keeps who).

    \b
    Example:
      aftersales clear-rating-flag 12 --by "Priya (operations)"
    """
    cleared = clear_flag(open_desk(settings).uow, case_id, by=author, at=datetime.now(UTC))
    click.echo(
        f"case {case_id}: " + ("bad-rating flag cleared" if cleared else "no bad-rating flag to clear")
    )


@click.command()
@click.argument("case_id", type=int)
@click.option("--text", help="The note.")
@_TEXT_FILE
@_AUTHOR
@click.pass_obj
def note(settings: Settings, case_id: int, text: str | None, text_file: Path | None, author: str) -> None:
    """Add an internal note (never sent to the customer; the clocks do not move)."""
    add_note(open_desk(settings).uow, case_id, _text(text, text_file), by=author, at=datetime.now(UTC))
    click.echo(f"case {case_id}: note added")


@click.command()
@click.argument("case_id", type=int)
@click.argument("new_status", metavar="STATUS", type=click.Choice([s.value for s in CaseStatus]))
@_AUTHOR
@click.pass_obj
def status(settings: Settings, case_id: int, new_status: str, author: str) -> None:
    """Move a case: open, waiting_on_customer (pauses the clocks), resolved, closed.

    A new customer message reopens a waiting, resolved or closed case by itself.
    """
    kit = build_routing_kit(settings)
    change_status(
        open_desk(settings).uow, kit, case_id, CaseStatus(new_status), by=author, at=datetime.now(UTC)
    )
    click.echo(f"case {case_id}: {new_status}")


@click.command()
@click.argument("case_id", type=int)
@click.argument("email", required=False)
@click.option("--unassign", is_flag=True, help="Assign the case to nobody.")
@click.option(
    "--lead",
    "lead",
    metavar="WHO",
    help="Change the case's lead (its escalation owner) instead: a role (operations, founder, "
    "supply_chain, marketing, frontline), whose person comes from the policy, or a name.",
)
@_AUTHOR
@click.pass_obj
def assign(
    settings: Settings, *, case_id: int, email: str | None, unassign: bool, lead: str | None, author: str
) -> None:
    """Give a case to a user of the desk by their EMAIL, or to nobody (--unassign). An
    address that is not an active user is refused with the list of users.

    The assignee works the case; the route's lead stays its escalation owner (--lead WHO
    changes the lead).

    \b
    Examples:
      aftersales assign 42 sam@northwind.example
      aftersales assign 42 --unassign
      aftersales assign 42 --lead operations
    """
    if sum((email is not None, unassign, lead is not None)) != 1:
        raise click.UsageError("give one of EMAIL, --unassign or --lead WHO")
    desk = open_desk(settings)
    now = datetime.now(UTC)
    if lead is not None:
        name = assign_lead(desk.uow, build_routing_kit(settings), case_id, lead, by=author, at=now)
        click.echo(f"case {case_id}: lead {name}")
        return
    user = None
    if email is not None:
        with desk.read_users() as users:
            user = assignable_user(users, email)
    assign_case(desk.uow, case_id, user, by=author, at=now)
    click.echo(f"case {case_id}: assigned to {user.email if user else 'nobody'}")


@click.command("escalate")
@click.argument("case_id", type=int)
@click.option("--reason", required=True, help="Why it goes to the lead now.")
@_AUTHOR
@click.pass_obj
def escalate_command(settings: Settings, case_id: int, reason: str, author: str) -> None:
    """Escalate a case to its lead now (meets a running escalation clock)."""
    kit = build_routing_kit(settings)
    escalate(open_desk(settings).uow, kit, case_id, reason, by=author, at=datetime.now(UTC))
    click.echo(f"case {case_id}: escalated")


@click.command()
@click.argument("case_id", type=int)
@click.argument("key")
@click.argument("state", type=click.Choice(["present", "missing"]))
@click.option("--note", default="", help="Where the evidence is, e.g. 'photo in the 10:14 mail'.")
@_AUTHOR
@click.pass_obj
def evidence(settings: Settings, case_id: int, key: str, state: str, note: str, author: str) -> None:
    """Tick an evidence item as present (with a note), or mark it missing again.

    KEY is the item's key as `aftersales case ID --json` lists it, e.g. damage_photo.
    """
    mark = EvidenceMark(key=key, present=state == "present", note=note, by=author, at=datetime.now(UTC))
    mark_evidence(open_desk(settings).uow, case_id, mark)
    click.echo(f"case {case_id}: {key} {state}")


@click.command()
@click.argument("case_id", type=int)
@click.option("--text", required=True, help="The decision, e.g. 'reship at our cost, no return needed'.")
@_AUTHOR
@click.pass_obj
def decide(settings: Settings, case_id: int, text: str, author: str) -> None:
    """Record a person's decision on the case (kept on the case and its timeline)."""
    record_decision(open_desk(settings).uow, case_id, text, by=author, at=datetime.now(UTC))
    click.echo(f"case {case_id}: decision recorded")


@click.command("reroute")
@click.argument("case_id", type=int)
@click.argument("route", metavar="ROUTE", type=click.Choice([r.value for r in Route]))
@click.option("--reason", default="", help="Why (kept on the timeline).")
@_AUTHOR
@click.pass_obj
def reroute_command(settings: Settings, case_id: int, route: str, reason: str, author: str) -> None:
    """Put a case on another ROUTE and plan it again: evidence checklist, lead, decision and
    stop line, first-reply draft and clocks (a stricter target never applies to a clock
    already running). The message is kept as a labelled example (`train --from-desk`).
    Re-routing to the route it has confirms it."""
    kit = build_routing_kit(settings)
    change = Reroute(case_id=case_id, route=Route(route), by=author, at=datetime.now(UTC), reason=reason)
    card = reroute(open_desk(settings).uow, kit, change)
    lead = card.lead.name if card.lead else card.spec.lead
    click.echo(f"case {case_id}: route {route}; lead {lead}; stop line: {card.decision.stop_line}")

"""`aftersales cases` and `aftersales case ID`: the queue (domain/queue.py), and one case's record."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import click

from aftersales.domain.cases import OPEN_STATUSES, CaseStatus, CaseSummary, SlaState, summary_to_dict
from aftersales.domain.queue import QueueOrder, QueueQuery
from aftersales.domain.routes import Route
from aftersales.services.assignment import desk_user
from aftersales.services.case_side import case_side, side_to_dict
from aftersales.services.desk import case_record
from aftersales.settings import Settings
from aftersales.wiring import Desk, load_active_policy, open_desk, store_specs

_TICKS = {"present": "x", "suggested": "?", "missing": " "}

_SLA = {
    SlaState.BREACHED: "BREACHED",
    SlaState.AT_RISK: "at risk",
    SlaState.ON_TRACK: "",
    SlaState.WAITING: "waiting",
    SlaState.CLOSED: "closed",
}


@click.command()
@click.option("--route", type=click.Choice([r.value for r in Route]), help="Only this route.")
@click.option("--lead", help="Only this lead: a role such as operations, or the start of their name (Priya).")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice([s.value for s in CaseStatus]),
    help="Only cases in this status (repeat for several).",
)
@click.option(
    "--assignee", metavar="EMAIL", help="Only cases assigned to this desk user; 'none': unassigned."
)
@click.option("--mine", is_flag=True, help="Only cases assigned to you (--user).")
@click.option(
    "--user",
    "me",
    metavar="EMAIL",
    envvar="AFTERSALES_USER",
    help="Who you are, for --mine (default: AFTERSALES_USER).",
)
@click.option(
    "--search", default="", help="A customer's name or e-mail, an order number, or words of the messages."
)
@click.option("--breaching", is_flag=True, help="Only cases with a clock of ours at risk or breached.")
@click.option("--all", "include_closed", is_flag=True, help="Include resolved and closed cases.")
@click.option("--overdue", is_flag=True, help="Most overdue first, whatever the route.")
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--json", "as_json", is_flag=True, help="A JSON list of case objects.")
@click.pass_obj
def cases(
    settings: Settings,
    *,
    route: str | None,
    lead: str | None,
    statuses: tuple[str, ...],
    assignee: str | None,
    mine: bool,
    me: str | None,
    search: str,
    breaching: bool,
    include_closed: bool,
    overdue: bool,
    limit: int,
    as_json: bool,
) -> None:
    """The queue: what needs a person now, first. Open cases before those waiting on the
    customer; then the route's risk (chargeback first), then breached, at risk, on track,
    then the soonest due. --overdue: the soonest due first, whatever the route.

    \b
    Examples:
      aftersales cases
      aftersales cases --mine --user sam@northwind.example
      aftersales cases --search "ana silva" --all
      aftersales cases --route chargeback_risk --json
      aftersales cases --breaching --lead Priya --overdue
    """
    desk = open_desk(settings)
    chosen = {CaseStatus(s) for s in statuses} or (set(CaseStatus) if include_closed else set(OPEN_STATUSES))
    query = QueueQuery(
        statuses=frozenset(chosen),
        route=Route(route) if route else None,
        lead=lead or "",
        breaching=breaching,
        search=search,
        order=QueueOrder.OVERDUE if overdue else QueueOrder.RISK,
        limit=limit,
        **_assignee_filter(desk, assignee, me if mine else None, mine=mine),
    )
    with desk.read() as repo:
        rows = repo.queue(query)
    if as_json:
        click.echo(json.dumps([summary_to_dict(row) for row in rows], indent=2))
        return
    if not rows:
        filtered = route or lead or breaching or statuses or assignee or mine or search
        click.echo("no open cases" + (" matching the filters" if filtered else ""))
        return
    _print_rows(rows, ZoneInfo(load_active_policy(settings).time_zone))


def _assignee_filter(desk: Desk, assignee: str | None, me: str | None, *, mine: bool) -> dict[str, Any]:
    """The query's assignee filter from --assignee or --mine; a user the desk does not know
    is an error that lists its users."""
    if mine and assignee:
        raise click.UsageError("give --mine or --assignee, not both")
    if mine and not me:
        raise click.UsageError("--mine needs to know who you are: --user EMAIL or AFTERSALES_USER")
    wanted = me if mine else assignee
    if wanted is None:
        return {}
    if wanted.strip().lower() == "none":
        return {"unassigned": True}
    with desk.read_users() as users:
        return {"assignee_id": desk_user(users, wanted, active=False).id}


def _print_rows(rows: list[CaseSummary], zone: ZoneInfo) -> None:
    """The rows as a table; due times in the store's zone."""
    click.echo(
        f"{'id':>6}  {'route':<17} {'status':<20} {'next due':<17} {'SLA':<9} {'lead':<18} "
        f"{'assignee':<24} customer / order"
    )
    for row in rows:
        order = "#" + row.order_number if row.order_number else ""
        click.echo(
            f"{row.id:>6}  {row.route.value:<17} {row.status.value:<20} {_short(row.next_due_at, zone):<17} "
            f"{_SLA[row.sla]:<9} {row.lead_name or row.lead_role:<18} {row.assignee_email or '-':<24} "
            f"{row.customer} {order}"
        )


@click.command()
@click.argument("case_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="The whole record as JSON.")
@click.pass_obj
def case(settings: Settings, *, case_id: int, as_json: bool) -> None:
    """One case: route, status, lead, clocks, evidence, decision and the timeline."""
    desk = open_desk(settings)
    policy = load_active_policy(settings)
    record = case_record(desk.read, case_id)
    # the evidence as it stands now (from facts), the case's files and its order, as the web shows them
    side = case_side(desk.read, store_specs(policy), case_id, shop=settings.shopify.shop)
    record |= side_to_dict(side, record["evidence"])
    if as_json:
        click.echo(json.dumps(record, indent=2, default=_json_value))
        return
    click.echo(_render(record, policy.time_zone))


def _json_value(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _short(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else "-"


def _render(record: dict[str, Any], time_zone: str) -> str:
    case = record["case"]
    zone = ZoneInfo(time_zone)
    lines = [
        click.style(f"CASE {case['id']}  {case['route']}  {case['status']}", bold=True)
        + f"   lead {case['lead_name'] or case['lead_role']}"
        + f"   assignee {case['assignee']['email'] if case.get('assignee') else '-'}"
        + f"   customer {case['customer']}"
        + (f"   order #{case['order_number']}" if case["order_number"] else ""),
        f"subject: {case['subject']}",
        "",
        "CLOCKS",
        *[
            f"  {c['name']:<15} {c['state']:<10} due {c.get('due_at') or '-'}"
            + (f"  (breached {c['breached_at']})" if c.get("breached_at") else "")
            for c in case["clocks"]
        ],
        "",
        "EVIDENCE",
        *[
            f"  [{_TICKS[e['state']]}] {e['label']}"
            + (f"  ({e['source'] or e['suggestion']})" if e["source"] or e["suggestion"] else "")
            for e in record["evidence"]
        ],
        "",
        "DECISION",
        f"  {case['decision'].get('action', '')}",
        f"  stop line: {case['decision'].get('stop_line', '')}",
        "",
        "TIMELINE",
        *[
            f"  {e['at'].astimezone(zone):%Y-%m-%d %H:%M}  {e['kind']:<18} {e['actor']:<12} {_event_text(e)}"
            for e in record["timeline"]
        ],
    ]
    return "\n".join(lines)


def _event_text(event: dict[str, Any]) -> str:
    data = event.get("data") or {}
    return ", ".join(f"{k}={v}" for k, v in data.items() if not isinstance(v, (list, dict)))[:120]

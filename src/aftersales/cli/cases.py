"""`aftersales cases` and `aftersales case ID`: the queue by SLA risk, and one case's record."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import click

from aftersales.domain.cases import OPEN_STATUSES, CaseStatus, summary_to_dict
from aftersales.domain.routes import Route
from aftersales.services.case_side import case_side, side_to_dict
from aftersales.services.desk import case_record
from aftersales.settings import Settings
from aftersales.wiring import load_active_policy, open_desk, store_specs

_RISK = {2: "BREACHED", 1: "at risk", 0: ""}
_TICKS = {"present": "x", "suggested": "?", "missing": " "}


@click.command()
@click.option("--route", type=click.Choice([r.value for r in Route]), help="Only this route.")
@click.option("--lead", help="Only this lead (a role such as operations, or a name).")
@click.option("--breaching", is_flag=True, help="Only cases with a clock at risk or breached.")
@click.option("--all", "include_closed", is_flag=True, help="Include resolved and closed cases.")
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--json", "as_json", is_flag=True, help="A JSON list of case objects.")
@click.pass_obj
def cases(
    settings: Settings,
    route: str | None,
    lead: str | None,
    breaching: bool,
    include_closed: bool,
    limit: int,
    as_json: bool,
) -> None:
    """Open cases, riskiest first: breached, then at risk, then the soonest due.

    \b
    Examples:
      aftersales cases
      aftersales cases --route chargeback_risk --json
      aftersales cases --breaching --lead operations
    """
    desk = open_desk(settings)
    statuses = list(CaseStatus) if include_closed else sorted(OPEN_STATUSES)
    with desk.read() as repo:
        rows = repo.list_cases(statuses, Route(route) if route else None, lead, breaching, limit)
    if as_json:
        click.echo(json.dumps([summary_to_dict(row) for row in rows], indent=2))
        return
    if not rows:
        click.echo("no open cases" + (" matching the filters" if route or lead or breaching else ""))
        return
    click.echo(
        f"{'id':>6}  {'route':<17} {'status':<20} {'next due':<17} {'risk':<9} {'lead':<22} customer / order"
    )
    for row in rows:
        click.echo(
            f"{row.id:>6}  {row.route.value:<17} {row.status.value:<20} {_short(row.next_due_at):<17} "
            f"{_RISK[row.risk]:<9} {row.lead_name or row.lead_role:<22} {row.customer} {'#' + row.order_number if row.order_number else ''}"
        )


@click.command()
@click.argument("case_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="The whole record as JSON.")
@click.pass_obj
def case(settings: Settings, case_id: int, as_json: bool) -> None:
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


def _short(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"


def _render(record: dict[str, Any], time_zone: str) -> str:
    case = record["case"]
    zone = ZoneInfo(time_zone)
    lines = [
        click.style(f"CASE {case['id']}  {case['route']}  {case['status']}", bold=True)
        + f"   lead {case['lead_name'] or case['lead_role']}   customer {case['customer']}"
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

"""The weekly review as JSON, Markdown, terminal text and one standalone HTML file.

The HTML report's charts are inline SVG bars written here: a static chart library
(matplotlib) would add tens of megabytes to draw a few bars, and inline SVG needs no
JavaScript, no network and no second file. Every text from the data is escaped.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Any

from aftersales.adapters.reports.trends import trend_html, trend_markdown, trend_text, trend_to_dict
from aftersales.domain.weekly_review import (
    Attainment,
    Dimension,
    RepeatGroup,
    ReviewedFinding,
    WeeklyReview,
    by_route,
    totals,
)
from aftersales.domain.writeback import Task, task_to_dict

TOP = 10  # rows per breakdown


def review_to_dict(review: WeeklyReview) -> dict[str, Any]:
    week = review.week
    return {
        "week": week.label,
        "start": week.start.isoformat(),
        "end": week.end.isoformat(),
        "until": week.until.isoformat(),
        "complete": week.is_complete,
        "repeat_rule": {
            "threshold": review.threshold,
            "window_days": review.window_days,
            "since": week.repeat_since.isoformat(),
        },
        "cases": review.cases,
        "by_route": dict(by_route(review.counts)),
        "by_sku": dict(totals(review.counts, Dimension.SKU)),
        "by_carrier": dict(totals(review.counts, Dimension.CARRIER)),
        "by_reason": dict(totals(review.counts, Dimension.REASON)),
        "findings": [_finding(f) for f in review.findings],
        "watch": [_group(g) for g in review.watch],
        "sla": [_attainment(a) for a in review.attainment],
        "carried_over": [task_to_dict(t) for t in review.carried_over],
        "generated_at": review.generated_at.isoformat(),
        "tasks_filed": review.filed,
        "trend": trend_to_dict(review.trend) if review.trend is not None else None,
    }


def review_json(review: WeeklyReview) -> str:
    return json.dumps(review_to_dict(review), indent=2, ensure_ascii=False)


def _finding(reviewed: ReviewedFinding) -> dict[str, Any]:
    finding = reviewed.finding
    return {
        "key": finding.key,
        **_group(finding.group),
        "targets": [t.value for t in finding.targets],
        "owner": {"role": finding.owner.role, "name": finding.owner.name},
        "task": task_to_dict(reviewed.task) if reviewed.task else None,
        "task_is_new": reviewed.is_new,
    }


def _group(group: RepeatGroup) -> dict[str, Any]:
    return {
        "route": group.route,
        "dimension": group.dimension.value,
        "value": group.value,
        "variant": group.variant,
        "count": group.count,
        "case_ids": list(group.case_ids),
    }


def _attainment(row: Attainment) -> dict[str, Any]:
    share = row.share_met
    return {
        "route": row.route,
        "clock": row.clock,
        "met": row.met,
        "breached": row.breached,
        "running": row.running,
        "share_met": round(share, 4) if share is not None else None,
    }


def _share(row: Attainment) -> str:
    share = row.share_met
    return "-" if share is None else f"{share:.0%}"


def _day(moment: datetime | None) -> str:
    return moment.date().isoformat() if moment is not None else "-"


def _about(group: RepeatGroup) -> str:
    return f"{group.value} ({group.variant})" if group.variant else group.value


def _owner(finding: ReviewedFinding) -> str:
    owner = finding.finding.owner
    return f"{owner.name} ({owner.role})" if owner.name else owner.role


def _task_state(reviewed: ReviewedFinding) -> str:
    task = reviewed.task
    if task is None:
        return "not filed (preview)"
    if not task.is_open:
        return f"task {task.id} closed {_day(task.closed_at)}: {task.close_note}"
    return f"task {task.id} ({'new' if reviewed.is_new else 'open'}), due {_day(task.draft.due_at)}"


# ------------------------------------------------------------------------------ text


def review_text(review: WeeklyReview) -> str:
    week = review.week
    lines = [
        f"Weekly review {week.label}: {_day(week.start)} to {_day(week.until)}"
        + ("" if week.is_complete else " (week still running)"),
        f"{review.cases} cases. Repeats: the same route and SKU, carrier or reason "
        f"{review.threshold}+ times in {review.window_days} days.",
        "",
        "Findings:" if review.findings else "Findings: none",
    ]
    for reviewed in review.findings:
        finding = reviewed.finding
        lines.append(f"  - {finding.title}: cases {_ids(finding.group)}")
        lines.append(
            f"    -> {', '.join(t.value for t in finding.targets)}; owner {_owner(reviewed)}; "
            f"{_task_state(reviewed)}"
        )
    if review.watch:
        lines.append("Watch (one short of a repeat):")
        lines.extend(
            f"  - {g.route} {g.dimension.value} {_about(g)}: {g.count} cases ({_ids(g)})"
            for g in review.watch
        )
    lines += ["", "Cases by route:"]
    lines.extend(f"  {route:<18} {count}" for route, count in by_route(review.counts))
    lines += ["", "SLA attainment (met / breached / running, share met):"]
    lines.extend(
        f"  {a.route:<18} {a.clock:<16} {a.met:>5} / {a.breached:>5} / {a.running:>5}  {_share(a)}"
        for a in review.attainment
    )
    lines += ["", "Open tasks carried over:" if review.carried_over else "Open tasks carried over: none"]
    lines.extend(f"  - {_task_line(task)}" for task in review.carried_over)
    if review.trend is not None:
        lines += ["", trend_text(review.trend).rstrip("\n")]
    return "\n".join(lines) + "\n"


def _ids(group: RepeatGroup) -> str:
    shown = ", ".join(f"#{i}" for i in group.case_ids)
    more = group.count - len(group.case_ids)
    return f"{shown} and {more} more" if more > 0 else shown


def _task_line(task: Task) -> str:
    draft = task.draft
    owner = draft.owner_name or draft.owner_role
    return (
        f"[{task.id}] {draft.title} (owner {owner}, due {_day(draft.due_at)}, since {_day(task.created_at)})"
    )


# ------------------------------------------------------------------------------ Markdown


def review_markdown(review: WeeklyReview) -> str:
    week = review.week
    out = [
        f"# Weekly review {week.label}",
        "",
        f"{_day(week.start)} to {_day(week.until)}{'' if week.is_complete else ' (week still running)'}: "
        f"**{review.cases} cases**. A repeat is the same route and SKU, carrier or reason "
        f"{review.threshold} or more times in {review.window_days} days.",
        "",
        "## Findings",
        "",
    ]
    if not review.findings:
        out.append("No repeats this week.")
    else:
        out += ["| Finding | Cases | Targets | Owner | Task |", "|---|---|---|---|---|"]
        out.extend(
            f"| {_md(r.finding.title)} | {_ids(r.finding.group)} | "
            f"{', '.join(t.value for t in r.finding.targets)} | {_md(_owner(r))} | {_md(_task_state(r))} |"
            for r in review.findings
        )
    if review.watch:
        out += ["", "Watch (one short of a repeat): "]
        out.extend(f"- {g.route} {g.dimension.value} {_md(_about(g))}: {g.count} cases" for g in review.watch)
    for title, rows in _breakdowns(review):
        out += ["", f"## Cases by {title}", "", "| | Cases |", "|---|---|"]
        out.extend(f"| {_md(name or '(none)')} | {count} |" for name, count in rows[:TOP])
    out += ["", "## SLA attainment", "", "| Route | Clock | Met | Breached | Running | Met share |"]
    out.append("|---|---|---|---|---|---|")
    out.extend(
        f"| {a.route} | {a.clock} | {a.met} | {a.breached} | {a.running} | {_share(a)} |"
        for a in review.attainment
    )
    out += ["", "## Open tasks carried over", ""]
    out.extend([f"- {_md(_task_line(t))}" for t in review.carried_over] or ["None."])
    if review.trend is not None:
        out += ["", trend_markdown(review.trend).rstrip("\n")]
    return "\n".join(out) + "\n"


def _md(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def _breakdowns(review: WeeklyReview) -> list[tuple[str, list[tuple[str, int]]]]:
    return [
        ("route", by_route(review.counts)),
        ("SKU", totals(review.counts, Dimension.SKU)),
        ("carrier", totals(review.counts, Dimension.CARRIER)),
        ("reason", totals(review.counts, Dimension.REASON)),
    ]


# ------------------------------------------------------------------------------ HTML

_BAR_HEIGHT = 18
_LABEL_WIDTH = 190
_BAR_WIDTH = 300


def bar_chart_svg(title: str, rows: Sequence[tuple[str, int]]) -> str:
    """A horizontal bar chart as inline SVG (escaped labels, a <title> for screen readers)."""
    rows = list(rows)[:TOP]
    peak = max((count for _, count in rows), default=0) or 1
    height = _BAR_HEIGHT * max(1, len(rows)) + 4
    width = _LABEL_WIDTH + _BAR_WIDTH + 60
    bars = []
    for index, (label, count) in enumerate(rows):
        y = index * _BAR_HEIGHT + 2
        length = max(1, round(_BAR_WIDTH * count / peak))
        bars.append(
            f'<text x="{_LABEL_WIDTH - 6}" y="{y + 13}" text-anchor="end">{escape(label or "(none)")}</text>'
            f'<rect x="{_LABEL_WIDTH}" y="{y}" width="{length}" height="{_BAR_HEIGHT - 4}" fill="#3b6ea5"/>'
            f'<text x="{_LABEL_WIDTH + length + 4}" y="{y + 13}">{count}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">'
        f"<title>{escape(title)}</title>{''.join(bars)}</svg>"
    )


def attainment_chart_svg(rows: Sequence[Attainment]) -> str:
    """Met share per clock over every route, as bars out of 100 %."""
    overall = [a for a in rows if a.route == "all" and a.share_met is not None]
    return bar_chart_svg(
        "Share of clocks met (every route)",
        [(f"{a.clock} ({_share(a)})", round(100 * (a.share_met or 0))) for a in overall],
    )


def review_charts(review: WeeklyReview) -> list[tuple[str, str]]:
    """(title, inline SVG) for each chart of the report."""
    charts = [
        (f"Cases by {title}", bar_chart_svg(f"Cases by {title}", rows)) for title, rows in _breakdowns(review)
    ]
    charts.append(("SLA: share of clocks met, %", attainment_chart_svg(review.attainment)))
    return charts


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #1d2430; }
table { border-collapse: collapse; margin: .5rem 0 1rem; } td, th { border: 1px solid #ccd; padding: .25rem .5rem; }
th { background: #eef1f6; text-align: left; } .charts { display: flex; flex-wrap: wrap; gap: 1rem; }
figure { margin: 0; } figcaption { font-weight: 600; } svg { max-width: 100%; height: auto; }
.table-box { max-width: 100%; overflow-x: auto; }
.trend td, .trend th { white-space: nowrap; }
"""


def review_html(review: WeeklyReview) -> str:
    """One standalone page: no script, no stylesheet or image from elsewhere."""
    week = review.week
    body = [
        f"<h1>Weekly review {escape(week.label)}</h1>",
        f"<p>{_day(week.start)} to {_day(week.until)}{'' if week.is_complete else ' (week still running)'}: "
        f"<strong>{review.cases} cases</strong>. A repeat is the same route and SKU, carrier or reason "
        f"{review.threshold} or more times in {review.window_days} days.</p>",
        "<h2>Findings</h2>",
        _findings_table(review.findings) if review.findings else "<p>No repeats this week.</p>",
    ]
    if review.watch:
        body.append("<p>Watch (one short of a repeat):</p><ul>")
        body.extend(
            f"<li>{escape(g.route)} {g.dimension.value} {escape(_about(g))}: {g.count} cases</li>"
            for g in review.watch
        )
        body.append("</ul>")
    body.append('<h2>Charts</h2><div class="charts">')
    body.extend(
        f"<figure><figcaption>{escape(t)}</figcaption>{svg}</figure>" for t, svg in review_charts(review)
    )
    body.append("</div><h2>SLA attainment</h2>")
    body.append(_attainment_table(review.attainment))
    body.append("<h2>Open tasks carried over</h2>")
    items = [f"<li>{escape(_task_line(t))}</li>" for t in review.carried_over]
    body.append(f"<ul>{''.join(items)}</ul>" if items else "<p>None.</p>")
    if review.trend is not None:
        body.append(trend_html(review.trend))
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Weekly review {escape(week.label)}</title><style>{_STYLE}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )


def _findings_table(found: Sequence[ReviewedFinding]) -> str:
    rows = "".join(
        f"<tr><td>{escape(r.finding.title)}</td><td>{escape(_ids(r.finding.group))}</td>"
        f"<td>{escape(', '.join(t.value for t in r.finding.targets))}</td><td>{escape(_owner(r))}</td>"
        f"<td>{escape(_task_state(r))}</td></tr>"
        for r in found
    )
    return f"<table><tr><th>Finding</th><th>Cases</th><th>Targets</th><th>Owner</th><th>Task</th></tr>{rows}</table>"


def _attainment_table(rows: Sequence[Attainment]) -> str:
    cells = "".join(
        f"<tr><td>{escape(a.route)}</td><td>{escape(a.clock)}</td><td>{a.met}</td><td>{a.breached}</td>"
        f"<td>{a.running}</td><td>{_share(a)}</td></tr>"
        for a in rows
    )
    head = (
        "<tr><th>Route</th><th>Clock</th><th>Met</th><th>Breached</th><th>Running</th><th>Met share</th></tr>"
    )
    return f"<table>{head}{cells}</table>"

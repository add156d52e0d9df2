"""The trend (domain/trends.py) as JSON, CSV, terminal text, Markdown, and an HTML section
with inline SVG charts.

The charts are drawn here as SVG, as the weekly review's bars are (no JavaScript, no chart
library, no second file): each has a <title> and a <desc> for screen readers, and every
number it draws is also in a table beside it. They scale down to a phone's width (a
viewBox; the page's CSS caps them at 100 %). Every text from the data is escaped.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Sequence
from html import escape
from typing import Any

from aftersales.domain.trends import AgentFigures, Spread, Tally, Trend, WeekFigures

HOURS_DIGITS = 3  # hours are rounded to the 3.6 seconds in JSON and CSV
SHARE_DIGITS = 4


def _hours(value: float | None) -> float | None:
    return None if value is None else round(value, HOURS_DIGITS)


def _ratio(value: float | None) -> float | None:
    return None if value is None else round(value, SHARE_DIGITS)


# ------------------------------------------------------------------------------ JSON


def _spread(found: Spread) -> dict[str, Any]:
    return {"median": _hours(found.median), "p90": _hours(found.p90), "cases": found.count}


def _tally(found: Tally) -> dict[str, Any]:
    return {"met": found.met, "missed": found.missed, "pending": found.pending, "share": _ratio(found.share)}


def _agent(row: AgentFigures) -> dict[str, Any]:
    return {
        "agent": row.agent,
        "cases": row.cases,
        "first_response_hours": _spread(row.first_response),
        "resolved": row.resolved,
        "reopened": row.reopened,
        "reopen_rate": _ratio(row.reopen_rate),
    }


def _week(figures: WeekFigures) -> dict[str, Any]:
    week = figures.week
    return {
        "week": week.label,
        "start": week.start.isoformat(),
        "end": week.end.isoformat(),
        "complete": week.is_complete,
        "cases": figures.cases,
        "imported": figures.imported,
        "volume_by_route": dict(figures.by_route),
        "first_response_hours": _spread(figures.first_response),
        "resolution_hours": _spread(figures.resolution),
        "sla_attainment": _ratio(figures.sla.share),
        "sla": {
            "first_response": _tally(figures.first_response_sla),
            "resolution": _tally(figures.resolution_sla),
            "both": _tally(figures.sla),
        },
        "satisfaction": _ratio(figures.satisfaction.share),
        "ratings": {"good": figures.satisfaction.good, "bad": figures.satisfaction.bad},
        "agents": [_agent(row) for row in figures.agents],
    }


def trend_to_dict(trend: Trend) -> dict[str, Any]:
    return {
        "weeks": [_week(figures) for figures in trend.weeks],
        "routes": list(trend.routes),
        "agents": [_agent(row) for row in trend.agents],
        "start": trend.start.isoformat(),
        "end": trend.end.isoformat(),
        "week_starts": "Monday 00:00, store time",
        "hours": "business hours of the store's calendar",
        "generated_at": trend.generated_at.isoformat(),
    }


def trend_json(trend: Trend) -> str:
    return json.dumps(trend_to_dict(trend), indent=2, ensure_ascii=False) + "\n"


# ------------------------------------------------------------------------------ CSV


def trend_csv(trend: Trend) -> str:
    """One figure per row (week, start, scope, name, metric, value): a spreadsheet pivots it
    into any table; scope is ``week`` (the whole week), ``route`` or ``agent``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["week", "start", "scope", "name", "metric", "value"])
    for figures in trend.weeks:
        week = figures.week
        writer.writerows(
            [week.label, week.start.date().isoformat(), scope, name, metric, _cell(value)]
            for scope, name, metric, value in _figures_rows(figures)
        )
    return out.getvalue()


def _figures_rows(figures: WeekFigures) -> list[tuple[str, str, str, object]]:
    rows: list[tuple[str, str, str, object]] = [
        ("week", "", "cases", figures.cases),
        ("week", "", "imported", figures.imported),
        ("week", "", "complete", "yes" if figures.week.is_complete else "no"),
    ]
    for name, found in (
        ("first_response_hours", figures.first_response),
        ("resolution_hours", figures.resolution),
    ):
        rows += [
            ("week", "", f"{name}_median", _hours(found.median)),
            ("week", "", f"{name}_p90", _hours(found.p90)),
        ]
    rows += [
        ("week", "", "sla_attainment", _ratio(figures.sla.share)),
        ("week", "", "first_response_sla", _ratio(figures.first_response_sla.share)),
        ("week", "", "resolution_sla", _ratio(figures.resolution_sla.share)),
        ("week", "", "satisfaction", _ratio(figures.satisfaction.share)),
        ("week", "", "ratings", figures.satisfaction.good + figures.satisfaction.bad),
    ]
    rows += [("route", route, "cases", count) for route, count in figures.by_route.items()]
    for agent in figures.agents:
        rows += [
            ("agent", agent.agent, "cases", agent.cases),
            ("agent", agent.agent, "first_response_hours_median", _hours(agent.first_response.median)),
            ("agent", agent.agent, "reopen_rate", _ratio(agent.reopen_rate)),
        ]
    return rows


def _cell(value: object) -> str:
    return "" if value is None else str(value)


# ------------------------------------------------------------------------------ text


def _num(value: float | None, suffix: str = "") -> str:
    return "-" if value is None else f"{value:.1f}{suffix}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def trend_text(trend: Trend) -> str:
    first, last = trend.weeks[0].week, trend.weeks[-1].week
    lines = [
        f"Trend {first.label} to {last.label} ({len(trend.weeks)} weeks, Monday to Monday, store time;"
        " hours are business hours)",
        "",
        f"{'week':<10} {'cases':>5}  {'1st resp med/p90':>16}  {'resolution med/p90':>18}  {'SLA':>5}  {'satisfied':>9}",
    ]
    for figures in trend.weeks:
        running = "" if figures.week.is_complete else " (so far)"
        lines.append(
            f"{figures.week.label:<10} {figures.cases:>5}  "
            f"{_num(figures.first_response.median):>7} / {_num(figures.first_response.p90):>6}  "
            f"{_num(figures.resolution.median):>8} / {_num(figures.resolution.p90):>7}  "
            f"{_pct(figures.sla.share):>5}  {_pct(figures.satisfaction.share):>9}{running}"
        )
    lines += ["", "Cases by route and week:"]
    lines.append(f"  {'route':<18}" + "".join(f"{f.week.label[-3:]:>5}" for f in trend.weeks))
    for route in trend.routes:
        lines.append(f"  {route:<18}" + "".join(f"{f.by_route.get(route, 0):>5}" for f in trend.weeks))
    lines += ["", "Agents (every week):", _agent_header()]
    lines.extend(_agent_line(row) for row in trend.agents)
    if not trend.agents:
        lines.append("  none")
    return "\n".join(lines) + "\n"


def _agent_header() -> str:
    return f"  {'agent':<28} {'cases':>5}  {'1st resp median':>15}  {'reopened':>8}  {'reopen rate':>11}"


def _agent_line(row: AgentFigures) -> str:
    return (
        f"  {row.agent[:28]:<28} {row.cases:>5}  {_num(row.first_response.median, ' h'):>15}  "
        f"{row.reopened:>8}  {_pct(row.reopen_rate):>11}"
    )


# ------------------------------------------------------------------------------ Markdown


def _md(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def trend_markdown(trend: Trend) -> str:
    out = [
        f"## Trend: the last {len(trend.weeks)} weeks",
        "",
        "Weeks run Monday to Monday in store time; hours are business hours (docs/reports.md).",
        "",
        "| Week | Cases | 1st response median | 1st response p90 | Resolution median | Resolution p90 "
        "| SLA met | Satisfaction |",
        "|---|---|---|---|---|---|---|---|",
    ]
    out.extend(
        f"| {f.week.label}{'' if f.week.is_complete else ' (so far)'} | {f.cases} | "
        f"{_num(f.first_response.median)} | {_num(f.first_response.p90)} | {_num(f.resolution.median)} | "
        f"{_num(f.resolution.p90)} | {_pct(f.sla.share)} | {_pct(f.satisfaction.share)} |"
        for f in trend.weeks
    )
    out += [
        "",
        "| Agent | Cases | 1st response median (h) | Reopened | Reopen rate |",
        "|---|---|---|---|---|",
    ]
    out.extend(
        f"| {_md(a.agent)} | {a.cases} | {_num(a.first_response.median)} | {a.reopened} | {_pct(a.reopen_rate)} |"
        for a in trend.agents
    )
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------------------ SVG charts

# a small canvas with large type: scaled down to a phone's width, its words stay readable
_WIDTH, _HEIGHT = 480, 220
_LEFT, _RIGHT, _TOP, _BOTTOM = 44, 8, 12, 30  # the plot's margins: axis labels sit in them
_PALETTE = (
    "#3b6ea5", "#d9822b", "#3d9970", "#b8463c", "#7a5ca8",
    "#8c6d46", "#c75d9e", "#6b6b6b", "#a8a832", "#2ba3b8",
)  # fmt: skip


def _slug(title: str) -> str:
    return "trend-" + re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def _frame(title: str, desc: str, body: str, *, height: int) -> str:
    ident = _slug(title)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="{ident} {ident}-desc" '
        f'width="{_WIDTH}" height="{height}" viewBox="0 0 {_WIDTH} {height}" '
        f'font-family="sans-serif" font-size="13">'
        f'<title id="{ident}">{escape(title)}</title><desc id="{ident}-desc">{escape(desc)}</desc>{body}</svg>'
    )


def _nice_top(peak: float) -> float:
    """A round top for the y axis at or above ``peak``: 1, 2, 2.5 or 5 times a power of ten."""
    if peak <= 0:
        return 1.0
    magnitude: float = 10.0 ** math.floor(math.log10(peak))
    return next(factor * magnitude for factor in (1, 2, 2.5, 5, 10) if peak <= factor * magnitude)


def _axes(weeks: Sequence[WeekFigures], top: float, unit: str) -> tuple[str, Callable[[float], float], float]:
    """Grid lines with their values, the week labels, and the y of a value."""
    plot_height = _HEIGHT - _TOP - _BOTTOM
    slot = (_WIDTH - _LEFT - _RIGHT) / max(1, len(weeks))

    def y(value: float) -> float:
        return _TOP + plot_height * (1 - value / top)

    parts = []
    for share in (0, 0.5, 1):
        value = top * share
        text = f"{value:g}{unit}"
        parts.append(
            f'<line x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#ccd"/>'
            f'<text x="{_LEFT - 4}" y="{y(value) + 4:.1f}" text-anchor="end">{text}</text>'
        )
    parts.append(f'<text x="{_LEFT - 4}" y="{_HEIGHT - _BOTTOM + 16}" text-anchor="end">week</text>')
    for index, figures in enumerate(weeks):
        x = _LEFT + slot * (index + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{_HEIGHT - _BOTTOM + 16}" text-anchor="middle">{figures.week.label[-2:]}</text>'
        )
    return "".join(parts), y, slot


def _legend(entries: Sequence[tuple[str, str, str]], top: int) -> tuple[str, int]:
    """(colour, dash, label) entries in rows of two below the plot; returns its height."""
    parts, per_row, width = [], 2, (_WIDTH - _LEFT) / 2
    for index, (colour, dash, label) in enumerate(entries):
        x = _LEFT + (index % per_row) * width
        y = top + (index // per_row) * 18
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<line x1="{x:.1f}" x2="{x + 18:.1f}" y1="{y + 6}" y2="{y + 6}" stroke="{colour}" stroke-width="6"{dashes}/>'
            f'<text x="{x + 24:.1f}" y="{y + 11}">{escape(label)}</text>'
        )
    rows = (len(entries) + per_row - 1) // per_row
    return "".join(parts), rows * 18 + 6


def volume_chart_svg(trend: Trend) -> str:
    """Cases per week, stacked by route."""
    title = "Cases per week by route"
    weeks = trend.weeks
    top = _nice_top(max((f.cases for f in weeks), default=0))
    grid, y, slot = _axes(weeks, top, "")
    colours = {route: _PALETTE[i % len(_PALETTE)] for i, route in enumerate(trend.routes)}
    bars = []
    for index, figures in enumerate(weeks):
        x = _LEFT + slot * index + slot * 0.15
        stacked = 0
        for route in trend.routes:
            count = figures.by_route.get(route, 0)
            if not count:
                continue
            upper, lower = y(stacked + count), y(stacked)
            bars.append(
                f'<rect x="{x:.1f}" y="{upper:.1f}" width="{slot * 0.7:.1f}" height="{lower - upper:.1f}" '
                f'fill="{colours[route]}"><title>{figures.week.label} {escape(route)}: {count}</title></rect>'
            )
            stacked += count
    legend, legend_height = _legend([(colours[r], "", r) for r in trend.routes], _HEIGHT)
    desc = "; ".join(f"{f.week.label}: {f.cases} cases" for f in weeks)
    return _frame(title, desc, grid + "".join(bars) + legend, height=_HEIGHT + legend_height)


def _line(points: Sequence[tuple[float, float] | None], colour: str, dash: str) -> str:
    """A polyline through the points, broken where a week has no value, with a dot on each."""
    runs: list[list[tuple[float, float]]] = [[]]
    for point in points:
        if point is None:
            runs.append([])
        else:
            runs[-1].append(point)
    dashes = f' stroke-dasharray="{dash}"' if dash else ""
    parts = [
        f'<polyline points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in run)}" fill="none" '
        f'stroke="{colour}" stroke-width="2"{dashes}/>'
        for run in runs
        if len(run) > 1
    ]
    parts.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for run in runs for x, y in run)
    return "".join(parts)


def lines_chart_svg(
    title: str, weeks: Sequence[WeekFigures], series: Sequence[tuple[str, Sequence[float | None]]], unit: str
) -> str:
    """One line per series over the weeks (a gap where a week has no value)."""
    peak = max((v for _, values in series for v in values if v is not None), default=0.0)
    top = 100.0 if unit == "%" else _nice_top(peak)
    grid, y, slot = _axes(weeks, top, unit)
    body = [grid]
    entries = []
    for index, (label, values) in enumerate(series):
        colour, dash = _PALETTE[index % len(_PALETTE)], "" if index % 2 == 0 else "5 3"
        points = [
            None if value is None else (_LEFT + slot * (i + 0.5), y(value)) for i, value in enumerate(values)
        ]
        body.append(_line(points, colour, dash))
        entries.append((colour, dash, label))
    legend, legend_height = _legend(entries, _HEIGHT)
    desc = "; ".join(
        f"{label}: "
        + ", ".join(
            f"{w.week.label} {_num(v, unit if unit == '%' else ' h')}"
            for w, v in zip(weeks, values, strict=True)
        )
        for label, values in series
    )
    return _frame(title, desc, "".join(body) + legend, height=_HEIGHT + legend_height)


def _percent(value: float | None) -> float | None:
    return None if value is None else 100 * value


def trend_charts(trend: Trend) -> list[tuple[str, str]]:
    """(title, inline SVG) of each trend chart."""
    weeks = trend.weeks
    return [
        ("Cases per week by route", volume_chart_svg(trend)),
        (
            "First response, business hours",
            lines_chart_svg(
                "First response, business hours",
                weeks,
                [
                    ("median", [f.first_response.median for f in weeks]),
                    ("90th percentile", [f.first_response.p90 for f in weeks]),
                ],
                "",
            ),
        ),
        (
            "Resolution, business hours",
            lines_chart_svg(
                "Resolution, business hours",
                weeks,
                [
                    ("median", [f.resolution.median for f in weeks]),
                    ("90th percentile", [f.resolution.p90 for f in weeks]),
                ],
                "",
            ),
        ),
        (
            "SLA met and satisfaction, %",
            lines_chart_svg(
                "SLA met and satisfaction, %",
                weeks,
                [
                    ("SLA met (both clocks)", [_percent(f.sla.share) for f in weeks]),
                    ("satisfied (good ratings)", [_percent(f.satisfaction.share) for f in weeks]),
                ],
                "%",
            ),
        ),
    ]


# ------------------------------------------------------------------------------ HTML


def trend_html(trend: Trend) -> str:
    """The trend's section of a page: charts, then the same numbers as tables."""
    weeks = trend.weeks
    charts = "".join(
        f"<figure><figcaption>{escape(title)}</figcaption>{svg}</figure>"
        for title, svg in trend_charts(trend)
    )
    return (
        f'<section class="trend"><h2>Trend: the last {len(weeks)} weeks</h2>'
        f"<p>{weeks[0].week.label} to {weeks[-1].week.label}, Monday to Monday in store time; a case counts in "
        "the week it opened. Hours are business hours: first response from the customer's first message to "
        "the first reply, resolution to when it was resolved.</p>"
        f'<div class="charts">{charts}</div>'
        f"<h3>Week by week</h3>{_weeks_table(weeks)}"
        f"<h3>Cases by route</h3>{_routes_table(trend)}"
        f"<h3>Agents</h3>{_agents_table(trend.agents)}</section>"
    )


def _weeks_table(weeks: Sequence[WeekFigures]) -> str:
    head = (
        "<tr><th>Week</th><th>Cases</th><th>First response median (h)</th><th>First response p90 (h)</th>"
        "<th>Resolution median (h)</th><th>Resolution p90 (h)</th><th>SLA met</th><th>Satisfaction</th></tr>"
    )
    rows = "".join(
        f"<tr><td>{f.week.label}{'' if f.week.is_complete else ' (so far)'}</td><td>{f.cases}</td>"
        f"<td>{_num(f.first_response.median)}</td><td>{_num(f.first_response.p90)}</td>"
        f"<td>{_num(f.resolution.median)}</td><td>{_num(f.resolution.p90)}</td>"
        f"<td>{_pct(f.sla.share)}</td><td>{_pct(f.satisfaction.share)}"
        f"{_rated(f)}</td></tr>"
        for f in weeks
    )
    return f'<div class="table-box"><table>{head}{rows}</table></div>'


def _rated(figures: WeekFigures) -> str:
    rated = figures.satisfaction.good + figures.satisfaction.bad
    return f" ({rated} rated)" if rated else ""


def _routes_table(trend: Trend) -> str:
    head = "<tr><th>Route</th>" + "".join(f"<th>{f.week.label[-3:]}</th>" for f in trend.weeks) + "</tr>"
    rows = "".join(
        f"<tr><td>{escape(route)}</td>"
        + "".join(f"<td>{f.by_route.get(route, 0)}</td>" for f in trend.weeks)
        + "</tr>"
        for route in trend.routes
    )
    return f'<div class="table-box"><table>{head}{rows}</table></div>' if rows else "<p>No cases.</p>"


def _agents_table(agents: Sequence[AgentFigures]) -> str:
    if not agents:
        return "<p>No cases.</p>"
    head = (
        "<tr><th>Agent</th><th>Cases handled</th><th>First response median (h)</th>"
        "<th>Reopened</th><th>Reopen rate</th></tr>"
    )
    rows = "".join(
        f"<tr><td>{escape(a.agent)}</td><td>{a.cases}</td><td>{_num(a.first_response.median)}</td>"
        f"<td>{a.reopened} of {a.resolved} resolved</td><td>{_pct(a.reopen_rate)}</td></tr>"
        for a in agents
    )
    return f'<div class="table-box"><table>{head}{rows}</table></div>'

"""The weekly review in the web desk: the report for a week, its findings linked to their
cases, the open write-back tasks, and a form to close a task with a note.

Viewing the page files nothing (a GET never writes); "File the tasks" does, idempotently,
as `aftersales review` does.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup

from aftersales.adapters.reports.trends import trend_html
from aftersales.adapters.reports.weekly_review import review_charts, review_html
from aftersales.domain.errors import InputError
from aftersales.domain.values import MAX_ID
from aftersales.domain.weekly_review import WeeklyReview
from aftersales.services.trends import DEFAULT_WEEKS
from aftersales.services.weekly_review import MAX_NOTE_CHARS, close_task, run_review
from aftersales.web import work
from aftersales.web.context import WebDesk
from aftersales.web.pages import render
from aftersales.web.sanitize import PAGE_CSP
from aftersales.web.security import FormUser, PageUser, Web

router = APIRouter(include_in_schema=False)

Week = Annotated[date | None, Query(description="a day of the week to review (YYYY-MM-DD)")]
TaskId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _review(web: WebDesk, week: date | None, *, file_tasks: bool) -> WeeklyReview:
    now = web.now()
    day = week or now.astimezone(web.kit.calendar.tz).date()
    # filing shows no page: the trend is drawn by the page the form redirects to
    trend_weeks = 0 if file_tasks else DEFAULT_WEEKS
    return run_review(
        web.desk.weekly_review, web.kit, day=day, now=now, file_tasks=file_tasks, trend_weeks=trend_weeks
    )


def _back(week: str, problem: str = "", done: str = "") -> RedirectResponse:
    query = {k: v for k, v in {"week": week, "problem": problem, "done": done}.items() if v}
    return RedirectResponse(f"/review?{urlencode(query)}" if query else "/review", status_code=303)


@router.get("/review")
def review_page(
    request: Request, web: Web, user: PageUser, week: Week = None, problem: str = "", done: str = ""
) -> HTMLResponse:
    result = _review(web, week, file_tasks=False)
    # the charts are SVG this code drew, every label escaped: safe to insert as they are
    charts = [(title, Markup(svg)) for title, svg in review_charts(result)]
    context = {
        "user": user,
        "review": result,
        "charts": charts,
        # the trend's charts and tables, drawn and escaped by the same code as the report's
        "trend": Markup(trend_html(result.trend)) if result.trend is not None else "",
        "week": week.isoformat() if week else "",
        "problem": problem[:300],
        "done": done[:300],
        "max_note": MAX_NOTE_CHARS,
    }
    return render(request, "review.html", context)


@router.get("/review/report.html")
def review_report(web: Web, user: PageUser, week: Week = None) -> HTMLResponse:
    """The standalone report (the same file `aftersales review --format html` writes). Its
    inline style is allowed by its hash for this one response; the site's policy stays."""
    page = review_html(_review(web, week, file_tasks=False))
    return HTMLResponse(page, headers={"Content-Security-Policy": csp_allowing_inline_styles(page)})


_INLINE_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def csp_allowing_inline_styles(page: str) -> str:
    """The pages' policy, with each of ``page``'s own <style> blocks allowed by its SHA-256."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(css.encode()).digest()).decode() + "'"
        for css in _INLINE_STYLE.findall(page)
    )
    return PAGE_CSP.replace("style-src 'self'", f"style-src 'self' {hashes}".rstrip(), 1)


@router.post("/review/file")
def file_tasks(web: Web, user: FormUser, week: Annotated[str, Form(max_length=10)] = "") -> RedirectResponse:
    try:
        day = date.fromisoformat(week) if week else None
    except ValueError:
        return _back("", f"{week!r} is not a date (YYYY-MM-DD)")
    result = _review(web, day, file_tasks=True)
    new = sum(1 for f in result.findings if f.is_new)
    return _back(week, done=f"{len(result.findings)} findings filed, {new} new tasks")


@router.post("/review/tasks/{task_id}/close")
def close_task_form(
    task_id: TaskId,
    web: Web,
    user: FormUser,
    note: Annotated[str, Form(max_length=MAX_NOTE_CHARS)] = "",
    week: Annotated[str, Form(max_length=10)] = "",
) -> RedirectResponse:
    try:
        task = close_task(web.desk.weekly_review, task_id, by=work.author(user), note=note, now=web.now())
    except InputError as error:
        return _back(week, problem=str(error))
    return _back(week, done=f"task {task.id} closed")

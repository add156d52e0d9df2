"""The jobs page for admins: the newest runs of the background jobs and their failures, from
the job log (what `aftersales jobs` prints). Only an admin sees it (403 for anyone else)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from aftersales.domain.accounts import Role
from aftersales.web.pages import render
from aftersales.web.security import PageUser, Web
from aftersales.web.work import refuse_unless_allowed

router = APIRouter(include_in_schema=False)
SHOWN = 100


@router.get("/jobs")
def jobs_page(request: Request, web: Web, user: PageUser, *, failed: bool = False) -> HTMLResponse:
    refusal = None if user.role is Role.ADMIN else "only an admin may see the background jobs"
    refuse_unless_allowed(user, "jobs", refusal)
    with web.desk.read_job_log() as log:
        runs = log.recent(SHOWN, failed_only=failed)
    return render(request, "jobs.html", {"user": user, "runs": runs, "failed": failed, "shown": SHOWN})

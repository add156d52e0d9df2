"""The in-process back end (what `aftersales serve` runs on SQLite) relays a new case's event
to a registered receiver on 127.0.0.1 and logs the run; procrastinate runs the same schedule
(tests/jobs/test_several_processes.py)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

from aftersales.domain.jobs import JobName, JobStatus
from aftersales.domain.outbound_webhooks import SIGNATURE_HEADER, signature_problem
from aftersales.domain.routes import Route
from aftersales.jobs.back_end import start_in_process
from aftersales.jobs.desk_jobs import WEBHOOK_SECONDS, DeskJobs, KitHolder
from aftersales.services.outbound_webhooks import add_endpoint
from aftersales.services.routing import RoutingKit
from aftersales.settings import Settings
from aftersales.wiring import open_desk
from support.feed import open_told_case
from support.webhook_receiver import receiving


def test_the_server_s_jobs_send_a_new_case_to_the_receiver(tmp_path: Path, kit: RoutingKit) -> None:
    settings = Settings(data_dir=tmp_path, policy_file=None)
    jobs = DeskJobs(settings, open_desk(settings), KitHolder(kit))
    desk = jobs.desk
    jobs.outbound_webhooks()  # the feed's cursor starts here, as when the server first runs
    with receiving() as receiver:
        now = datetime.now(UTC)
        _, secret = add_endpoint(desk.webhooks, receiver.url, ["case.opened"], by="admin", at=now)
        case_id = open_told_case(
            desk.uow,
            "ana@example.com",
            at=now,
            route=Route.DAMAGED_ITEM,
            lead_role="operations",
            channel="form",
        )

        queue = start_in_process(jobs, None)
        queue.enqueue(JobName.OUTBOUND_WEBHOOKS)
        deadline = time.monotonic() + WEBHOOK_SECONDS + 5
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        queue.stop()

    [request] = receiver.received
    assert (
        signature_problem(secret, request.headers[SIGNATURE_HEADER], request.body, now=int(time.time()))
        is None
    )
    assert json.loads(request.body)["case"]["id"] == case_id
    with desk.read_job_log() as log:
        runs = log.recent(name=JobName.OUTBOUND_WEBHOOKS.value)
    assert JobStatus.SUCCEEDED in {r.status for r in runs}
    assert any(r.summary.get("sent") == 1 for r in runs)
    desk.close()

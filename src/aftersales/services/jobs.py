"""Run one attempt at a job and write it to the job log: the part every back end shares.

The back ends (adapters/jobs_in_process.py, adapters/jobs_procrastinate.py) decide *when* a
job runs and whether a failed attempt is tried again; ``run_logged`` runs it once, records
the attempt (running, then succeeded or failed with the error's type and where it happened)
and lets the failure go on to the back end, which retries it after a backoff.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aftersales.domain.errors import AftersalesError
from aftersales.domain.jobs import JobStatus
from aftersales.ports import JobBody, JobLogUnitOfWork

log = logging.getLogger("aftersales.jobs")


def process_name() -> str:
    """This process as the job log and the outbox's claims name it: host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class JobRunner:
    """Runs attempts at jobs in one process, logging each to ``log``."""

    log: JobLogUnitOfWork
    now: Callable[[], datetime]
    worker: str

    def run(self, name: str, body: JobBody, *, attempt: int = 1, ref: str = "") -> Mapping[str, Any]:
        """Run ``body`` once as attempt ``attempt`` of job ``name``; its summary, or its
        exception raised again once the failure is logged."""
        with self.log() as job_log:
            run_id = job_log.start(name, attempt=attempt, worker=self.worker, at=self.now(), ref=ref)
        try:
            summary = body()
        except Exception as error:
            said = failure_text(error)
            with self.log() as job_log:
                job_log.finish(run_id, JobStatus.FAILED, at=self.now(), summary={}, error=said)
            log.warning("job %s failed (attempt %d): %s", name, attempt, said)
            raise
        with self.log() as job_log:
            job_log.finish(run_id, JobStatus.SUCCEEDED, at=self.now(), summary=summary)
        return summary

    def abandon(self, ref: str) -> int:
        """The runs of back-end job ``ref`` whose process died end failed."""
        with self.log() as job_log:
            return job_log.abandon(
                ref, at=self.now(), error="the process running this job stopped; it runs again"
            )


def failure_text(error: BaseException) -> str:
    """What the job log says of a failure: the error's type and where it was raised; the
    message only of our own errors (said for people: "the IMAP server refused the login"),
    with addresses masked: another's may quote a customer's mail or a password in a URL."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f" at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno}" if frames else ""
    said = f": {_ADDRESS.sub('<address>', str(error))}" if isinstance(error, AftersalesError) else ""
    return f"{type(error).__name__}{where}{said}"


_ADDRESS = re.compile(r"[^\s<>@]+@[^\s<>@]+")

"""The in-process job back end: one daemon thread per periodic job, in this process only.

This is the embedded desk's scheduler (SQLite: `aftersales serve` alone, or `aftersales
worker` beside it): there is one process running jobs, so "once per period" needs no lock.
Written by hand (a loop and an Event per job) because a library scheduler would be a second
store of state to keep in step with the job log; the retry rule is domain/jobs.py's.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from aftersales.domain.jobs import JobName, Periodic, backoff_seconds
from aftersales.ports import JobAttempts, JobBody

log = logging.getLogger("aftersales.jobs")


@dataclass(slots=True)
class _Scheduled:
    job: Periodic
    body: JobBody
    first_wait: float
    wake: threading.Event = field(default_factory=threading.Event)


class InProcessQueue:
    """ports.JobQueue in threads of this process; ``start`` returns at once, ``run`` blocks."""

    def __init__(self, attempts: JobAttempts) -> None:
        self.attempts = attempts
        self._jobs: dict[JobName, _Scheduled] = {}
        self._stop = threading.Event()

    def periodic(self, job: Periodic, body: JobBody, *, at_start: bool = False) -> None:
        """``at_start``: run it once at once (the mail poll), else first after one period."""
        self._jobs[job.name] = _Scheduled(job, body, 0.0 if at_start else job.seconds)

    def enqueue(self, name: JobName) -> None:
        scheduled = self._jobs.get(name)
        if scheduled is not None:
            scheduled.wake.set()

    def start(self) -> list[threading.Thread]:
        threads = [
            threading.Thread(target=self._loop, args=(s,), name=f"job-{s.job.name}", daemon=True)
            for s in self._jobs.values()
        ]
        for thread in threads:
            thread.start()
        return threads

    def run(self) -> None:
        for thread in self.start():
            while thread.is_alive():
                thread.join(timeout=1.0)  # a timeout, so Ctrl-C reaches the main thread

    def stop(self) -> None:
        self._stop.set()
        for scheduled in self._jobs.values():
            scheduled.wake.set()

    def _loop(self, scheduled: _Scheduled) -> None:
        wait, attempt = scheduled.first_wait, 1
        while True:
            scheduled.wake.wait(timeout=wait)
            scheduled.wake.clear()
            if self._stop.is_set():
                return
            wait, attempt = self._attempt(scheduled, attempt)

    def _attempt(self, scheduled: _Scheduled, attempt: int) -> tuple[float, int]:
        """Run once; (seconds to the next attempt, its number): the next period after a
        success or the last attempt, a backoff after a failure."""
        job = scheduled.job
        try:
            self.attempts.run(job.name.value, scheduled.body, attempt=attempt)
        except Exception:  # logged, and written to the job log, by the runner
            retry_in = backoff_seconds(job.retry, attempt)
            if retry_in is None:
                log.info("job %s failed %d times; next in %g s", job.name, attempt, job.seconds)
                return job.seconds, 1
            log.info("job %s: trying again in %g s", job.name, retry_in)
            return retry_in, attempt + 1
        return job.seconds, 1

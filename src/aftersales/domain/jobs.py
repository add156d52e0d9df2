"""Background jobs as data: which jobs there are, how often they run, when a failed one is
tried again, and what the job log holds. The back ends (adapters/jobs_in_process.py on
SQLite, adapters/jobs_procrastinate.py on PostgreSQL) read these; nothing here runs a job."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class JobName(StrEnum):
    """The desk's jobs; the values are stable: they name rows of the job log."""

    SLA_TICK = "sla_tick"  # advance the clocks of the open cases due a look, record breaches
    SLA_SWEEP = "sla_sweep"  # the same over every open case, hourly: nothing missed for long
    MAIL_POLL = "mail_poll"  # take in new mail from the support inbox (IMAP)
    SEND_OUTBOX = "send_outbox"  # send queued replies and acknowledgements (SMTP)
    REVIEW_REQUESTS = "review_requests"  # schedule and send review requests
    RETRAIN_ROUTER = "retrain_router"  # retrain the router model once enough labels came
    READ_BY_MEANING = "read_by_meaning"  # the semantic reader reads the cases intake routed by words
    PRUNE_JOB_LOG = "prune_job_log"  # forget old job runs and ended webhook deliveries
    RETRY_STALLED = "retry_stalled"  # PostgreSQL: jobs of a worker that died run again
    PRUNE_JOB_QUEUE = "prune_job_queue"  # PostgreSQL: forget failed jobs older than JOB_LOG_DAYS
    OUTBOUND_WEBHOOKS = "outbound_webhooks"  # relay timeline events to webhooks, send due deliveries
    NOTIFY = "notify"  # desk users told of the feed's events (at once, or kept for the digest)
    NOTIFICATION_DIGEST = "notification_digest"  # each desk user's digest of the day before


JOB_LOG_DAYS = 14  # how long the job log keeps a run


class JobStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # this attempt failed; a later attempt may still succeed


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """A failed attempt is tried again after ``backoff_seconds`` (doubling from
    ``first_seconds`` up to ``longest_seconds``) until ``max_attempts`` were made."""

    max_attempts: int = 5
    first_seconds: float = 2.0
    factor: float = 2.0
    longest_seconds: float = 300.0


def backoff_seconds(policy: RetryPolicy, attempts: int) -> float | None:
    """Seconds to wait before the next attempt after ``attempts`` failed ones (1 after the
    first failure); None when no attempt is left."""
    if attempts < 1:
        raise ValueError(f"attempts is counted from 1, got {attempts}")
    if attempts >= policy.max_attempts:
        return None
    return min(policy.longest_seconds, policy.first_seconds * policy.factor ** (attempts - 1))


@dataclass(frozen=True, slots=True, kw_only=True)
class Periodic:
    """A job run every ``seconds``, once per period however many processes run jobs."""

    name: JobName
    seconds: float
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # False: two runs never overlap. True for a job that claims its own work row by row (the
    # outbox): a second run shares a long backlog, and a run that died blocks nothing.
    may_overlap: bool = False


def cron_for(seconds: float) -> str:
    """The cron line (seconds as a sixth field, as croniter reads it) of a period: a period
    must divide a minute, an hour or a day evenly so that every process computes the same
    period boundaries (which is what makes a periodic job run once per period)."""
    whole = round(seconds)
    if whole != seconds or whole < 1:
        raise ValueError(f"a job period is a whole number of seconds, at least 1; got {seconds:g}")
    if whole < 60 and 60 % whole == 0:
        return f"* * * * * */{whole}"
    if whole % 60 == 0 and whole < 3600 and 60 % (whole // 60) == 0:
        return f"*/{whole // 60} * * * * 0"
    if whole % 3600 == 0 and whole < 86_400 and 24 % (whole // 3600) == 0:
        return f"0 */{whole // 3600} * * * 0"
    if whole == 86_400:
        return "0 0 * * * 0"
    raise ValueError(
        f"a job period of {whole} s does not divide a minute, an hour or a day evenly "
        "(try 5, 10, 15, 30, 60, 300, 600, 900, 1800 or 3600)"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class JobRun:
    """One attempt at one job, as the job log holds it."""

    id: int
    name: str
    status: JobStatus
    attempt: int  # 1 for the first
    worker: str  # host:pid of the process that ran it
    started_at: datetime
    finished_at: datetime | None
    summary: dict[str, Any]
    error: str  # "" unless it failed

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status.value,
            "attempt": self.attempt,
            "worker": self.worker,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "seconds": self.seconds,
            "summary": self.summary,
            "error": self.error,
        }

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds(), 3)

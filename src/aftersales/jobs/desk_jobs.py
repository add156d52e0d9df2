"""What each background job does: the SLA tick, the mail poll, the outbox, review requests,
retraining the router model, pruning the job log, outbound webhooks. Each returns a summary for the job log and
raises when it failed (the back end retries it after a backoff)."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from aftersales.domain.jobs import JOB_LOG_DAYS, JobName, Periodic, RetryPolicy
from aftersales.ports import JobBody
from aftersales.services import outbound_webhooks as webhooks
from aftersales.services.jobs import process_name
from aftersales.services.learning import retrain_if_due
from aftersales.services.notifications import notify, send_digests
from aftersales.services.outbox import SendRules, send_pending
from aftersales.services.rereading import reread
from aftersales.services.review_requests import schedule_and_send
from aftersales.services.routing import RoutingKit
from aftersales.services.sla import tick
from aftersales.settings import Settings
from aftersales.wiring import (
    Desk,
    builtin_examples,
    current_router_model,
    mail_links,
    mail_sender,
    router_models,
    webhook_poster,
)

log = logging.getLogger("aftersales.jobs")
REVIEW_REQUEST_SECONDS = 3600  # review requests are due by the day: hourly is soon enough
SEND_MINUTES = 5  # one run of the outbox job sends for this long at most
RETRAIN_SECONDS = 600  # labels come by the dozen a day: whether enough came is asked every 10 min
WEBHOOK_SECONDS = 10  # an outside tool hears of a new case or a breach within seconds
# The tick reads only the cases due a look (services/sla.py); the sweep reads every open case,
# so a case whose timeline changed without its clocks being refreshed waits an hour at most.
SWEEP_SECONDS = 3600
# The cases a file's intake routed by words alone are read by meaning soon after (about 40 ms
# each): a run reads for REREAD_RUN_SECONDS at most, so a backlog goes in steps that leave the
# worker's other jobs their turn.
REREAD_SECONDS = 60
REREAD_RUN_SECONDS = 30.0
NOTIFY_SECONDS = 60  # "at once" for a desk user: within a minute (plus the outbox's period)
DIGEST_SECONDS = 3600  # a day's digest goes within the hour after the store's midnight
# A periodic job that fails is tried again soon, but never past its next period's run.
_SOON = RetryPolicy(max_attempts=3, first_seconds=5.0, longest_seconds=30.0)


class HoldsKit(Protocol):
    """Where the routing kit in use is kept (the web desk, or a worker's ``KitHolder``): a
    job reads it at every run and replaces it when a retrained model is promoted."""

    kit: RoutingKit


@dataclass(slots=True)
class KitHolder:
    kit: RoutingKit


@dataclass(frozen=True, slots=True)
class DeskJobs:
    """The jobs of one desk in this process."""

    settings: Settings
    desk: Desk
    holder: HoldsKit

    @property
    def kit(self) -> RoutingKit:
        return self.holder.kit

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)

    def schedule(self, tick_seconds: float | None) -> list[tuple[Periodic, JobBody]]:
        """The periodic jobs this desk runs: the tick every ``tick_seconds``, its sweep hourly and retraining
        every ten minutes (None: neither), the cases intake routed by words alone read by
        meaning every minute (with a semantic reader), review requests hourly, outbound webhooks every
        WEBHOOK_SECONDS, the mail poll and the outbox every AFTERSALES_MAIL_POLL_SECONDS when
        IMAP and SMTP are configured; notifications every minute and their digests hourly
        (both only queue mail)."""
        mail = self.settings.mail_poll_seconds
        jobs: list[tuple[Periodic, JobBody]] = [
            (Periodic(name=JobName.REVIEW_REQUESTS, seconds=REVIEW_REQUEST_SECONDS), self.review_requests),
            (Periodic(name=JobName.PRUNE_JOB_LOG, seconds=3600), self.prune_job_log),
            # each delivery is claimed and the feed's cursor locked: two runs share the work
            (
                Periodic(
                    name=JobName.OUTBOUND_WEBHOOKS, seconds=WEBHOOK_SECONDS, retry=_SOON, may_overlap=True
                ),
                self.outbound_webhooks,
            ),
            (Periodic(name=JobName.NOTIFY, seconds=NOTIFY_SECONDS, retry=_SOON), self.notify),
            (Periodic(name=JobName.NOTIFICATION_DIGEST, seconds=DIGEST_SECONDS), self.notification_digest),
        ]
        if tick_seconds:
            jobs.append((Periodic(name=JobName.SLA_TICK, seconds=tick_seconds, retry=_SOON), self.sla_tick))
            sweep = max(tick_seconds, SWEEP_SECONDS)
            jobs.append((Periodic(name=JobName.SLA_SWEEP, seconds=sweep, retry=_SOON), self.sla_sweep))
            retrain = max(tick_seconds, RETRAIN_SECONDS)
            jobs.append((Periodic(name=JobName.RETRAIN_ROUTER, seconds=retrain), self.retrain_router))
        if self.kit.semantic is not None:
            jobs.append(
                (Periodic(name=JobName.READ_BY_MEANING, seconds=REREAD_SECONDS), self.read_by_meaning)
            )
        if self.settings.imap is not None:
            jobs.append((Periodic(name=JobName.MAIL_POLL, seconds=mail, retry=_SOON), self.mail_poll))
        if self.settings.smtp is not None:
            outbox = Periodic(name=JobName.SEND_OUTBOX, seconds=mail, retry=_SOON, may_overlap=True)
            jobs.append((outbox, self.send_outbox))
        return jobs

    def sla_tick(self, *, full: bool = False) -> dict[str, Any]:
        result = tick(self.desk.uow, self.kit, self.now(), read=self.desk.read, full=full)
        return {"cases": result.cases, "breaches": result.breaches}

    def sla_sweep(self) -> dict[str, Any]:
        return self.sla_tick(full=True)

    def mail_poll(self) -> dict[str, Any]:
        from aftersales.jobs.mail_poll import acknowledger, poll_once  # noqa: PLC0415 (the IMAP client: only when polled)

        summary = poll_once(
            self.settings, self.desk, self.kit, on_new_case=acknowledger(self.settings, self.desk, self.kit)
        )
        return {k: v for k, v in summary.as_dict().items() if isinstance(v, int)}

    def send_outbox(self) -> dict[str, Any]:
        """Batch after batch while mail goes out, for SEND_MINUTES at most: a backlog is not
        left for the next period, and another worker's run shares it (each mail is claimed)."""
        smtp = self.settings.smtp
        if smtp is None:
            return {"sent": 0}
        rules = SendRules(
            by=process_name(), lease=timedelta(seconds=self.settings.send_lease_seconds), clock=self.now
        )
        sender = mail_sender(smtp, self.kit.policy)
        totals: Counter[str] = Counter()
        started = time.monotonic()
        while time.monotonic() - started < SEND_MINUTES * 60:
            summary = send_pending(self.desk.uow, sender, now=self.now(), rules=rules)
            totals.update(sent=summary.sent, retrying=summary.retrying, gave_up=summary.gave_up)
            if summary.sent == 0:
                break
        return {key: totals[key] for key in ("sent", "retrying", "gave_up")}

    def outbound_webhooks(self) -> dict[str, Any]:
        """Relay the new timeline events into deliveries, then post the due ones, batch after
        batch for SEND_MINUTES at most (a failed post is retried by the delivery's own
        backoff, not by failing the job)."""
        relayed = 0
        while True:  # a backlog (the worker was down) is relayed batch after batch
            relay = webhooks.relay_events(self.desk.webhooks, now=self.now())
            relayed += relay.queued
            if relay.read < webhooks.RELAY_BATCH:
                break
        rules = webhooks.SendRules(by=process_name(), clock=self.now)
        totals: Counter[str] = Counter()
        poster = webhook_poster()
        started = time.monotonic()
        try:
            while time.monotonic() - started < SEND_MINUTES * 60:
                summary = webhooks.send_due(self.desk.webhooks, poster, now=self.now(), rules=rules)
                totals.update(summary.as_dict())
                if summary.sent + summary.retrying + summary.failed == 0:
                    break
        finally:
            poster.close()
        return {"relayed": relayed} | {key: totals[key] for key in ("sent", "retrying", "failed")}

    def notify(self) -> dict[str, Any]:
        """Desk users told of the feed's new events, as each chose (services/notifications.py)."""
        summary = notify(self.desk.uow, self.kit, mail_links(self.settings))
        return {"events": summary.events, "mailed": summary.mailed, "kept": summary.kept}

    def notification_digest(self) -> dict[str, Any]:
        summary = send_digests(self.desk.uow, self.kit, mail_links(self.settings), now=self.now())
        return {"digests": summary.digests, "items": summary.items}

    def review_requests(self) -> dict[str, Any]:
        summary = schedule_and_send(
            self.desk.review_requests,
            usage_days=self.kit.policy.review_request_days,
            now=self.now(),
        )
        return {"scheduled": summary.scheduled, "deferred": summary.deferred, "sent": summary.sent}

    def read_by_meaning(self) -> dict[str, Any]:
        """Read again by meaning the cases intake routed by their words alone (services/rereading.py)."""
        result = reread(self.desk.uow, self.kit, now=self.now(), seconds=REREAD_RUN_SECONDS)
        return {"read": result.read, "rerouted": result.rerouted, "left": result.left}

    def retrain_router(self) -> dict[str, Any]:
        """Retrain once the policy's ``[learning] retrain_every`` new route labels came; a
        promoted model is used from then on."""
        learned = retrain_if_due(
            self.desk.read,
            self.kit,
            router_models(self.settings),
            builtin_examples(),
            every=self.kit.policy.retrain_every,
            at=self.now(),
        )
        if learned is None:
            return {"retrained": False}
        log.info("router model retrained: %s", learned.as_dict())
        if learned.version.promoted:
            # one assignment: a request sees the old kit or the new one
            self.holder.kit = dataclasses.replace(self.kit, model=current_router_model(self.settings))
        return {"retrained": True, "version": learned.version.version, "promoted": learned.version.promoted}

    def prune_job_log(self) -> dict[str, Any]:
        """Forget job runs older than JOB_LOG_DAYS and webhook deliveries that ended more
        than DELIVERY_LOG_DAYS ago."""
        with self.desk.job_log() as job_log:
            forgotten = job_log.prune(self.now() - timedelta(days=JOB_LOG_DAYS))
        deliveries = webhooks.forget_old_deliveries(self.desk.webhooks, now=self.now())
        return {"forgotten": forgotten, "webhook_deliveries_forgotten": deliveries}

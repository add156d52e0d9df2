"""Two web servers and two workers on one PostgreSQL, a fake SMTP server on loopback.

500 replies are queued; every one reaches the SMTP server exactly once (counted by
Message-ID there), although the worker sending one of them is killed with SIGKILL in the
middle of handing it over: the other worker takes over its job (its heartbeat stopped) and
the mail (its claim's lease ran out). Every SLA breach is recorded once, although the
workers' ticks and one from this process run side by side.
"""

from __future__ import annotations

import asyncio
import functools
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, func, select, text

from aftersales.adapters.db import schema
from aftersales.adapters.db.engine import make_engine
from aftersales.adapters.db.repository import unit_of_work
from aftersales.adapters.mail.parse import dedupe_key
from aftersales.domain.messages import Channel, InboundMessage
from aftersales.domain.outgoing import MailKind, OutgoingMail
from aftersales.services.intake import Incoming, take_in
from aftersales.settings import Settings
from aftersales.wiring import build_routing_kit

pytestmark = pytest.mark.slow

REPLIES = 500
CASES = 100
# A claim older than this is a sender that stopped: far longer than a send takes, even on a
# busy machine (a send that outlasts it looks stopped and goes again: 900 s in production).
LEASE_SECONDS = 10
DEADLINE = 50.0  # seconds for the whole run


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class CountingSmtp:
    """Counts the Message-IDs it accepted. While ``trap`` is set, the next mail is held
    before the server answers, then refused: its sender is killed meanwhile, so the server
    never took it (RFC 5321: it is the sender's until the server says 250)."""

    port: int
    accepted: Counter[str] = field(default_factory=Counter)
    trap: threading.Event = field(default_factory=threading.Event)
    trapped: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        message_id = str(message_from_bytes(envelope.content, policy=policy.default)["Message-ID"]).strip(
            "<>"
        )
        with self.lock:
            held = self.trap.is_set()
            self.trap.clear()
        if held:
            self.trapped.append(message_id)
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 not taken"
        with self.lock:
            self.accepted[message_id] += 1
        return "250 OK"


@pytest.fixture
def database() -> Iterator[str]:
    url = os.environ.get("AFTERSALES_TEST_DATABASE_URL", "")
    if not url:
        pytest.skip("set AFTERSALES_TEST_DATABASE_URL to run the several-process test on PostgreSQL")
    admin = make_engine(url)
    name = f"aftersales_jobs_{secrets.token_hex(4)}"
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def smtp() -> Iterator[CountingSmtp]:
    server = CountingSmtp(free_port())
    controller = Controller(server, hostname="127.0.0.1", port=server.port)
    controller.start()
    try:
        yield server
    finally:
        server.release.set()
        controller.stop()


def environment(url: str, data_dir: Path, smtp: CountingSmtp) -> dict[str, str]:
    return os.environ | {
        "AFTERSALES_DATABASE_URL": url,
        "AFTERSALES_DATA_DIR": str(data_dir),
        # one key for both servers, as deploy/ sets it (two servers making the data folder's
        # key at the same moment would race)
        "AFTERSALES_SECRET_KEY": secrets.token_urlsafe(32),
        "AFTERSALES_SMTP_HOST": "127.0.0.1",
        "AFTERSALES_SMTP_PORT": str(smtp.port),
        "AFTERSALES_SMTP_SECURITY": "none",
        "AFTERSALES_MAIL_POLL_SECONDS": "1",
        "AFTERSALES_SEND_LEASE_SECONDS": str(LEASE_SECONDS),
        "AFTERSALES_WORKER_HEARTBEAT_SECONDS": "1",
    }


def aftersales(*args: str) -> list[str]:
    return [sys.executable, "-m", "aftersales", *args]


def message(text: str, sender: str, sent: datetime) -> InboundMessage:
    message_id = f"{secrets.token_hex(8)}@cust.example"
    return InboundMessage(
        message_id=message_id,
        dedupe_key=dedupe_key(message_id, sender, sent.isoformat(), text),
        channel=Channel.EMAIL,
        from_address=sender,
        from_name="",
        to_addresses=("support@northwind.example",),
        subject="My order",
        sent_at=sent,
        body=text,
        full_body=text,
        html="",
    )


def upgrade_twice(env: dict[str, str]) -> None:
    """`aftersales db upgrade` on the fresh database, then again: nothing left to do."""
    runs = [
        subprocess.run(aftersales("db", "upgrade"), env=env, check=True, capture_output=True, text=True)
        for _ in range(2)
    ]
    assert "job queue tables present" in runs[-1].stdout


def seed(engine: Engine, data_dir: Path) -> list[int]:
    """CASES cases opened two weeks ago and never answered (their first response breaches),
    and REPLIES mails queued on them."""
    kit = build_routing_kit(Settings(data_dir=data_dir, policy_file=None))
    uow = unit_of_work(engine, data_dir / "attachments")
    opened = datetime.now(UTC) - timedelta(days=14)
    case_ids = []
    for n in range(CASES):
        sent = opened + timedelta(minutes=n)
        incoming = Incoming(
            message(f"where is my order? ({n})", sender=f"c{n}@example.com", sent=sent), "test"
        )
        result = take_in(uow, kit, incoming, now=sent)
        assert result.case_id is not None
        case_ids.append(result.case_id)
    with uow() as cases:
        for n in range(REPLIES):
            mail = OutgoingMail(
                case_id=case_ids[n % CASES],
                kind=MailKind.REPLY,
                message_id=f"reply-{n}.{secrets.token_hex(4)}@northwind.example",
                to_address=f"c{n % CASES}@example.com",
                subject="Re: your order",
                body=f"Reply {n}",
            )
            assert cases.queue_mail(mail, opened)
    return case_ids


def wait_for(condition: Callable[[], bool], what: str, until: float) -> None:
    while not condition():
        if time.monotonic() > until:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def claimed_by(engine: Engine, message_id: str) -> str:
    with engine.connect() as connection:
        query = select(schema.outbox.c.claimed_by).where(schema.outbox.c.message_id == message_id)
        return str(connection.execute(query).scalar_one())


def breaches_per_case(engine: Engine) -> Counter[int]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(schema.events.c.case_id, schema.events.c.data).where(
                schema.events.c.kind == "clock_breached"
            )
        ).all()
    return Counter(case_id for case_id, data in rows if data["name"] == "first_response")


def test_two_servers_and_two_workers_deliver_every_reply_once(
    database: str, smtp: CountingSmtp, tmp_path: Path
) -> None:
    until = time.monotonic() + DEADLINE
    env = environment(database, tmp_path, smtp)
    upgrade_twice(env)
    engine = make_engine(database)
    case_ids = seed(engine, tmp_path)
    with engine.connect() as connection:
        expected = set(connection.execute(select(schema.outbox.c.message_id)).scalars())

    smtp.trap.set()  # the first mail handed over is held while its sender is killed
    ports = [free_port(), free_port()]
    servers = [
        subprocess.Popen(aftersales("serve", "--port", str(port)), env=env, stderr=subprocess.DEVNULL)
        for port in ports
    ]
    # one job at a time per worker: the victim is killed while its only send is held, never
    # between another mail's 250 and its commit (SMTP's own gap, docs/architecture.md)
    workers = [
        subprocess.Popen(aftersales("worker", "--tick-seconds", "2", "--concurrency", "1"), env=env)
        for _ in range(2)
    ]
    try:
        for port in ports:
            wait_for(functools.partial(_healthy, port), f"the server on {port}", until)
        wait_for(lambda: bool(smtp.trapped), "the first mail to be handed over", until)
        holder = claimed_by(engine, smtp.trapped[0])
        [victim] = [w for w in workers if holder.endswith(f":{w.pid}")]
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        smtp.release.set()

        # the SLA tick from another process at the same time as the workers'
        subprocess.run(aftersales("sla", "tick"), env=env, check=True, capture_output=True)

        wait_for(lambda: set(smtp.accepted) >= expected, "every reply to arrive", until)
        wait_for(lambda: _runs_since_kill(engine, holder), "the survivor to take over the job", until)
        time.sleep(LEASE_SECONDS / 2)  # a late duplicate would arrive now
        assert set(smtp.accepted) == expected
        assert max(smtp.accepted.values()) == 1, [m for m, n in smtp.accepted.items() if n > 1][:5]
        assert all(_healthy(port) for port in ports)
        assert breaches_per_case(engine) == Counter(dict.fromkeys(case_ids, 1))
        with engine.connect() as connection:
            sent = connection.execute(
                select(func.count()).select_from(schema.outbox).where(schema.outbox.c.status == "sent")
            ).scalar_one()
        assert sent == REPLIES
    finally:
        stop([*servers, *workers])
        engine.dispose()


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _runs_since_kill(engine: Engine, killed: str) -> bool:
    """The killed worker's run of the send job ended failed ("stopped") and the send job ran
    again, to the end, on the other worker (the job itself, put back in the queue, or the
    same periodic job already waiting behind it)."""
    with engine.connect() as connection:
        runs = (
            connection.execute(
                select(schema.job_runs)
                .where(schema.job_runs.c.name == "send_outbox")
                .order_by(schema.job_runs.c.id)
            )
            .mappings()
            .all()
        )
    abandoned = [
        r for r in runs if r["worker"] == killed and r["status"] == "failed" and "stopped" in r["error"]
    ]
    if not abandoned:
        return False
    after = abandoned[0]["id"]
    return any(r["id"] > after and r["worker"] != killed and r["status"] == "succeeded" for r in runs)

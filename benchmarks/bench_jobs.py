"""The outbox through the job layer: queued mails sent by 1 or 2 `aftersales worker` processes
on one PostgreSQL to an SMTP server on loopback.

    .venv/bin/python benchmarks/bench_jobs.py [--mails 2000] [--workers 1 2] [--rounds 3]

Each round, for each worker count (interleaved: 1 2 1 2 ...): a fresh database (created on
the server named by AFTERSALES_TEST_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/postgres,
and dropped after), `aftersales db upgrade`, --mails replies queued on one case, then the
workers started with AFTERSALES_MAIL_POLL_SECONDS=1; timed from the workers' start until the
SMTP server (aiosmtpd, in this process) has accepted every Message-ID, so a worker's start
(imports, opening the desk: about a second) is in the figure. Printed: mails/s per run, the
load average beside it, and whether any mail arrived twice (it must not).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import text

from aftersales.adapters.db.engine import make_engine
from aftersales.adapters.db.repository import unit_of_work
from aftersales.adapters.mail.parse import dedupe_key
from aftersales.domain.messages import Channel, InboundMessage
from aftersales.domain.outgoing import MailKind, OutgoingMail
from aftersales.services.intake import Incoming, take_in
from aftersales.settings import Settings
from aftersales.wiring import build_routing_kit

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


class Counting:
    def __init__(self) -> None:
        self.accepted: Counter[str] = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        message_id = str(message_from_bytes(envelope.content, policy=policy.default)["Message-ID"])
        with self.lock:
            self.accepted[message_id] += 1
        await asyncio.sleep(0)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def seed(url: str, data_dir: Path, mails: int) -> None:
    engine = make_engine(url)
    kit = build_routing_kit(Settings(data_dir=data_dir, policy_file=None))
    uow = unit_of_work(engine, data_dir / "attachments")
    now = datetime.now(UTC)
    body = "Where is my order #1043?"
    message = InboundMessage(
        message_id="m1@cust.example",
        dedupe_key=dedupe_key("m1@cust.example", "ana@example.com", now.isoformat(), body),
        channel=Channel.EMAIL,
        from_address="ana@example.com",
        from_name="Ana",
        to_addresses=("support@northwind.example",),
        subject="Order",
        sent_at=now,
        body=body,
        full_body=body,
        html="",
    )
    case_id = take_in(uow, kit, Incoming(message, "bench"), now=now).case_id
    assert case_id is not None
    with uow() as cases:
        for n in range(mails):
            mail = OutgoingMail(
                case_id=case_id,
                kind=MailKind.REPLY,
                message_id=f"bench-{n}.{secrets.token_hex(4)}@northwind.example",
                to_address="ana@example.com",
                subject="Re: Order",
                body=f"Reply {n}",
            )
            cases.queue_mail(mail, now)
    engine.dispose()


def one_run(
    admin_url: str, mails: int, workers: int, smtp_port: int, counting: Counting
) -> tuple[float, int]:
    admin = make_engine(admin_url)
    name = f"aftersales_bench_jobs_{secrets.token_hex(4)}"
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            env = os.environ | {
                "AFTERSALES_DATABASE_URL": url,
                "AFTERSALES_DATA_DIR": folder,
                "AFTERSALES_SMTP_HOST": "127.0.0.1",
                "AFTERSALES_SMTP_PORT": str(smtp_port),
                "AFTERSALES_SMTP_SECURITY": "none",
                "AFTERSALES_MAIL_POLL_SECONDS": "1",
            }
            command = [sys.executable, "-m", "aftersales"]
            subprocess.run([*command, "db", "upgrade"], env=env, check=True, capture_output=True)
            seed(url, Path(folder), mails)
            counting.accepted.clear()
            started = time.perf_counter()
            processes = [
                subprocess.Popen(
                    [*command, "worker", "--tick-seconds", "0"], env=env, stderr=subprocess.DEVNULL
                )
                for _ in range(workers)
            ]
            while len(counting.accepted) < mails:
                time.sleep(0.05)
            seconds = time.perf_counter() - started
            time.sleep(1.0)  # a duplicate would arrive now
            twice = sum(1 for count in counting.accepted.values() if count > 1)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return seconds, twice


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=2000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    admin_url = os.environ.get("AFTERSALES_TEST_DATABASE_URL", DEFAULT_URL)
    counting = Counting()
    port = free_port()
    controller = Controller(counting, hostname="127.0.0.1", port=port)
    controller.start()
    print(f"# {' '.join(sys.argv)}  ({args.mails} mails, rounds interleaved)")
    try:
        for round_number in range(1, args.rounds + 1):
            for workers in args.workers:
                load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
                seconds, twice = one_run(admin_url, args.mails, workers, port, counting)
                print(
                    f"round {round_number}  workers {workers}  {seconds:6.2f} s  "
                    f"{args.mails / seconds:7.1f} mails/s  sent twice: {twice}  load {load}",
                    flush=True,
                )
    finally:
        controller.stop()


if __name__ == "__main__":
    main()

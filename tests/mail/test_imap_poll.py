"""Polling the support inbox against a real Dovecot: catch-up after downtime, nothing new on a
second poll, the mailbox left exactly as it was, a renumbered folder, screening, quarantine,
the backfill window, and login errors that never show the password.

Each poll builds a new ``ImapMailbox`` and ``MailIntake`` on the same database: a poller that
restarted knows only what the database holds. Storage runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select

from aftersales.adapters.db import schema as t
from aftersales.adapters.db.mailbox_state import mailbox_state_unit_of_work
from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.adapters.mail.imap import ImapError, ImapMailbox, message_url
from aftersales.adapters.mail.message_files import mail_parser
from aftersales.cli import cli, main
from aftersales.domain.errors import ConfigError
from aftersales.domain.messages import InboundMessage
from aftersales.jobs.mail_poll import poll_and_log
from aftersales.services.mail_poll import MailIntake, NewCaseHook, PollSummary, poll_mailbox
from aftersales.services.routing import RoutingKit
from aftersales.settings import MailSecurity, MailServer, Settings
from aftersales.wiring import open_desk

from .conftest import PASSWORD, USER, Dovecot

NOW = datetime.now(UTC)  # the server dates arrivals by its clock, so the tests use the real time


def mail(number: int, *, sender: str = "", headers: str = "", body: str = "") -> bytes:
    """A customer message; each number is its own sender and Message-ID (no threading)."""
    sender = sender or f"customer{number}@example.com"
    return (
        f"From: Customer {number} <{sender}>\r\n"
        f"To: {USER}\r\n"
        f"Subject: Question {number}\r\n"
        f"Message-ID: <m{number}.{NOW.timestamp():.0f}@example.com>\r\n"
        f"Date: {format_datetime(NOW)}\r\n"
        f"{headers}"
        "\r\n"
        f"{body or f'Hello, where is my parcel? I ordered it last week. ({number})'}\r\n"
    ).encode()


def append(dovecot: Dovecot, folder: str, *messages: bytes, when: datetime | None = None) -> None:
    with dovecot.client() as client:
        for data in messages:
            client.append(data, folder, dt=when)


def poll(
    dovecot: Dovecot,
    folder: str,
    engine: Engine,
    uow: SqlUnitOfWork,
    kit: RoutingKit,
    *,
    backfill_days: int = 14,
    batch_size: int = 25,
    on_new_case: NewCaseHook | None = None,
) -> PollSummary:
    """One poll by a freshly started poller."""
    intake = MailIntake(
        uow,
        mailbox_state_unit_of_work(engine),
        kit,
        mail_parser(NOW, [kit.policy.support_email, USER]),
        batch_size=batch_size,
    )
    with ImapMailbox(dovecot.server(), folder) as box:
        return poll_mailbox(box, intake, now=NOW, backfill_days=backfill_days, on_new_case=on_new_case)


def outcomes(summary: PollSummary) -> tuple[int, int, int, int, int, int]:
    return (
        summary.fetched,
        summary.new_cases,
        summary.updated_cases,
        summary.duplicates,
        summary.screened,
        summary.quarantined,
    )


def cases_in(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(t.cases)).scalar_one())


def folder_snapshot(dovecot: Dovecot, folder: str) -> tuple[int, dict[int, set[str]]]:
    """(message count, flags by UID); \\Recent is left out: the server moves it between sessions."""
    with dovecot.client() as client:
        count = client.folder.status(folder, ("MESSAGES",))["MESSAGES"]
        client.folder.set(folder, readonly=True)
        flags = {
            int(m.uid or 0): set(m.flags) - {"\\Recent"}
            for m in client.fetch(headers_only=True, mark_seen=False)
        }
    return count, flags


# ----------------------------------------------------------------------------- catching up


def test_mail_that_arrived_while_down_is_taken_in_on_the_next_poll(
    dovecot: Dovecot, folder: str, engine: Engine, uow: SqlUnitOfWork, kit: RoutingKit
) -> None:
    append(dovecot, folder, mail(1), mail(2))
    first = poll(dovecot, folder, engine, uow, kit)
    # the poller is down while two more arrive
    append(dovecot, folder, mail(3), mail(4))

    after_restart = poll(dovecot, folder, engine, uow, kit)
    again = poll(dovecot, folder, engine, uow, kit)

    assert (first.backfill, outcomes(first)) == (True, (2, 2, 0, 0, 0, 0))
    assert (after_restart.backfill, outcomes(after_restart)) == (False, (2, 2, 0, 0, 0, 0))
    assert (again.backfill, outcomes(again)) == (False, (0, 0, 0, 0, 0, 0))
    assert (first.last_uid, after_restart.last_uid, again.last_uid) == (2, 4, 4)
    assert cases_in(engine) == 4
    with mailbox_state_unit_of_work(engine)() as states:
        assert states.state(f"{USER}@127.0.0.1/{folder}") == (after_restart.uidvalidity, 4)


def test_polling_never_marks_flags_moves_or_deletes_mail(
    dovecot: Dovecot, folder: str, engine: Engine, uow: SqlUnitOfWork, kit: RoutingKit
) -> None:
    with dovecot.client() as client:
        client.append(mail(1), folder)
        client.append(mail(2), folder, flag_set=["\\Flagged"])
        client.append(mail(3), folder, flag_set=["\\Seen", "\\Answered"])
    before = folder_snapshot(dovecot, folder)

    poll(dovecot, folder, engine, uow, kit)
    poll(dovecot, folder, engine, uow, kit)

    assert before == (3, {1: set(), 2: {"\\Flagged"}, 3: {"\\Seen", "\\Answered"}})
    assert folder_snapshot(dovecot, folder) == before


def test_a_renumbered_folder_is_backfilled_again_without_doubling_cases(
    dovecot: Dovecot, folder: str, engine: Engine, uow: SqlUnitOfWork, kit: RoutingKit
) -> None:
    append(dovecot, folder, mail(1), mail(2))
    first = poll(dovecot, folder, engine, uow, kit)
    with dovecot.client() as client:  # the folder is recreated: the server numbers it anew
        client.folder.delete(folder)
        client.folder.create(folder)
    append(dovecot, folder, mail(1), mail(2), mail(3))

    renumbered = poll(dovecot, folder, engine, uow, kit)

    assert renumbered.uidvalidity != first.uidvalidity
    assert (renumbered.backfill, outcomes(renumbered)) == (True, (3, 1, 0, 2, 0, 0))
    assert cases_in(engine) == 3


def test_mail_older_than_the_backfill_window_is_never_fetched(
    dovecot: Dovecot, folder: str, engine: Engine, uow: SqlUnitOfWork, kit: RoutingKit
) -> None:
    append(dovecot, folder, mail(1), when=NOW - timedelta(days=2))
    # appended after the recent one, so its UID is higher: the window is by date, not by UID
    append(dovecot, folder, mail(2), when=NOW - timedelta(days=30))

    first = poll(dovecot, folder, engine, uow, kit, backfill_days=14)
    append(dovecot, folder, mail(3))
    later = poll(dovecot, folder, engine, uow, kit, backfill_days=14)

    assert outcomes(first) == (1, 1, 0, 0, 0, 0)
    assert first.last_uid == 2  # the old one counts as handled
    assert outcomes(later) == (1, 1, 0, 0, 0, 0)
    assert cases_in(engine) == 2


# ----------------------------------------------------------------------------- batches and crashes


class CountingMailbox(ImapMailbox):
    """The real mailbox, noting the size of each FETCH."""

    batches: list[int]

    def fetch(self, uids: Sequence[int]) -> list[tuple[int, bytes]]:
        self.batches.append(len(uids))
        return super().fetch(uids)


def test_a_backfill_is_fetched_in_bounded_batches(
    dovecot: Dovecot, folder: str, engine: Engine, uow: SqlUnitOfWork, kit: RoutingKit
) -> None:
    append(dovecot, folder, *(mail(n) for n in range(1, 8)))
    intake = MailIntake(uow, mailbox_state_unit_of_work(engine), kit, mail_parser(NOW, [USER]), batch_size=3)
    box = CountingMailbox(dovecot.server(), folder)
    box.batches = []

    with box:
        summary = poll_mailbox(box, intake, now=NOW, backfill_days=14)

    assert box.batches == [3, 3, 1]
    assert outcomes(summary) == (7, 7, 0, 0, 0, 0)


def test_a_poll_that_stops_half_way_takes_in_the_rest_next_time(
    dovecot: Dovecot, folder: str, engine: Engine, uow: SqlUnitOfWork, kit: RoutingKit
) -> None:
    append(dovecot, folder, mail(1), mail(2), mail(3))
    opened: list[tuple[int, str]] = []

    def crash_after_first(case_id: int, message: InboundMessage) -> None:
        opened.append((case_id, message.subject))
        raise RuntimeError("the process died")

    with pytest.raises(RuntimeError, match="the process died"):
        poll(dovecot, folder, engine, uow, kit, batch_size=2, on_new_case=crash_after_first)
    resumed = poll(
        dovecot,
        folder,
        engine,
        uow,
        kit,
        batch_size=2,
        on_new_case=lambda c, m: opened.append((c, m.subject)),
    )

    # the first message was taken in before the crash; the unfinished batch is fetched again
    assert outcomes(resumed) == (3, 2, 0, 1, 0, 0)
    assert [subject for _, subject in opened] == ["Question 1", "Question 2", "Question 3"]
    assert cases_in(engine) == 3


# ----------------------------------------------------------------------------- screening, quarantine


def test_auto_replies_lists_and_our_own_mail_are_screened(
    dovecot: Dovecot, folder: str, engine: Engine, uow: SqlUnitOfWork, kit: RoutingKit
) -> None:
    append(
        dovecot,
        folder,
        mail(1, headers="Auto-Submitted: auto-replied\r\n", body="I am out of the office until Monday."),
        mail(2, headers="List-Id: <deals.shop.example>\r\nPrecedence: list\r\n", body="This week's deals"),
        mail(3, sender=USER, body="A copy of our own reply"),
        mail(4),
    )

    summary = poll(dovecot, folder, engine, uow, kit)

    assert outcomes(summary) == (4, 1, 0, 0, 3, 0)
    with engine.connect() as connection:
        kinds = connection.execute(select(t.screened.c.kind).order_by(t.screened.c.kind)).scalars().all()
    assert kinds == ["auto_reply", "mailing_list", "own_mail"]


def test_a_malformed_message_is_quarantined_and_the_others_taken_in(
    dovecot: Dovecot, folder: str, engine: Engine, uow: SqlUnitOfWork, kit: RoutingKit
) -> None:
    append(dovecot, folder, mail(1), b"this is not an e-mail at all\r\n", mail(3))

    summary = poll(dovecot, folder, engine, uow, kit)

    source = message_url(dovecot.server(), folder, summary.uidvalidity, 2)
    assert outcomes(summary) == (3, 2, 0, 0, 0, 1)
    assert summary.failures == [f"{source}: not an e-mail: no From, To, Subject, Date or Message-ID header"]
    assert (
        source == f"imap://support%40store.example@127.0.0.1/{folder};UIDVALIDITY={summary.uidvalidity};UID=2"
    )
    with engine.connect() as connection:
        assert connection.execute(select(t.quarantine.c.source)).scalars().all() == [source]
    assert summary.last_uid == 3


# ----------------------------------------------------------------------------- errors


def test_a_wrong_password_is_refused_clearly_without_showing_it(dovecot: Dovecot, folder: str) -> None:
    wrong = "Wr0ng-Secret-Staple"
    server = dovecot.server(password=wrong)

    with pytest.raises(ImapError) as raised:
        ImapMailbox(server, folder).__enter__()

    text = str(raised.value)
    assert "127.0.0.1" in text
    assert "AFTERSALES_IMAP_PASSWORD" in text
    assert "AUTHENTICATIONFAILED" in text
    for shown in (text, repr(raised.value), repr(server), repr(ImapMailbox(server, folder))):
        assert wrong not in shown
        assert PASSWORD not in shown


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("nothing listening", "cannot connect to the IMAP server 127.0.0.1:"),
        ("no such folder", "has no folder 'Nowhere': check AFTERSALES_IMAP_FOLDER"),
    ],
)
def test_an_unreachable_server_or_folder_is_named(dovecot: Dovecot, case: str, expected: str) -> None:
    if case == "nothing listening":
        server, folder = dovecot.server(port=1), "INBOX"
    else:
        server, folder = dovecot.server(), "Nowhere"

    with pytest.raises(ImapError, match=expected) as raised:
        ImapMailbox(server, folder, timeout=5).__enter__()

    assert PASSWORD not in str(raised.value)


def mail_settings(
    tmp_path: Path, dovecot: Dovecot, folder: str, *, password: str = PASSWORD
) -> dict[str, str]:
    return {
        "AFTERSALES_DATA_DIR": str(tmp_path / "data"),
        "AFTERSALES_IMAP_HOST": dovecot.host,
        "AFTERSALES_IMAP_PORT": str(dovecot.port),
        "AFTERSALES_IMAP_USER": dovecot.user,
        "AFTERSALES_IMAP_PASSWORD": password,
        "AFTERSALES_IMAP_SECURITY": "none",
        "AFTERSALES_IMAP_FOLDER": folder,
    }


def test_the_timer_logs_a_refused_login_without_the_password(
    dovecot: Dovecot, folder: str, tmp_path: Path, kit: RoutingKit, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "Wr0ng-Secret-Staple"
    settings = Settings(
        data_dir=tmp_path, policy_file=None, imap=dovecot.server(password=wrong), imap_folder=folder
    )

    with caplog.at_level(logging.DEBUG):
        result = poll_and_log(settings, open_desk(settings), kit)

    assert result is None
    assert "mail poll failed" in caplog.text
    assert "refused the login" in caplog.text
    assert "trying again in 60 s" in caplog.text
    assert wrong not in caplog.text


# ----------------------------------------------------------------------------- the command


@pytest.mark.slow  # two runs of the command, each building the router
def test_mail_poll_takes_in_new_mail_once(dovecot: Dovecot, folder: str, tmp_path: Path) -> None:
    append(dovecot, folder, mail(1), mail(2))
    env = mail_settings(tmp_path, dovecot, folder)

    first = CliRunner().invoke(cli, ["mail", "poll", "--json"], env=env)
    second = CliRunner().invoke(cli, ["mail", "poll"], env=env)

    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    assert (summary["backfill"], summary["fetched"], summary["new_cases"]) == (True, 2, 2)
    assert second.exit_code == 0, second.output
    assert second.stdout.startswith(f"{USER}@127.0.0.1/{folder} (mail since the last poll): 0 fetched")


def test_mail_poll_without_an_inbox_says_how_to_configure_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["mail", "poll"], env={"AFTERSALES_DATA_DIR": str(tmp_path)})

    assert isinstance(result.exception, ConfigError)
    assert "IMAP is not configured: set AFTERSALES_IMAP_HOST" in str(result.exception)


def test_mail_poll_with_a_wrong_password_exits_2_without_showing_it(
    dovecot: Dovecot,
    folder: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    wrong = "Wr0ng-Secret-Staple"
    for name, value in mail_settings(tmp_path, dovecot, folder, password=wrong).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "argv", ["aftersales", "mail", "poll"])

    with pytest.raises(SystemExit) as exited:
        main()

    out, err = capsys.readouterr()
    assert exited.value.code == 2
    assert err.startswith("error: the IMAP server 127.0.0.1:")
    assert "AFTERSALES_IMAP_PASSWORD" in err
    assert wrong not in out + err


# ----------------------------------------------------------------------------- the bookkeeping


def test_the_last_uid_never_goes_back_within_one_uidvalidity(engine: Engine, uow: SqlUnitOfWork) -> None:
    states = mailbox_state_unit_of_work(engine)
    key = "support@store.example@imap.example.com/INBOX"

    with states() as repo:
        assert repo.state(key) is None
        repo.save(key, 7, 40, NOW)
    with states() as repo:
        repo.save(key, 7, 30, NOW)  # a slower poller finishing late
        kept = repo.state(key)
    with states() as repo:
        repo.save(key, 8, 3, NOW)  # the folder was renumbered
        renumbered = repo.state(key)

    assert (kept, renumbered) == ((7, 40), (8, 3))


def test_the_server_settings_never_show_the_password() -> None:
    server = MailServer("imap.example.com", 993, USER, PASSWORD, MailSecurity.SSL)

    assert PASSWORD not in repr(server)
    assert PASSWORD not in repr(ImapMailbox(server, "INBOX"))


# ----------------------------------------------------------------------------- the server's timer


@pytest.mark.slow  # starts `aftersales serve`
def test_serve_polls_the_inbox_on_a_timer(dovecot: Dovecot, folder: str, tmp_path: Path) -> None:
    append(dovecot, folder, mail(1))
    env = {**os.environ, **mail_settings(tmp_path, dovecot, folder), "AFTERSALES_MAIL_POLL_SECONDS": "0.2"}
    env.pop("AFTERSALES_DATABASE_URL", None)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "aftersales", "serve", "--port", str(port), "--tick-seconds", "0"]
    with log.open("wb") as out:
        server = subprocess.Popen(
            command, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        first = _wait_for_cases(tmp_path / "data" / "aftersales.db", 1, server, log)
        append(dovecot, folder, mail(2))  # arrives while the server runs
        second = _wait_for_cases(tmp_path / "data" / "aftersales.db", 2, server, log)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    assert (first, second) == (1, 2)
    assert f"polling the inbox {USER}@127.0.0.1/{folder} every 0.2 s" in log.read_text()
    assert PASSWORD not in log.read_text()


def _wait_for_cases(database: Path, wanted: int, server: subprocess.Popen[bytes], log: Path) -> int:
    deadline = time.monotonic() + 30
    found = 0
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"`aftersales serve` exited {server.returncode}:\n{log.read_text()}")
        if database.exists():
            # (the table is missing until the server has migrated the new database)
            with (
                contextlib.closing(sqlite3.connect(database)) as db,
                contextlib.suppress(sqlite3.OperationalError),
            ):
                found = db.execute("SELECT count(*) FROM cases").fetchone()[0]
        if found >= wanted:
            return found
        time.sleep(0.1)
    pytest.fail(f"`aftersales serve` took in {found} of {wanted} messages in 30 s:\n{log.read_text()}")

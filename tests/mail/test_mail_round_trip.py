"""The support mailbox end to end, on real servers on loopback: a customer's mail arrives in
Dovecot, `aftersales mail poll` opens a case and queues the acknowledgement, an agent replies,
`aftersales mail send` delivers both through an SMTP server (aiosmtpd), and the customer's
answer to our reply threads back into the same case."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from aftersales.cli import cli
from aftersales.domain.sla.calendar import BusinessCalendar
from aftersales.settings import Settings
from aftersales.wiring import build_routing_kit
from mail_send.conftest import Inbox

from .conftest import USER, Dovecot
from .test_imap_poll import NOW, append, mail_settings

CUSTOMER = "ada@example.com"


def first_mail() -> bytes:
    return (
        f"From: Ada Lovelace <{CUSTOMER}>\r\nTo: {USER}\r\nSubject: Where is my order #1043?\r\n"
        f"Message-ID: <first.{NOW.timestamp():.0f}@example.com>\r\nDate: {format_datetime(NOW)}\r\n\r\n"
        "Hello, my order #1043 has not moved for a week. Where is it?\r\n"
    ).encode()


def answer_to(reply: EmailMessage) -> bytes:
    """What a mail client sends when the customer answers our reply."""
    return (
        f"From: Ada Lovelace <{CUSTOMER}>\r\nTo: {USER}\r\nSubject: {reply['Subject']}\r\n"
        f"Message-ID: <answer.{NOW.timestamp():.0f}@example.com>\r\nDate: {format_datetime(NOW)}\r\n"
        f"In-Reply-To: {reply['Message-ID']}\r\nReferences: {reply['References']} {reply['Message-ID']}\r\n\r\n"
        "Thank you, I will wait until then.\r\n"
    ).encode()


def open_at_three(calendar: BusinessCalendar) -> date:
    """A day two or more days ahead when the store is open at 15:00: the reply check refuses a
    promise of a closed day ("tomorrow 3pm" said on a Saturday), and this test runs on the real
    clock."""
    day = datetime.now(calendar.tz).date() + timedelta(days=2)
    while calendar.is_closed_day(day) or not any(
        i.start <= time(15) < i.end for i in calendar.weekly.get(day.weekday(), ())
    ):
        day += timedelta(days=1)
    return day


def run(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(cli, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.slow  # five runs of the command line, each building the router
def test_a_mail_is_acknowledged_answered_and_the_answer_threads_back(
    dovecot: Dovecot,
    folder: str,
    smtp: Inbox,
    tmp_path: Path,
) -> None:
    env = mail_settings(tmp_path, dovecot, folder) | {
        "AFTERSALES_SMTP_HOST": "127.0.0.1",
        "AFTERSALES_SMTP_PORT": str(smtp.port),
        "AFTERSALES_SMTP_SECURITY": "none",
    }
    append(dovecot, folder, first_mail())
    polled = json.loads(run(env, "mail", "poll", "--json"))
    assert polled["new_cases"] == 1
    case_id = json.loads(run(env, "cases", "--json"))[0]["id"]
    day = open_at_three(
        build_routing_kit(Settings(data_dir=tmp_path / "calendar", policy_file=None)).calendar
    )
    run(
        env,
        "reply",
        str(case_id),
        "--text",
        f"We have asked UPS to trace it and will update you by {day:%A} {day.day} {day:%B}, 3pm.",
    )
    sent = json.loads(run(env, "mail", "send", "--json"))
    assert sent["sent"] == 2

    by_kind = {"ack" if m["Auto-Submitted"] else "reply": m for _, _, m in smtp.received}
    original = f"<first.{NOW.timestamp():.0f}@example.com>"
    for message in by_kind.values():
        assert message["To"] == CUSTOMER
        assert message["In-Reply-To"] == original
        assert original in message["References"]
        assert f"[case {case_id}]" in message["Subject"]
    assert by_kind["ack"]["Auto-Submitted"] == "auto-replied"
    assert by_kind["reply"]["Subject"].startswith("Re: Where is my order #1043?")

    append(dovecot, folder, answer_to(by_kind["reply"]))
    again = json.loads(run(env, "mail", "poll", "--json"))
    assert (again["new_cases"], again["updated_cases"]) == (0, 1)
    assert json.loads(run(env, "mail", "send", "--json"))["sent"] == 0  # no acknowledgement of an answer

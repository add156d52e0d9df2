"""End to end from a real mbox file: `read_messages` + `take_in`, quarantining what cannot be
read the way `aftersales intake` does.

Given an mbox holding the awkward mail a real inbox has (a duplicate, an auto-reply, a
delivery report, HTML-only mail, ISO-8859-1, an undeclared and a wrongly declared charset,
a 10 MB attachment and an entry that is not mail at all), when it is taken in, once or
interrupted and run again, then the counts are right, nothing crashes, and the end state is
the same as taking it in once. Runs on SQLite, and on PostgreSQL when configured.
"""

from __future__ import annotations

import mailbox
from collections import Counter
from collections.abc import Iterable, Iterator
from email.message import EmailMessage
from email.utils import format_datetime
from itertools import islice
from pathlib import Path

import pytest
from sqlalchemy import select

from aftersales.adapters.db import schema
from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.adapters.mail.message_files import IntakeItem, read_messages
from aftersales.domain.messages import ParseProblem
from aftersales.services.intake import Incoming, take_in
from aftersales.services.routing import RoutingKit
from support.messages import at, dump

SENT = at(24, 10)
RECEIVED = at(25, 9)  # the intake run's "now": also the stand-in time for a mail without a Date
TEN_MB = 10 * 1024 * 1024


def _mail(message_id: str, sender: str, subject: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = "support@northwind.example"
    mail["Subject"] = subject
    mail["Date"] = format_datetime(SENT)
    mail["Message-ID"] = f"<{message_id}>"
    return mail


def _text(message_id: str, sender: str, subject: str, body: str, **headers: str) -> EmailMessage:
    mail = _mail(message_id, sender, subject)
    for name, value in headers.items():
        mail[name] = value
    mail.set_content(body)
    return mail


def _raw(headers: str, body: bytes) -> bytes:
    """A mail as bytes, for what EmailMessage will not write: wrong charsets, reports, junk."""
    return headers.replace("\n", "\r\n").encode("ascii") + b"\r\n" + body


def _delivery_report() -> bytes:
    return _raw(
        "From: Mail Delivery System <bounces@mail.example>\n"
        "To: support@northwind.example\n"
        "Subject: Undelivered Mail Returned to Sender\n"
        f"Date: {format_datetime(SENT)}\n"
        "Message-ID: <dsn-1@mail.example>\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="RPT"\n',
        b"--RPT\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        b"--RPT\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mail.example\r\n\r\n"
        b"Final-Recipient: rfc822; gone@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"--RPT--\r\n",
    )


def _charset_mail(message_id: str, sender: str, declared: str | None, body: bytes) -> bytes:
    content_type = f"Content-Type: text/plain; charset={declared}\n" if declared else ""
    return _raw(
        f"From: {sender}\nTo: support@northwind.example\nSubject: Commande\n"
        f"Date: {format_datetime(SENT)}\nMessage-ID: <{message_id}>\nMIME-Version: 1.0\n"
        f"{content_type}Content-Transfer-Encoding: 8bit\n",
        body,
    )


def _html_only() -> EmailMessage:
    mail = _mail("html@cust.example", "Cy <cy@example.com>", "Broken lid")
    mail.set_content(
        "<html><body><p>The lid of my tumbler arrived <b>cracked</b>, order #2002.</p></body></html>",
        subtype="html",
    )
    return mail


def _latin() -> EmailMessage:
    mail = _mail("latin@cust.example", "Dora <dora@example.com>", "Falsche Größe")
    mail.set_content(
        "Ich habe die falsche Größe bekommen, Bestellung #2003.", charset="iso-8859-1", cte="quoted-printable"
    )
    return mail


def _big() -> EmailMessage:
    mail = _text(
        "big@cust.example",
        "Fay <fay@example.com>",
        "Video",
        "The tumbler arrived dented, order #2006. Video attached.",
    )
    mail.add_attachment(b"\x00" * TEN_MB, maintype="video", subtype="mp4", filename="unboxing.mp4")
    return mail


FIRST = _text(
    "first@cust.example", "Ana <ana@example.com>", "Order #1043", "Where is my order #1043? It has not moved."
)
# (what the entry is, the mail) in mbox order; the junk sits in the middle, so it must not block what follows
ENTRIES: list[tuple[str, EmailMessage | bytes]] = [
    ("a customer's question", FIRST),
    ("the same question again", FIRST),
    (
        "an out-of-office",
        _text(
            "ooo@cust.example",
            "Bo <bo@example.com>",
            "Out of office",
            "Back on Monday.",
            **{"Auto-Submitted": "auto-replied"},
        ),
    ),
    ("a delivery report", _delivery_report()),
    ("not mail at all", b"\x00\x01\x02 this is not a mail \xff\xfe\n"),
    ("HTML only", _html_only()),
    ("ISO-8859-1", _latin()),
    (
        "no charset declared, UTF-8 bytes",
        _charset_mail(
            "plain@cust.example",
            "Gus <gus@example.com>",
            None,
            "Ma commande #2004 est arrivée cassée.\r\n".encode(),
        ),
    ),
    (
        "UTF-8 declared, Latin-1 bytes",
        _charset_mail(
            "wrong@cust.example",
            "Eli <eli@example.com>",
            "utf-8",
            "Ma commande #2005 est fêlée, le verre est cassé.\r\n".encode("latin-1"),
        ),
    ),
    ("a 10 MB attachment", _big()),
]


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mail") / "inbox.mbox"
    box = mailbox.mbox(path)
    for _, mail in ENTRIES:
        box.add(mail)
    box.flush()
    box.close()
    return path


def read(path: Path, kit: RoutingKit) -> Iterator[IntakeItem]:
    return read_messages(path, received_at=RECEIVED, own_addresses=[kit.policy.support_email])


@pytest.fixture(scope="module")
def parsed(inbox: Path, kit: RoutingKit) -> list[IntakeItem]:
    """The inbox read once, for the tests about what is stored rather than about reading."""
    return list(read(inbox, kit))


def intake(uow: SqlUnitOfWork, kit: RoutingKit, items: Iterable[IntakeItem]) -> Counter[str]:
    """What `aftersales intake PATH` does with the items, on a fixed clock."""
    counts: Counter[str] = Counter()
    for item in items:
        if isinstance(item.result, ParseProblem):
            with uow() as cases:
                cases.quarantine(item.source, item.result.reason, RECEIVED)
            counts["quarantined"] += 1
        else:
            message, attachments = item.result
            counts[take_in(uow, kit, Incoming(message, item.source, attachments), now=RECEIVED).outcome] += 1
    return counts


def content(uow: SqlUnitOfWork) -> dict[str, list[str]]:
    """The stored state without the database's ids (PostgreSQL sequences do not restart)."""
    ids = {"id", "case_id", "customer_id", "order_id"}
    row_ids = {"attachments": {"message_id"}}  # there the message's row id, not its Message-ID
    return {
        table: sorted(
            repr(sorted((k, v) for k, v in row.items() if k not in ids | row_ids.get(table, set())))
            for row in rows
        )
        for table, rows in dump(uow).items()
    }


def empty(uow: SqlUnitOfWork) -> None:
    with uow() as cases:
        for table in reversed(schema.metadata.sorted_tables):
            cases.db.execute(table.delete())


# ----------------------------------------------------------------------------- once


def test_an_awkward_mbox_gives_the_right_counts_and_no_crash(
    uow: SqlUnitOfWork, kit: RoutingKit, inbox: Path
) -> None:
    counts = intake(uow, kit, read(inbox, kit))

    assert counts == {"new_case": 6, "duplicate": 1, "screened": 2, "quarantined": 1}
    stored = dump(uow)
    assert sorted((r["kind"], r["from_address"]) for r in stored["screened"]) == [
        ("auto_reply", "bo@example.com"),
        ("delivery_report", "bounces@mail.example"),
    ]
    assert [(r["source"], r["reason"]) for r in stored["quarantine"]] == [
        (f"{inbox}#5", "not an e-mail: no From, To, Subject, Date or Message-ID header")
    ]
    assert len(stored["cases"]) == len(stored["messages"]) == 6


@pytest.mark.parametrize(
    ("message_id", "body"),
    [
        pytest.param(
            "html@cust.example",
            "The lid of my tumbler arrived cracked, order #2002.",
            id="HTML only: its text",
        ),
        pytest.param(
            "latin@cust.example", "Ich habe die falsche Größe bekommen, Bestellung #2003.", id="ISO-8859-1"
        ),
        pytest.param("plain@cust.example", "Ma commande #2004 est arrivée cassée.", id="undeclared charset"),
        pytest.param(
            "wrong@cust.example", "Ma commande #2005 est fêlée, le verre est cassé.", id="wrong charset"
        ),
    ],
)
def test_odd_bodies_are_stored_as_readable_text_on_their_own_case(
    uow: SqlUnitOfWork, kit: RoutingKit, parsed: list[IntakeItem], message_id: str, body: str
) -> None:
    intake(uow, kit, parsed)

    query = select(schema.messages.c.body, schema.cases.c.order_number).join(
        schema.cases, schema.cases.c.id == schema.messages.c.case_id
    )
    with uow() as cases:
        row = cases.db.execute(query.where(schema.messages.c.message_id == message_id)).one()
    assert tuple(row) == (body, body.split("#")[1][:4])


def test_the_10_mb_attachment_is_stored_by_hash_under_the_data_folder(
    uow: SqlUnitOfWork, kit: RoutingKit, parsed: list[IntakeItem], tmp_path: Path
) -> None:
    intake(uow, kit, parsed)

    with uow() as cases:
        (attachments,) = cases.db.execute(
            select(schema.messages.c.attachments).where(schema.messages.c.message_id == "big@cust.example")
        ).one()
    (meta,) = attachments
    assert (meta["filename"], meta["content_type"], meta["size"]) == ("unboxing.mp4", "video/mp4", TEN_MB)
    stored = tmp_path / "attachments" / meta["sha256"][:2] / meta["sha256"]
    assert stored.stat().st_size == TEN_MB


# ----------------------------------------------------------------------------- killed and run again


@pytest.mark.parametrize(
    "stop_after",
    [
        pytest.param(len(ENTRIES) // 2, id="killed half way, after the junk entry"),
        pytest.param(1, id="killed between a message and its duplicate"),
        pytest.param(len(ENTRIES) - 1, id="killed before the last (10 MB) message"),
    ],
)
def test_an_intake_killed_in_the_middle_and_run_again_loses_nothing_and_doubles_nothing(
    uow: SqlUnitOfWork, kit: RoutingKit, inbox: Path, parsed: list[IntakeItem], stop_after: int
) -> None:
    intake(uow, kit, parsed)
    once = content(uow)
    empty(uow)

    first = intake(uow, kit, islice(read(inbox, kit), stop_after))  # then the process dies
    second = intake(uow, kit, read(inbox, kit))

    assert sum(first.values()) == stop_after
    # the rerun takes in what the killed run did not reach, and skips what it did
    taken = first["new_case"]
    assert second == {"new_case": 6 - taken, "duplicate": 1 + taken, "screened": 2, "quarantined": 1}
    assert content(uow) == once
    stored = dump(uow)
    assert (len(stored["cases"]), len(stored["messages"])) == (6, 6)
    assert len({r["dedupe_key"] for r in stored["messages"]}) == 6

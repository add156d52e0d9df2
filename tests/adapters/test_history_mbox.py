"""The old shared inbox's mbox threaded into conversations: by headers, by subject when a
mail program dropped them, directions by the store's addresses, and what cannot be read."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from aftersales.adapters.files.history import mbox_threads
from aftersales.domain.history import BadRecord, HistoryConversation, HistoryDirection

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "history"
INBOX = FIXTURES / "shared-inbox.mbox"
STORE = frozenset({"Help@Northwind.example"})
IN, OUT = HistoryDirection.IN, HistoryDirection.OUT


def _read(path: Path = INBOX, store: frozenset[str] = STORE) -> list[HistoryConversation | BadRecord]:
    return list(mbox_threads.read(path, store_addresses=store))


def _conversations(found: list[HistoryConversation | BadRecord]) -> list[HistoryConversation]:
    return [item for item in found if isinstance(item, HistoryConversation)]


def test_the_shared_inbox_is_threaded_into_conversations() -> None:
    conversations = _conversations(_read())

    assert [(c.id, c.subject, c.customer_email) for c in conversations] == [
        ("first-1@mail.example.com", "Parcel never arrived", "anna@example.com"),
        ("size-1@example.net", "Wrong size", "bob@example.net"),
        ("size-2@example.net", "Wrong size", "bob@example.net"),  # same subject, not a reply
    ]
    parcel = conversations[0]
    # the reply came first in the file, and twice; the thanks has no threading headers
    assert [(m.id, m.direction, m.sender, m.at) for m in parcel.messages] == [
        ("first-1@mail.example.com", IN, "anna@example.com", datetime(2026, 3, 2, 9, 15, tzinfo=UTC)),
        (
            "reply-1@northwind.example",
            OUT,
            "help@northwind.example",
            datetime(2026, 3, 2, 10, 20, tzinfo=UTC),
        ),
        ("thanks-1@mail.example.com", IN, "anna@example.com", datetime(2026, 3, 4, 15, 30, tzinfo=UTC)),
    ]
    # the quoted text is cut from the reply, as intake cuts it
    assert parcel.messages[1].body == "Sorry about that, a new parcel went out today."
    assert (parcel.status, parcel.customer_name) == ("closed", "Anna Berg")
    assert (parcel.created_at, parcel.closed_at) == (parcel.messages[0].at, parcel.messages[-1].at)
    assert parcel.created_at.tzinfo is UTC


def test_attachments_are_listed_and_auto_replies_left_out() -> None:
    size = _conversations(_read())[1]

    assert [m.id for m in size.messages] == ["size-1@example.net"]  # not the out-of-office
    assert [(a.name, a.content_type) for a in size.messages[0].attachments] == [("tag.jpg", "image/jpeg")]


def test_a_message_without_a_date_is_reported_by_its_number() -> None:
    bad = [item for item in _read() if isinstance(item, BadRecord)]

    assert bad == [
        BadRecord(
            where="shared-inbox.mbox message 7",
            problem="no readable Date header, so the message cannot be placed in time",
        )
    ]


def test_without_the_store_addresses_every_message_is_the_customers() -> None:
    parcel = _conversations(_read(store=frozenset()))[0]

    assert {m.direction for m in parcel.messages} == {IN}


def test_text_that_is_not_mail_is_reported(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox.mbox"
    inbox.write_bytes(b"From x Mon Mar  2 10:20:00 2026\njust some words\n")

    [found] = _read(inbox)

    assert isinstance(found, BadRecord)
    assert (found.where, found.problem) == (
        "inbox.mbox message 1",
        "not an e-mail: no From, To, Subject, Date or Message-ID header",
    )


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: Parcel never arrived", "parcel never arrived"),
        ("RE: AW: Fwd:  Parcel   never arrived", "parcel never arrived"),
        ("Re[2]: Parcel never arrived [case 42]", "parcel never arrived"),
        ("Reply needed", "reply needed"),
    ],
)
def test_normalised_subjects(subject: str, expected: str) -> None:
    assert mbox_threads.normalised_subject(subject) == expected


def _mail(sender: str, to: str, subject: str, day: int, message_id: str, references: str = "") -> str:
    threading = f"References: {references}\n" if references else ""
    return (
        f"From {sender} Mon Mar  2 09:15:00 2026\nFrom: {sender}\nTo: {to}\nSubject: {subject}\n"
        f"Date: Mon, {day:02d} Mar 2026 10:00:00 +0000\nMessage-ID: <{message_id}>\n{threading}\nText {message_id}\n\n"
    )


def test_threads_by_references_to_a_message_not_in_the_file_and_by_subject_per_customer(
    tmp_path: Path,
) -> None:
    inbox = tmp_path / "inbox.mbox"
    inbox.write_text(
        # two replies to a first message the file does not hold: one thread
        _mail("help@northwind.example", "ann@example.com", "Re: Question", 3, "r1", "<gone@example.com>")
        + _mail("ann@example.com", "help@northwind.example", "Re: Question", 4, "a2", "<gone@example.com>")
        # the same subject from two customers, without threading headers: a thread each
        + _mail("ben@example.com", "help@northwind.example", "Question", 5, "b1")
        + _mail("cat@example.com", "help@northwind.example", "Question", 6, "c1")
        + _mail("ben@example.com", "help@northwind.example", "Re: Question", 7, "b2")
        + _mail("help@northwind.example", "cat@example.com", "RE: question", 8, "c2")
    )

    threads = [[m.id for m in c.messages] for c in _conversations(_read(inbox))]

    assert threads == [["r1", "a2"], ["b1", "b2"], ["c1", "c2"]]

"""Message files for `aftersales intake`: mbox, .eml, JSONL and folders; streamed, never modified."""

from __future__ import annotations

import hashlib
import json
import mailbox
import shutil
import tracemalloc
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path

import pytest

from aftersales.adapters.mail.message_files import IntakeItem, read_messages
from aftersales.domain.messages import AutoKind, Channel, InboundMessage, ParseProblem

FIXTURES = Path(__file__).parent / "email" / "fixtures"
RECEIVED = datetime(2024, 7, 1, 12, 0, tzinfo=UTC)
OWN = ("support@northwind.example",)
TEN_MB = 10 * 1024 * 1024


def _read(path: Path) -> list[IntakeItem]:
    return list(read_messages(path, received_at=RECEIVED, own_addresses=OWN))


def _message(item: IntakeItem) -> InboundMessage:
    assert not isinstance(item.result, ParseProblem), item.result
    return item.result[0]


def _problem(item: IntakeItem) -> ParseProblem:
    assert isinstance(item.result, ParseProblem), item.result
    return item.result


def _write_mbox(path: Path, messages: Sequence[bytes]) -> Path:
    box = mailbox.mbox(path)
    try:
        for data in messages:
            box.add(data)
        box.flush()
    finally:
        box.close()
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _simple(subject: str, body: str = "Where is my order?", sender: str = "anna@example.com") -> bytes:
    return (
        f"From: {sender}\nTo: support@northwind.example\nSubject: {subject}\n"
        f"Date: Mon, 3 Jun 2024 10:00:00 +0200\nMessage-ID: <{subject.replace(' ', '-')}@example.com>\n"
        f"Content-Type: text/plain; charset=utf-8\n\n{body}\n"
    ).encode()


def _with_big_attachment() -> bytes:
    mail = EmailMessage()
    mail["From"] = "omar@example.com"
    mail["Subject"] = "Video of the damage"
    mail["Message-ID"] = "<big-attachment@example.com>"
    mail.set_content("The video is attached.")
    mail.add_attachment(
        bytes(range(256)) * (TEN_MB // 256), maintype="video", subtype="mp4", filename="damage.mp4"
    )
    return mail.as_bytes()


# ----------------------------------------------------------------------------- mbox


def test_mbox_with_every_kind_of_message(tmp_path: Path) -> None:
    # given
    wrong_charset = (
        b"From: sofia@example.com\nSubject: Farbe\nMessage-ID: <wrong@example.com>\n"
        b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
        + "Die Größe passt nicht.\n".encode("latin-1")
    )
    path = _write_mbox(
        tmp_path / "inbox.mbox",
        [
            _simple("Order 1043"),
            _simple("Order 1043"),
            (FIXTURES / "out_of_office.eml").read_bytes(),
            (FIXTURES / "delivery_status.eml").read_bytes(),
            (FIXTURES / "html_only.eml").read_bytes(),
            (FIXTURES / "latin1_subject.eml").read_bytes(),
            wrong_charset,
            _with_big_attachment(),
            b"\x00\x01\x02\xff\xfe this entry is no e-mail at all \x13\x37\n",
        ],
    )
    before = _digest(path)

    # when
    items = _read(path)

    # then
    assert [(item.source, item.position) for item in items] == [(f"{path}#{n}", n - 1) for n in range(1, 10)]
    first, duplicate, auto, report, html, latin1, wrong, big = (_message(item) for item in items[:8])
    assert first.dedupe_key == duplicate.dedupe_key
    assert (auto.auto_kind, report.auto_kind) == (AutoKind.AUTO_REPLY, AutoKind.DELIVERY_REPORT)
    assert html.body.startswith("Hello,\n\nthe lid of my tumbler arrived cracked & leaks.")
    assert latin1.subject == "Bestellung über Größe"
    assert wrong.body == "Die Größe passt nicht."
    assert [(meta.filename, meta.content_type, meta.size) for meta in big.attachments] == [
        ("damage.mp4", "video/mp4", TEN_MB)
    ]
    assert _problem(items[8]).reason.startswith("not an e-mail")
    assert _digest(path) == before


def test_attachment_bytes_come_with_the_message(tmp_path: Path) -> None:
    path = _write_mbox(tmp_path / "inbox.mbox", [(FIXTURES / "attachments.eml").read_bytes()])

    (item,) = _read(path)

    assert not isinstance(item.result, ParseProblem)
    message, attachments = item.result
    assert [meta for meta, _ in attachments] == list(message.attachments)
    assert [len(content) for _, content in attachments] == [64, 78, 48]


def test_an_empty_mbox_has_no_messages(tmp_path: Path) -> None:
    path = tmp_path / "empty.mbox"
    path.write_bytes(b"")

    assert _read(path) == []


def test_reading_streams_and_stops_when_the_caller_stops(tmp_path: Path) -> None:
    # given: 2,000 messages of about 2.5 kB each
    path = tmp_path / "big.mbox"
    filler = "All work and no play makes a dull day. " * 60
    with path.open("wb") as handle:
        for number in range(2_000):
            handle.write(b"From anna@example.com Mon Jun  3 10:00:00 2024\n")
            handle.write(_simple(f"Message {number}", filler))
            handle.write(b"\n")
    size = path.stat().st_size

    # when: only the first message is asked for (once before measuring, so that regex and module
    # caches filled on first use are not counted)
    warm_up = read_messages(path, received_at=RECEIVED)
    assert next(warm_up).position == 0
    warm_up.close()
    tracemalloc.start()
    try:
        items = read_messages(path, received_at=RECEIVED)
        first = next(items)
        _, peak = tracemalloc.get_traced_memory()
        items.close()
    finally:
        tracemalloc.stop()

    # then: the first message came without the file ever being held in memory
    assert (first.source, first.position) == (f"{path}#1", 0)
    assert _message(first).subject == "Message 0"
    assert size > 5_000_000
    assert peak < size / 10, peak


# ----------------------------------------------------------------------------- JSONL


def test_jsonl_lines_become_messages_or_problems(tmp_path: Path) -> None:
    # given
    lines = [
        json.dumps(
            {
                "text": "The lid leaks.",
                "from": "Lena.Park@Example.com",
                "name": "Lena Park",
                "subject": "Leaking lid",
                "sent_at": "2026-11-24T10:00:00-05:00",
                "order": "#1082",
                "channel": "chat",
                "in_reply_to": "<chat-1@example.com>",
                "case": 42,
            }
        ),
        '{"text": "cut off",',
        "",
        json.dumps({"from": "anna@example.com"}),
        json.dumps({"text": "Where is 1043?", "order": 1043, "id": 7}),
        json.dumps({"text": "Hi", "channel": "fax"}),
        json.dumps({"text": "Hi", "sent_at": "2026-11-24T10:00:00"}),
        json.dumps({"text": "Hi", "colour": "blue"}),
        json.dumps(["text", "Hi"]),
        json.dumps({"text": "Test from the shop", "from": "support@northwind.example"}),
        json.dumps({"text": "Hi", "from": "anna"}),
    ]
    path = tmp_path / "msgs.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    # when
    items = _read(path)

    # then: the blank line 3 is no item, and positions still count from 0 without gaps
    assert [(item.source, item.position) for item in items] == [
        (f"{path}:{line}", position) for position, line in enumerate([1, 2, 4, 5, 6, 7, 8, 9, 10, 11])
    ]
    full = _message(items[0])
    assert (full.from_address, full.from_name, full.subject) == (
        "lena.park@example.com",
        "Lena Park",
        "Leaking lid",
    )
    assert full.sent_at == datetime(2026, 11, 24, 10, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert (full.channel, full.order_hint, full.case_hint, full.in_reply_to) == (
        Channel.CHAT, "1082", "42", "chat-1@example.com",
    )  # fmt: skip
    assert full.body == full.full_body == "The lid leaks."
    assert full.message_id.endswith("@aftersales.invalid")
    bare = _message(items[3])
    assert (bare.message_id, bare.order_hint, bare.channel, bare.sent_at) == (
        "7",
        "1043",
        Channel.FORM,
        RECEIVED,
    )
    assert [_problem(items[n]).reason for n in (1, 2, 4, 5, 6, 7, 9)] == [
        "line 2: not valid JSON: Expecting property name enclosed in double quotes (column 20)",
        "line 4: 'text' (the message itself) is required",
        "line 6: 'channel' must be one of email, form, chat, social, review, api",
        "line 7: 'sent_at' must be an ISO 8601 time with an offset, e.g. 2026-11-24T10:00:00-05:00",
        "line 8: unknown key(s) colour; allowed: case, channel, from, id, in_reply_to, name, order, "
        "sent_at, subject, text",
        "line 9: each line must be a JSON object",
        "line 11: 'from' must be an e-mail address",
    ]
    assert _message(items[8]).auto_kind is AutoKind.OWN_MAIL


def test_identical_jsonl_lines_share_a_dedupe_key(tmp_path: Path) -> None:
    line = json.dumps({"text": "Where is my order?", "from": "anna@example.com"})
    path = tmp_path / "msgs.jsonl"
    path.write_text(f"{line}\n{line}\n", encoding="utf-8")

    first, second = (_message(item) for item in _read(path))

    assert first.dedupe_key == second.dedupe_key


# ----------------------------------------------------------------------------- folders and single files


def test_a_folder_is_read_recursively_in_sorted_order(tmp_path: Path) -> None:
    # given
    folder = tmp_path / "mail"
    (folder / "sub").mkdir(parents=True)
    (folder / ".hidden").mkdir()
    shutil.copy(FIXTURES / "case_tag.eml", folder / "a.eml")
    _write_mbox(folder / "sub" / "box.mbox", [_simple("Box one"), _simple("Box two")])
    _write_mbox(folder / "sub" / "Inbox", [_simple("Thunderbird inbox")])
    (folder / "z.jsonl").write_text(json.dumps({"text": "From the form"}) + "\n", encoding="utf-8")
    (folder / "notes.txt").write_text("not mail", encoding="utf-8")
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    (folder / "README").write_text("no extension, no mbox", encoding="utf-8")
    shutil.copy(FIXTURES / "gmail_quote.eml", folder / ".hidden" / "skipped.eml")

    # when
    items = _read(folder)

    # then
    assert [(item.source, item.position) for item in items] == [
        (f"{folder}/a.eml", 0),
        (f"{folder}/sub/Inbox#1", 1),
        (f"{folder}/sub/box.mbox#1", 2),
        (f"{folder}/sub/box.mbox#2", 3),
        (f"{folder}/z.jsonl:1", 4),
    ]
    assert [_message(item).subject for item in items[:4]] == [
        "Re: Your parcel is delayed [case 42]", "Thunderbird inbox", "Box one", "Box two",
    ]  # fmt: skip
    assert _message(items[4]).body == "From the form"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        pytest.param("notes.txt", b"hello", "not a message file", id="unknown_extension"),
        pytest.param("README", b"no mbox here", "not a message file", id="no_extension_no_mbox"),
        pytest.param("missing.eml", None, "no such file or folder", id="missing"),
    ],
)
def test_an_explicit_file_that_is_no_message_file_is_one_problem(
    tmp_path: Path, name: str, content: bytes | None, reason: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)

    items = _read(path)

    assert [(item.source, item.position) for item in items] == [(str(path), 0)]
    assert _problem(items[0]).reason.startswith(reason)


def test_a_single_eml_file(tmp_path: Path) -> None:
    path = tmp_path / "REPLY.EML"
    shutil.copy(FIXTURES / "german_quote.eml", path)

    (item,) = _read(path)

    assert (item.source, item.position) == (str(path), 0)
    assert _message(item).from_name == "Jürgen Müller"


def test_an_mbox_without_extension_given_explicitly(tmp_path: Path) -> None:
    path = _write_mbox(tmp_path / "Inbox", [_simple("One"), _simple("Two")])

    items = _read(path)

    assert [(item.source, _message(item).subject) for item in items] == [
        (f"{path}#1", "One"),
        (f"{path}#2", "Two"),
    ]

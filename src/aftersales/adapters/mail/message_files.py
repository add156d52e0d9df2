"""Message files for `aftersales intake PATH`: .eml files, mbox files, JSONL, and folders of them.

Everything streams: one message is read, parsed and handed over before the next is touched, so an
mbox of 50,000 messages costs the memory of its largest message. Nothing here ever writes to the
input, and nothing raises for a bad message: it becomes an ``IntakeItem`` holding a ``ParseProblem``.

JSONL lines are objects with ``text`` (required) and optional ``id``, ``from``, ``name``, ``subject``,
``sent_at`` (ISO 8601 with an offset), ``channel``, ``order``, ``in_reply_to`` and ``case``.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Collection, Generator, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal, TypeAlias

from aftersales.adapters.mail.mbox import mbox_messages, starts_like_mbox
from aftersales.adapters.mail.parse import (
    ParsedMessage,
    clean_text,
    dedupe_key,
    generated_message_id,
    parse_email,
)
from aftersales.domain.errors import InputError
from aftersales.domain.messages import AutoKind, Channel, InboundMessage, ParseProblem
from aftersales.domain.values import BadValue, read_id, read_iso_datetime, read_text

FileKind: TypeAlias = Literal["eml", "mbox", "jsonl"]
IntakeResult: TypeAlias = ParsedMessage | ParseProblem

_SUFFIXES: Mapping[str, FileKind] = {".eml": "eml", ".mbox": "mbox", ".jsonl": "jsonl"}
_MBOX_START = b"From "
_BOM_AND_FROM = len(b"\xef\xbb\xbfFrom ")
# A message over this is quarantined unread (Settings.max_message_bytes): no customer's mail is
# this large, and parsing one costs several times its size in memory.
DEFAULT_MAX_MESSAGE_BYTES = 25 * 1024 * 1024
_MB = 1024 * 1024
_JSONL_KEYS = frozenset(
    {"text", "id", "from", "name", "subject", "sent_at", "channel", "order", "in_reply_to", "case"}
)
# the widest values the messages, cases and customers tables take (see adapters/db/schema.py)
_JSONL_WIDTHS = {"id": 998, "from": 320, "name": 200, "subject": 998, "order": 64, "in_reply_to": 998}
_NOT_A_MESSAGE_FILE = "not a message file: expected .eml, .mbox, .jsonl, or an mbox starting with 'From '"


@dataclass(frozen=True, slots=True)
class IntakeItem:
    """One message read from PATH, or the problem that stopped it being read.

    ``source`` names the file and the place in it: "mail/a.eml", "inbox.mbox#17" (the 17th message),
    "msgs.jsonl:12" (line 12). ``position`` counts every item of one run over PATH from 0, in the
    order they are yielded; it is stable while PATH is unchanged, so an interrupted run can resume.
    """

    source: str
    position: int
    result: IntakeResult


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One message's bytes as read from PATH, not parsed yet (or why they could not be read).

    Reading is sequential and cheap; parsing (``parse_raw``) is the costly part and can run in
    another process, which is why the two are apart. ``line`` is the JSONL line number.
    """

    source: str
    position: int
    kind: FileKind
    data: bytes = b""
    line: int = 0
    problem: ParseProblem | None = None


@dataclass(frozen=True, slots=True)
class MessageReader:
    """What every message of one run shares: when it was received and the store's own addresses."""

    received_at: datetime
    own_addresses: frozenset[str]
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES

    @classmethod
    def of(
        cls,
        received_at: datetime,
        own_addresses: Collection[str] = (),
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ) -> MessageReader:
        if received_at.utcoffset() is None:
            raise ValueError("received_at must be timezone-aware")
        own = frozenset(address.strip().lower() for address in own_addresses)
        return cls(received_at, own, max_message_bytes)

    def parse(self, raw: RawMessage) -> IntakeItem:
        if raw.problem is not None:
            return IntakeItem(raw.source, raw.position, raw.problem)
        if len(raw.data) > self.max_message_bytes:
            problem = ParseProblem(raw.source, over_cap_reason(len(raw.data), self.max_message_bytes))
            return IntakeItem(raw.source, raw.position, problem)
        if raw.kind == "jsonl":
            return IntakeItem(raw.source, raw.position, _jsonl_message(raw.data, raw.source, raw.line, self))
        result = parse_email(
            raw.data, source=raw.source, received_at=self.received_at, own_addresses=self.own_addresses
        )
        return IntakeItem(raw.source, raw.position, result)


def read_messages(
    path: Path,
    *,
    received_at: datetime,
    own_addresses: Collection[str] = (),
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
) -> Generator[IntakeItem, None, None]:
    """The messages in ``path`` (a file or a folder, searched recursively in sorted path order).

    Inside folders, files that are not message files are skipped; a file given explicitly that is
    not one gives a single ParseProblem, as does a file that cannot be opened, and so does a
    message over ``max_message_bytes`` (it is never read whole).
    """
    reader = MessageReader.of(received_at, own_addresses, max_message_bytes)
    return (reader.parse(raw) for raw in read_raw(path, max_message_bytes=max_message_bytes))


def mail_parser(
    received_at: datetime, own_addresses: Collection[str], max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
) -> Callable[[str, bytes], ParsedMessage | ParseProblem]:
    """Parse bytes fetched from a mailbox as file intake parses an .eml file (the same
    screening, dedupe keys and size cap: a larger message is quarantined unparsed)."""
    reader = MessageReader.of(received_at, own_addresses, max_message_bytes)

    def parse(source: str, data: bytes) -> ParsedMessage | ParseProblem:
        return reader.parse(RawMessage(source, 0, "eml", data)).result

    return parse


def read_raw(path: Path, *, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> Iterator[RawMessage]:
    """The messages in ``path`` as bytes, in the order ``read_messages`` yields them; one over
    ``max_message_bytes`` comes as a ParseProblem saying so, without its bytes."""
    positions = itertools.count()
    for source, kind, data, line, problem in _results(path, max_message_bytes):
        yield RawMessage(source, next(positions), kind, data, line, problem)


def over_cap_reason(size: int, cap: int) -> str:
    """ "message is 31 MB, over the 25 MB cap"."""
    return f"message is {_megabytes(size)}, over the {_megabytes(cap)} cap"


def _megabytes(size: int) -> str:
    return f"{size / _MB:.0f} MB" if size >= 10 * _MB else f"{size / _MB:.1f} MB"


_Read: TypeAlias = tuple[str, FileKind, bytes, int, ParseProblem | None]


def _results(path: Path, cap: int) -> Iterator[_Read]:
    if path.is_dir():
        for file in _folder_files(path):
            kind = _kind_of(file)
            if kind is not None:
                yield from _read_file(file, kind, cap)
        return
    if not path.exists():
        yield _problem(str(path), "no such file or folder")
        return
    kind = _kind_of(path)
    if kind is None:
        yield _problem(str(path), _NOT_A_MESSAGE_FILE)
        return
    yield from _read_file(path, kind, cap)


def _problem(source: str, reason: str) -> _Read:
    return source, "eml", b"", 0, ParseProblem(source, reason)


def _folder_files(folder: Path) -> list[Path]:
    """Files under ``folder`` in sorted path order; hidden files and folders (.git, .DS_Store) left out."""
    return sorted(
        file
        for file in folder.rglob("*")
        if file.is_file() and not any(part.startswith(".") for part in file.relative_to(folder).parts)
    )


def _kind_of(path: Path) -> FileKind | None:
    kind = _SUFFIXES.get(path.suffix.lower())
    if kind is not None or path.suffix:
        return kind
    # mbox files often have no extension (Thunderbird's "Inbox"); the first line tells.
    try:
        with path.open("rb") as handle:
            start = handle.read(_BOM_AND_FROM)
    except OSError:
        return None
    return "mbox" if starts_like_mbox(start) else None


def _read_file(path: Path, kind: FileKind, cap: int) -> Iterator[_Read]:
    if kind == "eml":
        return _read_eml(path, cap)
    if kind == "mbox":
        return _read_mbox(path, cap)
    return _read_jsonl(path, cap)


def _read_eml(path: Path, cap: int) -> Iterator[_Read]:
    source = str(path)
    try:
        size = path.stat().st_size
        if size > cap:
            yield _problem(source, over_cap_reason(size, cap))
            return
        data = path.read_bytes()
    except OSError as error:
        yield _unreadable(source, error)
        return
    yield source, "eml", data, 0, None


def _read_mbox(path: Path, cap: int) -> Iterator[_Read]:
    """Each message in turn, read front to back (``mbox_stream``): one message at a time is held,
    whatever the size of the file. The file is opened read-only and never locked."""
    try:
        with path.open("rb") as handle:
            for message in mbox_messages(handle, cap):
                source = f"{path}#{message.number}"
                if message.over_cap:
                    yield _problem(source, over_cap_reason(message.size, cap))
                else:
                    yield source, "mbox", message.data, 0, None
    except OSError as error:
        # The file changed or vanished while it was read: say so once and go on with the next file.
        yield _unreadable(str(path), error)


def _read_jsonl(path: Path, cap: int) -> Iterator[_Read]:
    try:
        with path.open("rb") as handle:
            for number, (line, size) in enumerate(_bounded_lines(handle, cap), start=1):
                source = f"{path}:{number}"
                if line is None:
                    yield _problem(source, f"line {number}: " + over_cap_reason(size, cap))
                elif line.strip():
                    yield source, "jsonl", line, number, None
    except OSError as error:
        yield _unreadable(str(path), error)


def _bounded_lines(handle: BinaryIO, cap: int) -> Iterator[tuple[bytes | None, int]]:
    """Each line of ``handle`` with its size; None for a line over ``cap`` bytes, which is
    counted, never held."""
    while line := handle.readline(cap + 1):
        size = len(line)
        if size <= cap or line.endswith(b"\n"):
            yield line, size
            continue
        while rest := handle.readline(_MB):
            size += len(rest)
            if rest.endswith(b"\n"):
                break
        yield None, size


def _unreadable(source: str, error: OSError) -> _Read:
    reason = error.strerror or str(error)
    return _problem(source, f"cannot read the file: {reason}")


# ----------------------------------------------------------------------------- JSONL


def _jsonl_message(line: bytes, source: str, number: int, intake: MessageReader) -> IntakeResult:
    try:
        record = _record(line)
        message = _record_message(record, line, intake)
    except BadValue as problem:
        return ParseProblem(source, f"line {number}: {problem.reason}")
    except Exception as error:  # defence in depth: one line never stops the file
        reason = f"cannot read the line: {type(error).__name__}: {str(error)[:300]}"
        return ParseProblem(source, f"line {number}: {reason}")
    return message, []


def _record(line: bytes) -> Mapping[str, Any]:
    try:
        record = json.loads(line.decode("utf-8").strip())
    except UnicodeDecodeError:
        raise BadValue("not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise BadValue(f"not valid JSON: {error.msg} (column {error.colno})") from None
    except RecursionError:
        raise BadValue("not valid JSON: nested too deeply") from None
    except ValueError as error:  # an integer of more than 4,300 digits
        raise BadValue(f"not valid JSON: {error}") from None
    if not isinstance(record, dict):
        raise BadValue("each line must be a JSON object")
    _check_keys(record)
    return record


def _check_keys(record: Mapping[str, Any]) -> None:
    unknown = sorted(set(record) - _JSONL_KEYS)
    if unknown:
        raise BadValue(f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_JSONL_KEYS))}")


def message_from_record(record: Mapping[str, Any], reader: MessageReader) -> InboundMessage:
    """One message from an object with the JSONL keys (the HTTP API, the contact form).

    Raises InputError saying what is wrong. Without an ``id`` the same object gives the same
    generated Message-ID, so a client that sends it twice is deduplicated.
    """
    try:
        _check_keys(record)
        return _record_message(record, json.dumps(record, sort_keys=True, default=str).encode(), reader)
    except BadValue as problem:
        raise InputError(problem.reason) from None


def _record_message(record: Mapping[str, Any], line: bytes, intake: MessageReader) -> InboundMessage:
    text = _text(record, "text").strip()
    if not text:
        raise BadValue("'text' (the message itself) is required")
    from_address = _text(record, "from").strip().lower()
    if from_address and "@" not in from_address:
        raise BadValue("'from' must be an e-mail address")
    sent = _sent_at(record.get("sent_at"))
    message_id = _text(record, "id").strip() or generated_message_id(line)
    return InboundMessage(
        message_id=message_id,
        dedupe_key=dedupe_key(message_id, from_address, sent.isoformat() if sent else "", text),
        channel=_channel(record.get("channel")),
        from_address=from_address,
        from_name=_text(record, "name").strip(),
        to_addresses=(),
        subject=_text(record, "subject").strip(),
        sent_at=sent or intake.received_at,
        # Forms and chats carry no quoted history, so the new text is the whole text.
        body=text,
        full_body=text,
        html="",
        in_reply_to=_text(record, "in_reply_to").strip().strip("<>"),
        auto_kind=AutoKind.OWN_MAIL if from_address and from_address in intake.own_addresses else None,
        order_hint=_text(record, "order").strip().lstrip("#"),
        case_hint=_case(record),
    )


def _text(record: Mapping[str, Any], key: str) -> str:
    """A text field; numbers are accepted too, since ids and order numbers are often written bare."""
    value = record.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BadValue(f"'{key}' must be text")
    if isinstance(value, int) and not -(10**30) < value < 10**30:
        raise BadValue(f"'{key}' is a number too long to be an id")
    text = clean_text(str(value))
    return read_text(text, f"'{key}'", _JSONL_WIDTHS[key]) if key in _JSONL_WIDTHS else text


def _case(record: Mapping[str, Any]) -> str:
    """The case a line names ("42" or "#42"): a case number from 1 to MAX_ID, or nothing."""
    value = record.get("case")
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = value.strip().lstrip("#")
    return str(read_id(value, "'case'"))


def _sent_at(value: Any) -> datetime | None:
    return None if value is None else read_iso_datetime(value, "'sent_at'")


def _channel(value: Any) -> Channel:
    if value is None:
        return Channel.FORM
    try:
        return Channel(value)
    except ValueError:
        allowed = ", ".join(channel.value for channel in Channel)
        raise BadValue(f"'channel' must be one of {allowed}") from None

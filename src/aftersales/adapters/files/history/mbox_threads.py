"""An mbox of the old shared inbox (received and sent mail together), threaded into conversations.

Each message is read by the desk's own mbox reader and MIME parser (adapters/mail: charsets,
HTML bodies, quoted replies cut, attachments), so history reads mail exactly as intake does.
Messages are then threaded by their headers: a message joins the thread of every Message-ID
its In-Reply-To and References name, whichever order they come in. A message without those
headers that is still a reply ("Re:", "AW:", "Fwd:" …, as some mail programs send them) joins
the latest earlier thread with the same subject and the same customer; any other message
without them starts a thread.

A message from one of the store's addresses is a reply; any other is from the customer. The
same message found twice (in the sent and the received folder) is read once. Auto-replies,
delivery reports and list mail are not conversation and are left out. An mbox keeps no
status: every thread is imported closed, at its last message.

Threading needs every message, so the whole mbox is read before the first conversation is
given; what is kept of a message is its text and headers, not its MIME parts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from aftersales.adapters.mail.mbox import MboxMessage, mbox_messages, starts_like_mbox
from aftersales.adapters.mail.message_files import DEFAULT_MAX_MESSAGE_BYTES, over_cap_reason
from aftersales.adapters.mail.parse import parse_email
from aftersales.domain.history import (
    BadRecord,
    HistoryAttachment,
    HistoryConversation,
    HistoryDirection,
    HistoryFormat,
    HistoryMessage,
)
from aftersales.domain.messages import AutoKind, InboundMessage, ParseProblem

# parse_email puts this in for a missing or unreadable Date; no real mail is this old, so a
# message sent at it had no date, and a history message without a date cannot be placed
_NO_DATE = datetime(1900, 1, 1, tzinfo=UTC)
_REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|fwd?|aw|wg|sv|vs|tr|rif|antw|odp)\s*(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE
)
_SUBJECT_TAG = re.compile(r"\[case\s*#?\d+\]", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Mail:
    """What threading and the conversation need of one message, in file order ``number``."""

    number: int
    message: InboundMessage  # without its HTML and whole text: the thread keeps what was written
    outgoing: bool  # sent from one of the store's addresses
    customer: str  # the sender of a received message, the first recipient outside the store of a sent one


def sniff(path: Path) -> bool:
    """Whether the file starts like an mbox: a ``From `` line."""
    try:
        with path.open("rb") as handle:
            return starts_like_mbox(handle.read(64))
    except OSError:
        return False


def read(
    path: Path, *, store_addresses: frozenset[str] = frozenset()
) -> Iterator[HistoryConversation | BadRecord]:
    """The threads of the mbox at ``path`` as conversations, after any message that cannot be
    read (each a ``BadRecord``). ``store_addresses`` are the store's own addresses, whose
    messages are replies; compared without case."""
    own = frozenset(found.strip().lower() for found in store_addresses if found.strip())
    mails: list[_Mail] = []
    seen: set[str] = set()
    try:
        with path.open("rb") as handle:
            for raw in mbox_messages(handle, DEFAULT_MAX_MESSAGE_BYTES):
                found = _mail(path, raw, own)
                if isinstance(found, BadRecord):
                    yield found
                elif found is not None and found.message.dedupe_key not in seen:
                    seen.add(found.message.dedupe_key)
                    mails.append(found)
    except OSError as error:
        yield BadRecord(where=path.name, problem=f"cannot read the file: {error.strerror}")
        return
    for thread in _threads(mails):
        yield _conversation(thread)


def _mail(path: Path, raw: MboxMessage, own: frozenset[str]) -> _Mail | BadRecord | None:
    where = (
        f"{path.name} message {raw.number}"
        if raw.number
        else f"{path.name}, the text before the first From line"
    )
    if raw.over_cap:
        return BadRecord(where=where, problem=over_cap_reason(raw.size, DEFAULT_MAX_MESSAGE_BYTES))
    parsed = parse_email(raw.data, source=where, received_at=_NO_DATE, own_addresses=own)
    if isinstance(parsed, ParseProblem):
        return BadRecord(where=where, problem=parsed.reason)
    message, _ = parsed
    if message.auto_kind not in (None, AutoKind.OWN_MAIL):
        return None
    if message.sent_at == _NO_DATE:
        return BadRecord(
            where=where, problem="no readable Date header, so the message cannot be placed in time"
        )
    outgoing = message.from_address in own
    customer = next((found for found in message.to_addresses if found not in own), "")
    kept = replace(message, html="", full_body="", raw_headers=())
    return _Mail(raw.number, kept, outgoing, customer if outgoing else message.from_address)


def normalised_subject(subject: str) -> str:
    """A subject without reply and forward prefixes or case tags, in lower case."""
    return " ".join(_SUBJECT_TAG.sub(" ", _REPLY_PREFIX.sub("", subject)).split()).lower()


def _threads(mails: list[_Mail]) -> list[list[_Mail]]:
    """The mails grouped into threads, each oldest first; threads in the order they began."""
    in_time = sorted(mails, key=lambda mail: (mail.message.sent_at, mail.number))
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while (up := parent.setdefault(key, key)) != key:
            parent[key] = parent.setdefault(up, up)  # halve the path as we go
            key = parent[key]
        return key

    def join(one: str, other: str) -> None:
        parent[root(one)] = root(other)

    latest_by_subject: dict[tuple[str, str], str] = {}
    for mail in in_time:
        key = _key(mail)
        linked = [found for found in (mail.message.in_reply_to, *mail.message.references) if found]
        for found in linked:
            join(_id_key(found), key)
        subject = (normalised_subject(mail.message.subject), mail.customer)
        is_reply = _REPLY_PREFIX.match(mail.message.subject) is not None
        if not linked and is_reply and subject[0] and subject in latest_by_subject:
            join(key, latest_by_subject[subject])
        root(key)
        latest_by_subject[subject] = key
    threads: dict[str, list[_Mail]] = {}
    for mail in in_time:
        threads.setdefault(root(_key(mail)), []).append(mail)
    return list(threads.values())


def _id_key(message_id: str) -> str:
    return "id:" + message_id


def _key(mail: _Mail) -> str:
    """The thread key of a message: its Message-ID (two messages with one id are one message
    to the mail programs that reply to them)."""
    return _id_key(mail.message.message_id)


def _conversation(thread: list[_Mail]) -> HistoryConversation:
    first, last = thread[0], thread[-1]
    received = [mail for mail in thread if not mail.outgoing]
    customer_email = next((mail.customer for mail in thread if mail.customer), "")
    used: set[str] = set()
    messages = []
    for mail in thread:
        message_id = mail.message.message_id
        if message_id in used:  # one id reused for different mail: still unique in the conversation
            message_id = f"{message_id}#{mail.number}"
        used.add(message_id)
        messages.append(_message(mail, message_id))
    return HistoryConversation(
        source=HistoryFormat.MBOX,
        id=first.message.message_id,
        subject=first.message.subject.strip(),
        status="closed",
        created_at=first.message.sent_at.astimezone(UTC),
        closed_at=last.message.sent_at.astimezone(UTC),
        customer_email=customer_email,
        customer_name=received[0].message.from_name if received else "",
        messages=tuple(messages),
    )


def _message(mail: _Mail, message_id: str) -> HistoryMessage:
    message = mail.message
    return HistoryMessage(
        id=message_id,
        sender=message.from_address or message.from_name or "unknown sender",
        at=message.sent_at.astimezone(UTC),
        direction=HistoryDirection.OUT if mail.outgoing else HistoryDirection.IN,
        body=message.body,
        attachments=tuple(
            HistoryAttachment(name=found.filename, content_type=found.content_type, size=found.size)
            for found in message.attachments
        ),
    )

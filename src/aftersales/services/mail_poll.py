"""Poll the store's support inbox: new mail becomes cases, exactly as file intake makes them.

Bookkeeping is per mailbox (``user@host/folder``): its UIDVALIDITY and the last UID taken in.

- The first poll, and the first after the server renumbered the folder (a new UIDVALIDITY),
  takes in the mail that arrived in the last ``backfill_days`` days (IMAP SEARCH SINCE).
- Every later poll takes in the UIDs above the last one, so mail that arrived while nothing
  polled is taken in on the next poll, however long that was.
- Messages go in ascending UID order, in batches; the last UID moves on only after a batch is
  taken in (each message is its own transaction). A poll that stops half way fetches that
  batch again next time and intake's deduplication skips what it already holds: nothing is
  lost or doubled, and a re-backfill after a UIDVALIDITY change doubles nothing either.
- A message that cannot be read or stored (whatever it raises) is quarantined under its IMAP
  URL and skipped, and the last UID moves past it like any other, so it never stops the inbox.

The mailbox is only read: the adapter never marks, flags, moves or deletes mail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from aftersales.domain.errors import AftersalesError
from aftersales.domain.messages import AttachmentMeta, InboundMessage, ParseProblem
from aftersales.ports import UnitOfWork
from aftersales.services.intake import (
    Incoming,
    Outcome,
    Quarantined,
    quarantine_reason,
    take_in_or_quarantine,
)
from aftersales.services.routing import RoutingKit

FETCH_BATCH = 25  # messages per FETCH: what one batch may hold in memory, and may fetch twice
_SHOWN_FAILURES = 20

ParsedMail = tuple[InboundMessage, Sequence[tuple[AttachmentMeta, bytes]]]
ParseMail = Callable[[str, bytes], ParsedMail | ParseProblem]  # (source, raw bytes)
NewCaseHook = Callable[[int, InboundMessage], None]  # (case id, the message that opened it)
Progress = Callable[[int, int], None]  # (messages done, messages to fetch)


class Mailbox(Protocol):
    """One folder, open for reading (``adapters/mail/imap.py``)."""

    key: str  # "support@store.example@imap.example.com/INBOX"
    uidvalidity: int
    highest_uid: int  # every message in the folder when it was opened has a UID up to this

    def uids_since(self, day: date) -> list[int]:
        """UIDs of mail received on ``day`` or later, ascending."""
        ...

    def uids_above(self, uid: int) -> list[int]: ...
    def fetch(self, uids: Sequence[int]) -> list[tuple[int, bytes]]:
        """(uid, raw bytes) of these messages, ascending; deleted ones are missing."""
        ...

    def source(self, uid: int) -> str:
        """Where a message was read, for the case's record and the quarantine."""
        ...

    def reopen(self) -> None:
        """Connect again after the server dropped the connection; raises when it cannot."""
        ...


class MailboxStates(Protocol):
    """The ``mailbox_state`` rows of one transaction."""

    def state(self, mailbox: str) -> tuple[int, int] | None:
        """(uidvalidity, last_uid), or None before the first poll."""
        ...

    def save(self, mailbox: str, uidvalidity: int, last_uid: int, at: datetime) -> None: ...


class MailboxStatesUnitOfWork(Protocol):
    def __call__(self) -> AbstractContextManager[MailboxStates]: ...


@dataclass(frozen=True, slots=True)
class MailIntake:
    """Where polled mail goes: the desk, the router, the parser, and the mailbox bookkeeping."""

    uow: UnitOfWork
    states: MailboxStatesUnitOfWork
    kit: RoutingKit
    parse: ParseMail
    batch_size: int = FETCH_BATCH
    progress: Progress | None = None


@dataclass(slots=True)
class PollSummary:
    mailbox: str
    backfill: bool  # this poll searched by date (first poll, or a new UIDVALIDITY)
    uidvalidity: int
    last_uid: int = 0
    fetched: int = 0
    new_cases: int = 0
    updated_cases: int = 0
    duplicates: int = 0
    screened: int = 0
    quarantined: int = 0
    failures: list[str] = field(default_factory=list)  # the first few "source: reason"

    def count(self, outcome: Outcome) -> None:
        if outcome is Outcome.NEW_CASE:
            self.new_cases += 1
        elif outcome is Outcome.UPDATED_CASE:
            self.updated_cases += 1
        elif outcome is Outcome.DUPLICATE:
            self.duplicates += 1
        else:
            self.screened += 1

    def as_dict(self) -> dict[str, object]:
        return {
            "mailbox": self.mailbox,
            "backfill": self.backfill,
            "uidvalidity": self.uidvalidity,
            "last_uid": self.last_uid,
            "fetched": self.fetched,
            "new_cases": self.new_cases,
            "updated_cases": self.updated_cases,
            "duplicates": self.duplicates,
            "screened": self.screened,
            "quarantined": self.quarantined,
            "failures": list(self.failures),
        }


def poll_mailbox(
    mailbox: Mailbox,
    intake: MailIntake,
    *,
    now: datetime,
    backfill_days: int,
    on_new_case: NewCaseHook | None = None,
) -> PollSummary:
    """Take in the mailbox's new mail. ``on_new_case`` is called after each new case's
    transaction has committed (e.g. to queue an acknowledgement); if it raises, the poll stops
    with that error and the message is not taken in again."""
    with intake.states() as states:
        stored = states.state(mailbox.key)
    backfill = stored is None or stored[0] != mailbox.uidvalidity
    if stored is None or backfill:
        # mail older than the window is deliberately left out: it counts as handled
        done = mailbox.highest_uid
        uids = mailbox.uids_since((now - timedelta(days=backfill_days)).date())
    else:
        done = stored[1]
        uids = mailbox.uids_above(done)
    summary = PollSummary(mailbox.key, backfill, mailbox.uidvalidity)
    for done_count, batch in _batches(uids, intake.batch_size):
        _take_batch(mailbox, intake, batch, now, summary, on_new_case)
        _save(intake, mailbox, batch[-1], now)
        if intake.progress is not None:
            intake.progress(done_count, len(uids))
    summary.last_uid = max(done, uids[-1] if uids else 0)
    _save(intake, mailbox, summary.last_uid, now)
    return summary


def _batches(uids: Sequence[int], size: int) -> Iterator[tuple[int, Sequence[int]]]:
    """(UIDs up to the batch's end, the batch)."""
    for start in range(0, len(uids), size):
        batch = uids[start : start + size]
        yield start + len(batch), batch


def _take_batch(
    mailbox: Mailbox,
    intake: MailIntake,
    batch: Sequence[int],
    now: datetime,
    summary: PollSummary,
    on_new_case: NewCaseHook | None,
) -> None:
    for uid, data in _fetch(mailbox, intake, batch, now, summary):
        summary.fetched += 1
        source = mailbox.source(uid)
        parsed = _parse(intake, source, data)
        if isinstance(parsed, ParseProblem):
            _quarantine(intake.uow, parsed, now, summary)
            continue
        message, attachments = parsed
        # Whatever one mail raises, it is quarantined and the mailbox position moves past it,
        # so mail that arrives later is still taken in.
        result = take_in_or_quarantine(
            intake.uow, intake.kit, Incoming(message, source, attachments), now=now
        )
        if isinstance(result, Quarantined):
            _count_quarantined(ParseProblem(source, result.reason), summary)
            continue
        summary.count(result.outcome)
        if result.outcome is Outcome.NEW_CASE and result.case_id is not None and on_new_case is not None:
            on_new_case(result.case_id, message)


def _fetch(
    mailbox: Mailbox, intake: MailIntake, batch: Sequence[int], now: datetime, summary: PollSummary
) -> list[tuple[int, bytes]]:
    """The batch's messages. When the server will not send the batch (Dovecot drops the
    connection when it cannot read one message's file), the mailbox is opened again and each
    message asked for alone; one the server still will not send is quarantined, and the
    mailbox position moves past it. When the server cannot be reached again, the poll stops
    with that error, nothing is quarantined, and the next poll asks again."""
    try:
        return mailbox.fetch(batch)
    except AftersalesError:
        mailbox.reopen()
    fetched, refused = _one_by_one(mailbox, batch)
    for uid, said in refused:
        problem = ParseProblem(mailbox.source(uid), f"the IMAP server would not send this message: {said}")
        _quarantine(intake.uow, problem, now, summary)
    return fetched


def _one_by_one(
    mailbox: Mailbox, batch: Sequence[int]
) -> tuple[list[tuple[int, bytes]], list[tuple[int, str]]]:
    fetched: list[tuple[int, bytes]] = []
    refused: list[tuple[int, str]] = []
    for uid in batch:
        try:
            fetched.extend(mailbox.fetch([uid]))
        except AftersalesError as error:
            refused.append((uid, str(error)))
            mailbox.reopen()
    return fetched, refused


def _parse(intake: MailIntake, source: str, data: bytes) -> ParsedMail | ParseProblem:
    """The parser never raises for any bytes; should it ever, that mail is quarantined."""
    try:
        return intake.parse(source, data)
    except Exception as error:
        return ParseProblem(source, quarantine_reason(error))


def _quarantine(uow: UnitOfWork, problem: ParseProblem, now: datetime, summary: PollSummary) -> None:
    with uow() as cases:
        cases.quarantine(problem.source, problem.reason, now)
    _count_quarantined(problem, summary)


def _count_quarantined(problem: ParseProblem, summary: PollSummary) -> None:
    summary.quarantined += 1
    if len(summary.failures) < _SHOWN_FAILURES:
        summary.failures.append(f"{problem.source}: {problem.reason}")


def _save(intake: MailIntake, mailbox: Mailbox, last_uid: int, now: datetime) -> None:
    with intake.states() as states:
        states.save(mailbox.key, mailbox.uidvalidity, last_uid, now)

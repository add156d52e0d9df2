"""Bulk intake with worker processes stores exactly what intake in one process stores.

Given an mbox of 260 customer mails (more than the pool's threshold) where a third are
replies threaded by In-Reply-To, some are auto-replies and one is not mail at all, when it is
taken in with no workers and again, on an emptied database, with two workers, then both
runs leave the same cases, messages, evidence and timelines, and the messages come out of
the pool in the order they were read. Runs on SQLite, and on PostgreSQL when configured.
"""

from __future__ import annotations

import gc
import mailbox
import os
import time
from collections import Counter
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from aftersales.adapters.db import schema as t
from aftersales.adapters.db.repository import BatchedUnitOfWork, SqlUnitOfWork
from aftersales.adapters.mail.message_files import MessageReader, read_raw
from aftersales.domain.messages import ParseProblem
from aftersales.jobs.bulk_intake import POOL_MIN_MESSAGES, Prepared, prepared_messages
from aftersales.services.intake import Incoming, take_in
from aftersales.services.routing import RoutingKit, message_card
from aftersales.settings import Settings
from support.messages import at

MAILS = 260
NOW = at(27, 9)
ASKS = (
    "Where is my order #{order}? Tracking has not moved in a week.",
    "My tumbler from order #{order} arrived with a dented lid. Photo attached.",
    "I received a pink tumbler but ordered navy, order #{order}.",
    "I want to return order #{order}, it does not fit my cup holder.",
    "If order #{order} is not here tomorrow I will dispute the charge with my bank.",
    "Is the lid dishwasher safe?",
)


def _mbox(path: Path) -> Path:
    box = mailbox.mbox(path)
    for number in range(MAILS):
        sender = f"buyer{number % 90}@example.com"
        mail = EmailMessage()
        mail["From"] = sender
        mail["To"] = "support@northwind.example"
        mail["Subject"] = f"Order {1000 + number % 90}"
        mail["Date"] = format_datetime(at(24 + number // 100, 9 + number % 8, number % 60))
        mail["Message-ID"] = f"<m{number}@example.com>"
        if number >= 90:  # the sender's earlier mail: threads by In-Reply-To
            mail["In-Reply-To"] = f"<m{number - 90}@example.com>"
        if number % 37 == 0:
            mail["Auto-Submitted"] = "auto-replied"
        mail.set_content(ASKS[number % len(ASKS)].format(order=1000 + number % 90))
        box.add(mail)
    box.add(b"this line is not an e-mail\n")
    box.close()
    return path


def _intake(engine: Engine, kit: RoutingKit, mbox: Path, data_dir: Path, workers: int) -> list[Prepared]:
    settings = Settings(data_dir=data_dir, policy_file=None)
    batch = BatchedUnitOfWork(engine, data_dir / "attachments", 40)
    reader = MessageReader.of(NOW, [kit.policy.support_email])
    seen = []
    for prepared in prepared_messages(mbox, kit, reader, settings=settings, workers=workers):
        seen.append(prepared)
        item = prepared.item
        if isinstance(item.result, ParseProblem):
            continue
        message, attachments = item.result
        take_in(batch, kit, Incoming(message, item.source, attachments, prepared.card), now=NOW)
    batch.flush()
    return seen


def _stored(engine: Engine) -> dict[str, Any]:
    """What intake stored, keyed by what does not depend on generated ids."""
    with engine.connect() as connection:
        cases = {row.id: row for row in connection.execute(select(t.cases))}
        first_message = {
            row.case_id: row.message_id
            for row in connection.execute(select(t.messages).order_by(t.messages.c.id.desc()))
        }

        def key(case_id: int) -> str:
            return str(first_message[case_id])

        return {
            "cases": sorted(
                (key(c.id), c.route, c.status, c.order_number, c.lead_role, str(c.clocks), c.risk)
                for c in cases.values()
            ),
            "messages": sorted(
                (key(m.case_id), m.message_id) for m in connection.execute(select(t.messages))
            ),
            "evidence": sorted(
                (key(e.case_id), e.key, e.present) for e in connection.execute(select(t.evidence_items))
            ),
            "events": sorted(
                (key(e.case_id), e.kind, e.at.isoformat(), str(e.data))
                for e in connection.execute(select(t.events))
            ),
            "screened": sorted(row.dedupe_key for row in connection.execute(select(t.screened))),
        }


def test_workers_store_exactly_what_one_process_stores(
    uow: SqlUnitOfWork, engine: Engine, kit: RoutingKit, tmp_path: Path
) -> None:
    mbox = _mbox(tmp_path / "inbox.mbox")
    assert MAILS > POOL_MIN_MESSAGES

    alone = _intake(engine, kit, mbox, tmp_path / "alone", workers=0)
    stored_alone = _stored(engine)
    with engine.begin() as connection:
        for table in reversed(t.metadata.sorted_tables):
            connection.execute(table.delete())
    pooled = _intake(engine, kit, mbox, tmp_path / "pooled", workers=2)

    assert _stored(engine) == stored_alone
    assert [p.item.position for p in pooled] == list(range(MAILS + 1))
    assert [p.item.source for p in pooled] == [p.item.source for p in alone]
    assert Counter(type(p.item.result).__name__ for p in pooled) == {"tuple": MAILS, "ParseProblem": 1}


def test_a_card_from_a_worker_carries_the_kit_s_own_route_spec(kit: RoutingKit, tmp_path: Path) -> None:
    mbox = _mbox(tmp_path / "inbox.mbox")
    reader = MessageReader.of(NOW, [kit.policy.support_email])
    settings = Settings(data_dir=tmp_path, policy_file=None)

    cards = [p.card for p in prepared_messages(mbox, kit, reader, settings=settings, workers=2) if p.card]

    assert len(cards) == MAILS - len(range(0, MAILS, 37))  # auto-replies are screened, not routed
    assert all(card.spec is kit.specs[card.routing.route] for card in cards)
    # and each is the card this process makes, every part of it (their slotted dataclasses
    # travel as tuples of values: jobs/bulk_intake.py::_CardPickler.reducer_override)
    here = prepared_messages(mbox, kit, reader, settings=settings, workers=0)
    messages = [p.item.result[0] for p in here if not isinstance(p.item.result, ParseProblem)]
    assert cards == [message_card(kit, m) for m in messages if m.auto_kind is None]


def test_a_worker_s_results_are_let_go_of_without_the_garbage_collector(
    kit: RoutingKit, tmp_path: Path
) -> None:
    # the unpickler keeps what it loads: nothing it loads may lead back to it (a cycle), or
    # every chunk would stay in memory until the collector ran
    from aftersales.jobs.bulk_intake import _dumps, _loads, _prepare, _spool_attachments

    reader = MessageReader.of(NOW, [kit.policy.support_email])
    raws = list(read_raw(_mbox(tmp_path / "inbox.mbox")))[:20]
    data = _dumps([_spool_attachments(_prepare(reader, kit, raw), tmp_path) for raw in raws], kit)
    gc.collect()
    gc.disable()
    try:
        loaded = _loads(data, kit)
        assert [done.prepared.card.spec for done in loaded if done.prepared.card]
        del loaded
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_files_in_transit_left_by_a_killed_run_are_removed(tmp_path: Path) -> None:
    from aftersales.jobs.bulk_intake import STALE_SPOOL_SECONDS, _spool_folder

    settings = Settings(data_dir=tmp_path, policy_file=None)
    stale, fresh = tmp_path / "tmp" / "intake-killed", tmp_path / "tmp" / "intake-running"
    for folder in (stale, fresh):
        folder.mkdir(parents=True)
        (folder / "mail").write_bytes(b"x")
    old = time.time() - STALE_SPOOL_SECONDS - 60
    os.utime(stale, (old, old))
    mine = _spool_folder(settings)
    assert mine.is_dir()
    assert not stale.exists()
    assert fresh.exists()

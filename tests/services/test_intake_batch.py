"""A chunk taken in over the intake batch stores exactly what one message at a time stores.

Given a stored order or two, a case resolved since, and a day of mail that has every kind of
message intake tells apart (new problems, replies by In-Reply-To and by "[case N]", the same
sender writing again about the same order, a reply to a case opened earlier in the same
chunk, a stranger naming another buyer's order, mail without a sender, auto-replies, the
same mail twice, a photo), when it is taken in by ``take_in_few`` in chunks and, on an emptied
database, by ``take_in`` one message at a time, then every table holds the same rows in the
same order; and the chunks cost a few statements each, not ten a message. A second writer
taking the same mail while the first holds its chunk waits, then finds it stored.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, func, select

from aftersales.adapters.db import schema as t
from aftersales.adapters.db.repository import unit_of_work
from aftersales.domain.messages import AttachmentMeta, AutoKind, InboundMessage
from aftersales.domain.orders import LineItem, OrderFacts
from aftersales.services.intake import (
    Incoming,
    IntakeResult,
    Outcome,
    Quarantined,
    receive,
    take_in,
    take_in_few,
)
from aftersales.services.routing import RoutingKit, message_card
from support.messages import at, message

NOW = at(25, 12)
PHOTO = b"\xff\xd8" + bytes(range(256)) * 4


def _order(number: str, sku: str) -> OrderFacts:
    return OrderFacts(
        number=number,
        placed_at=at(10, 9),
        fulfilled_at=at(12, 9),
        carrier="UPS",
        items=(LineItem(sku, "Tumbler", "Navy", 1, Decimal("35.00"), ""),),
        currency="USD",
        total=Decimal("35.00"),
    )


def _store_before(uow: Any) -> None:
    """Two orders of Ana's and a case of hers that was resolved last week."""
    with uow() as cases:
        ana = cases.customer_id("ana@example.com", "Ana", at(9, 9))
        cases.save_order(_order("1043", "TMB-20-NVY"), ana, at(10, 9))
        cases.save_order(_order("1044", "TMB-40-SGE"), ana, at(10, 9))


def _photo(mail: InboundMessage) -> Incoming:
    meta = AttachmentMeta("IMG_1.jpg", "image/jpeg", len(PHOTO), hashlib.sha256(PHOTO).hexdigest())
    return Incoming(replace(mail, attachments=(meta,)), "photo", ((meta, PHOTO),))


def _day(first_case: int) -> list[Incoming]:
    """A day of mail; ``first_case`` is the id of the case the first mail opened the day before."""
    sent = iter(at(24, hour, minute) for hour in range(9, 18) for minute in (0, 20, 40))
    ana = message("Where is my order #1043? Tracking has not moved.", sent=next(sent), message_id="a1@x")
    mails = [
        ana,
        message("Is the lid dishwasher safe?", sender="ben@example.com", sent=next(sent), message_id="b1@x"),
        message(
            "Any news on this?", sent=next(sent), message_id="a2@x", in_reply_to="a1@x", references=("a1@x",)
        ),
        message("Order #1043 still not here, I needed it Friday.", sent=next(sent), message_id="a3@x"),
        message("My tumbler from order #1044 arrived dented.", sent=next(sent), message_id="a4@x"),
        message(
            "Someone else's order #1043 arrived at my door, it's damaged.",
            sender="cleo@example.com",
            sent=next(sent),
            message_id="c1@x",
        ),
        message(
            "Thanks, that sorts it.",
            sender="ben@example.com",
            sent=next(sent),
            message_id="b2@x",
            in_reply_to="b1@x",
            references=("b1@x",),
        ),
        message("Back to the old case", sent=next(sent), message_id="a5@x", case_hint=str(first_case)),
        message("Out of office until Monday", sender="dan@example.com", sent=next(sent), message_id="d1@x"),
        message("No sender at all, order #2001 broke", sender="", sent=next(sent), message_id="n1@x"),
        message("I will dispute the charge for order #1044 with my bank", sent=next(sent), message_id="a6@x"),
        message("Photo of the dent, order #1044", sent=next(sent), message_id="a7@x"),
    ]
    mails[8] = replace(mails[8], auto_kind=AutoKind.AUTO_REPLY)
    incomings = [Incoming(mail, f"day#{n}") for n, mail in enumerate(mails)]
    incomings[-1] = _photo(mails[-1])
    incomings.insert(5, Incoming(ana, "day#again"))  # the same mail twice
    return incomings


def _yesterday() -> list[Incoming]:
    opened = message("The lid of my tumbler leaks, order #1043", sent=at(23, 10), message_id="y1@x")
    other = message("Do you ship to Canada?", sender="ben@example.com", sent=at(23, 11), message_id="y2@x")
    return [Incoming(opened, "yesterday#0"), Incoming(other, "yesterday#1")]


def _resolve(uow: Any, case_id: int) -> None:
    with uow() as cases:
        cases.update_case(case_id, {"status": "resolved", "resolved_at": at(23, 15)})


def _ranked(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every row intake writes, in id order, with ids replaced by their rank in their table."""
    tables = (t.customers, t.cases, t.messages, t.events, t.evidence_items, t.automation_holds, t.attachments)
    keys = {"customer_id": t.customers, "case_id": t.cases, "related_case_id": t.cases, "message_id": None}
    with engine.connect() as connection:
        ranks = {
            table.name: {
                i: n
                for n, i in enumerate(connection.execute(select(table.c.id).order_by(table.c.id)).scalars())
            }
            for table in tables
        }
        found: dict[str, list[dict[str, Any]]] = {}
        for table in (*tables, t.screened):
            rows = []
            for row in connection.execute(select(table).order_by(table.c.id)).mappings():
                values = {k: v for k, v in row.items() if k != "id"}
                for key, target in keys.items():
                    name = (target if target is not None else t.messages).name
                    if table is t.messages and key == "message_id":
                        continue
                    if values.get(key) is not None:
                        values[key] = ranks[name][values[key]]
                if table is t.events and values["data"].get("related_case_id") is not None:
                    values["data"] = values["data"] | {
                        "related_case_id": ranks["cases"][values["data"]["related_case_id"]]
                    }
                rows.append(values)
            found[table.name] = rows
    return found


@contextmanager
def _statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _one_at_a_time(uow: Any, kit: RoutingKit, incomings: Sequence[Incoming]) -> list[IntakeResult]:
    return [take_in(uow, kit, incoming, now=NOW) for incoming in incomings]


def _in_chunks(uow: Any, kit: RoutingKit, incomings: Sequence[Incoming], size: int) -> list[Any]:
    found: list[IntakeResult | Quarantined] = []
    for start in range(0, len(incomings), size):
        found.extend(take_in_few(uow, kit, incomings[start : start + size], now=NOW))
    return found


def _run(uow: Any, kit: RoutingKit, chunk: int | None) -> list[Any]:
    _store_before(uow)
    take = (
        (lambda items: _one_at_a_time(uow, kit, items))
        if chunk is None
        else (lambda items: _in_chunks(uow, kit, items, chunk))
    )
    first = take(_yesterday())
    opened = first[0].case_id
    assert opened is not None
    _resolve(uow, opened)
    return [*first, *take(_day(opened))]


def _emptied(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(t.metadata.sorted_tables):
            connection.execute(table.delete())


def test_a_chunk_stores_exactly_what_one_message_at_a_time_stores(
    uow: Any, engine: Engine, kit: RoutingKit, tmp_path: Path
) -> None:
    with _statements(engine) as one_by_one:
        singly = _run(uow, kit, chunk=None)
    stored_singly = _ranked(engine)
    _emptied(engine)

    with _statements(engine) as statements:
        chunked = _run(unit_of_work(engine, tmp_path / "chunked"), kit, chunk=50)

    assert _ranked(engine) == stored_singly
    assert [r.outcome for r in chunked] == [r.outcome for r in singly]
    assert [r.outcome for r in chunked].count(Outcome.DUPLICATE) == 1
    assert len(statements) * 3 < len(one_by_one)  # SQLite: 57 and 209, the set-up's 12 in each


def test_a_message_that_raises_leaves_its_chunk_to_be_taken_in_one_at_a_time(
    uow: Any, engine: Engine, kit: RoutingKit
) -> None:
    good = message("Is the lid dishwasher safe?", sender="ben@example.com", message_id="g1@x")
    naive = datetime(2026, 11, 24, 10, 5)  # noqa: DTZ001  (storing a naive moment raises)
    bad = message("Where is order #1043?", sent=naive, message_id="bad@x")

    results = take_in_few(uow, kit, [Incoming(good, "good"), Incoming(bad, "bad")], now=NOW)

    assert isinstance(results[0], IntakeResult)
    assert results[0].outcome is Outcome.NEW_CASE
    assert isinstance(results[1], Quarantined)
    with engine.connect() as connection:
        assert connection.execute(select(t.messages.c.message_id)).scalars().all() == ["g1@x"]
        assert connection.execute(select(t.quarantine.c.source)).scalars().all() == ["bad"]


def test_a_subject_longer_than_its_column_is_cut_where_the_case_is_written(
    uow: Any, engine: Engine, kit: RoutingKit
) -> None:
    subject = "Where is my order #1043? " * 30  # 750 characters; the column holds 500
    alone = message("Where is it?", subject=subject, message_id="w1@x")
    chunked = message("Where is it now?", sender="ben@example.com", subject=subject, message_id="w2@x")

    take_in(uow, kit, Incoming(alone, "alone"), now=NOW)
    take_in_few(uow, kit, [Incoming(chunked, "chunked")], now=NOW)

    with engine.connect() as connection:
        subjects = connection.execute(select(t.cases.c.subject).order_by(t.cases.c.id)).scalars().all()
    assert subjects == [subject[:500], subject[:500]]


def test_a_second_writer_taking_the_same_mail_waits_and_finds_it_stored(
    uow: Any, engine: Engine, kit: RoutingKit
) -> None:
    mail = message("Where is my order #1043? Tracking has not moved.", message_id="same@x")
    incoming = replace(Incoming(mail, "first"), card=message_card(kit, mail))
    second: list[Any] = []
    with uow() as cases:  # the first writer: its chunk's lookups made, the sender's row held
        batch = cases.intake_batch([mail], ["1043"])
        writer = threading.Thread(
            target=lambda: second.extend(take_in_few(uow, kit, [Incoming(mail, "second")], now=NOW))
        )
        writer.start()
        writer.join(0.5)
        assert writer.is_alive()  # waiting for the first writer's sender (or write lock)
        first = receive(batch, kit, incoming, now=NOW)
        batch.flush()
    writer.join(30)

    assert first.outcome is Outcome.NEW_CASE
    assert [r.outcome for r in second] == [Outcome.DUPLICATE]
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(t.messages)).scalar_one() == 1
        assert connection.execute(select(func.count()).select_from(t.cases)).scalar_one() == 1

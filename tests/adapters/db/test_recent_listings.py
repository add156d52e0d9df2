"""The queue's listings kept a second: a write of this process shows at once, another's within
the second."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from aftersales.adapters.db.engine import make_engine
from aftersales.adapters.db.recent_listings import RecentListings
from aftersales.adapters.db.repository import SqlUnitOfWork, unit_of_work
from aftersales.domain.cases import CaseStatus
from aftersales.domain.queue import QueueQuery
from aftersales.services.desk import change_status
from aftersales.services.intake import Incoming, take_in
from aftersales.services.routing import RoutingKit
from support.messages import at, case_of, message

OPEN_QUEUE = QueueQuery()


def open_case(uow: SqlUnitOfWork, kit: RoutingKit, text: str, message_id: str) -> int:
    opened: int = case_of(
        take_in(uow, kit, Incoming(message(text, message_id=message_id), "t"), now=at(24, 10))
    )
    return opened


def test_a_listing_is_kept_a_second_and_a_write_here_drops_it(
    engine: Engine, uow: SqlUnitOfWork, kit: RoutingKit, tmp_path: Path
) -> None:
    first = open_case(uow, kit, "Where is my order #1043?", "a@cust.example")
    clock = [100.0]
    listings = RecentListings(engine, unit_of_work(engine, tmp_path, writes=False), clock=lambda: clock[0])
    # another process: its own engine on the same database
    elsewhere = make_engine(engine.url.render_as_string(hide_password=False))
    try:
        assert [row.id for row in listings(OPEN_QUEUE)] == [first]

        second = open_case(
            unit_of_work(elsewhere, tmp_path), kit, "My mug arrived broken, order #1044", "b@c.ex"
        )
        clock[0] += 0.5
        assert [row.id for row in listings(OPEN_QUEUE)] == [first]  # kept: within the second
        clock[0] += 0.6
        assert {row.id for row in listings(OPEN_QUEUE)} == {first, second}  # read again

        change_status(uow, kit, second, CaseStatus.RESOLVED, by="agent@shop.example", at=at(24, 11))
        assert [row.id for row in listings(OPEN_QUEUE)] == [first]  # this process wrote: at once
    finally:
        listings.close()
        elsewhere.dispose()


def test_each_query_is_kept_apart(
    engine: Engine, uow: SqlUnitOfWork, kit: RoutingKit, tmp_path: Path
) -> None:
    case = open_case(uow, kit, "Where is my order #1043?", "a@cust.example")
    listings = RecentListings(engine, unit_of_work(engine, tmp_path, writes=False), clock=lambda: 0.0)
    try:
        everything = QueueQuery(statuses=frozenset(CaseStatus))
        resolved = QueueQuery(statuses=frozenset({CaseStatus.RESOLVED}))

        assert ([r.id for r in listings(everything)], listings(resolved)) == ([case], [])
    finally:
        listings.close()


def test_ten_requests_at_once_read_a_stale_listing_once(
    engine: Engine, uow: SqlUnitOfWork, kit: RoutingKit, tmp_path: Path
) -> None:
    open_case(uow, kit, "Where is my order #1043?", "a@cust.example")
    read = unit_of_work(engine, tmp_path, writes=False)
    reads: list[int] = []

    @contextmanager
    def counted() -> Iterator[Any]:
        reads.append(1)
        time.sleep(0.05)  # a listing that takes a while, as at 100,000 cases
        with read() as cases:
            yield cases

    listings = RecentListings(engine, counted)
    try:
        with ThreadPoolExecutor(max_workers=10) as pool:
            found = list(pool.map(lambda _: listings(OPEN_QUEUE), range(10)))

        assert (len(reads), {len(rows) for rows in found}) == (1, {1})
    finally:
        listings.close()

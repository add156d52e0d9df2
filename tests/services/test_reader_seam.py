"""The reader seam in intake: the case follows the reading, and its timeline says who read it.

Runs on SQLite, and on PostgreSQL when AFTERSALES_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.adapters.mail.message_files import MessageReader
from aftersales.adapters.reader.llm import LlmReader
from aftersales.domain.orders import OrderFacts
from aftersales.domain.policy import ReaderPolicy
from aftersales.domain.routes import Route
from aftersales.jobs.bulk_intake import prepared_messages
from aftersales.services.intake import Incoming, take_in
from aftersales.services.routing import RoutingKit, route_text
from aftersales.settings import Settings
from support.chat_server import ChatServer, error, reading, serving
from support.messages import case_of, case_row, events, message

from .test_bulk_intake import MAILS, NOW, _mbox

LABEL_CREATED = "my order #1043 still says label created after 6 days. Did you ship it?"


@pytest.fixture
def server() -> Iterator[ChatServer]:
    with serving() as running:
        yield running


def with_reader(kit: RoutingKit, server: ChatServer) -> RoutingKit:
    policy = ReaderPolicy(use="always", timeout_seconds=2.0)
    return dataclasses.replace(
        kit, reader=LlmReader(base_url=server.base_url, model="m", policy=policy, specs=kit.specs)
    )


@pytest.mark.parametrize(
    ("answers", "route", "read_by"),
    [
        ([reading("cancel_or_change", quotes=("Did you ship it?",))], "cancel_or_change", "llm"),
        ([error(503), error(503)], "shipping_delay", "local_fallback"),
    ],
)
def test_the_case_takes_the_route_of_the_reading_and_the_timeline_records_the_reader(
    uow: SqlUnitOfWork, kit: RoutingKit, server: ChatServer, answers: list[Any], route: str, read_by: str
) -> None:
    server.script = list(answers)
    msg = message(LABEL_CREATED, subject="Order #1043")
    case_id = case_of(take_in(uow, with_reader(kit, server), Incoming(msg, "test"), now=msg.sent_at))
    assert case_row(uow, case_id).route == route
    routed = next(data for kind, _, data in events(uow, case_id) if kind == "routed")
    assert (routed["route"], routed["read_by"]) == (route, read_by)
    assert (read_by == "local_fallback") == ("HTTP 503" in routed["reader_note"])


def test_without_a_second_reader_the_timeline_says_the_local_reader_decided(
    uow: SqlUnitOfWork, kit: RoutingKit
) -> None:
    msg = message(LABEL_CREATED)
    case_id = case_of(take_in(uow, kit, Incoming(msg, "test"), now=msg.sent_at))
    routed = next(data for kind, _, data in events(uow, case_id) if kind == "routed")
    assert (routed["read_by"], routed["reader_note"]) == ("local", "")


def test_a_message_naming_a_stored_order_is_read_once_before_the_transaction(
    uow: SqlUnitOfWork, kit: RoutingKit, server: ChatServer
) -> None:
    msg = message(LABEL_CREATED)
    with uow() as cases:
        cases.save_order(OrderFacts(number="1043", placed_at=msg.sent_at), None, msg.sent_at)
    server.script = [reading("shipping_delay")]
    case_id = case_of(take_in(uow, with_reader(kit, server), Incoming(msg, "test"), now=msg.sent_at))
    assert (case_row(uow, case_id).route, case_row(uow, case_id).order_number) == (
        "shipping_delay",
        "1043",
    )
    assert len(server.requests) == 1


def test_worker_processes_each_ask_the_server_with_their_own_connection(
    kit: RoutingKit, server: ChatServer, tmp_path: Path
) -> None:
    server.default = reading("shipping_delay")
    policy = ReaderPolicy(use="always", timeout_seconds=5.0, per_minute=10_000)
    reader = LlmReader(base_url=server.base_url, model="m", policy=policy, specs=kit.specs)
    mbox = _mbox(tmp_path / "inbox.mbox")
    messages = MessageReader.of(NOW, [kit.policy.support_email])
    settings = Settings(data_dir=tmp_path, policy_file=None)
    prepared = prepared_messages(
        mbox, dataclasses.replace(kit, reader=reader), messages, settings=settings, workers=2
    )
    cards = [p.card for p in prepared if p.card]
    assert len(cards) == MAILS - len(range(0, MAILS, 37))
    assert {c.read_by for c in cards} == {"llm"}
    assert len(server.requests) == len(cards)


# ---------------------------------------------------------------- the semantic reader's seam
CANADA = "Hello, do you ship to Canada and roughly how long does it take to get there? Order #1043"


class CountingMeaning:
    """A stand-in semantic reader (our own seam, not an outside service): counts what it reads."""

    def __init__(self, route: Route = Route.PRE_PURCHASE) -> None:
        self.route = route
        self.read: list[str] = []

    def __call__(self, text: str) -> dict[Route, float]:
        self.read.append(text)
        return {route: 0.9 if route is self.route else 0.1 / 9 for route in Route}


@pytest.mark.parametrize(
    ("text", "forced", "asked"),
    [
        pytest.param(CANADA, None, True, id="unsure: asked"),
        pytest.param("The mug arrived in pieces, photo attached.", None, False, id="sure: not asked"),
        pytest.param(CANADA, Route.REVIEW, False, id="a route the source gives: not asked"),
        pytest.param(
            "Bonjour, j'ai choisi la mauvaise couleur, pouvez-vous la changer ?",
            None,
            False,
            id="French: not asked",
        ),
    ],
)
def test_the_semantic_reader_is_asked_only_when_the_router_is_unsure_of_english(
    kit: RoutingKit, text: str, forced: Route | None, asked: bool
) -> None:
    meaning = CountingMeaning()
    routing, _ = route_text(dataclasses.replace(kit, semantic=meaning), text, forced=forced)
    assert (meaning.read == [text]) is asked
    assert (routing.probabilities != {}) is asked


def test_a_meaning_read_before_is_not_asked_again(kit: RoutingKit) -> None:
    meaning = CountingMeaning()
    semantic_kit = dataclasses.replace(kit, semantic=meaning)
    first, _ = route_text(semantic_kit, CANADA)
    again, _ = route_text(semantic_kit, CANADA, meaning=first.probabilities)
    assert (len(meaning.read), again) == (1, first)


def test_intake_asks_the_semantic_reader_once_even_when_the_order_is_stored(
    uow: SqlUnitOfWork, kit: RoutingKit
) -> None:
    msg = message(CANADA)
    with uow() as cases:
        cases.save_order(OrderFacts(number="1043", placed_at=msg.sent_at), None, msg.sent_at)
    meaning = CountingMeaning()
    case_id = case_of(
        take_in(uow, dataclasses.replace(kit, semantic=meaning), Incoming(msg, "test"), now=msg.sent_at)
    )
    assert (case_row(uow, case_id).route, case_row(uow, case_id).order_number) == ("pre_purchase", "1043")
    assert len(meaning.read) == 1

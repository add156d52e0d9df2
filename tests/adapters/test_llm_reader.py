"""The language-model reader against a chat-completions server on 127.0.0.1 (tests/support/chat_server.py).

Each row scripts the server's answers and says what the card must show: the route it follows,
who read it, why, and how many requests the reader made. Every failure (garbage, a route
outside the table, a quote not in the message, no answer in time, 429, 5xx) is retried once,
then the local reading stands (``local_fallback``) within 2 x timeout + 2 s.
"""

from __future__ import annotations

import dataclasses
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete

from aftersales.adapters.db import schema
from aftersales.adapters.db.reader_cache import SqlReadingCache
from aftersales.adapters.policy.file import default_policy_text, parse_policy
from aftersales.adapters.reader.llm import LlmReader
from aftersales.domain.card import DecisionCard, card_to_dict
from aftersales.domain.corrections import LabelSource, RouteLabel, route_check
from aftersales.domain.policy import ReaderPolicy
from aftersales.domain.reading import ReadingExample
from aftersales.domain.routes import Route
from aftersales.ports import ReadingCache
from aftersales.services.routing import RoutingKit, build_card
from aftersales.settings import LlmSettings, Settings
from aftersales.wiring import build_routing_kit, open_desk, store_specs
from support.chat_server import Answer, ChatServer, error, reading, serving

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
# the local reader opens a shipping-delay case for this; the scripted model reads another route
LABEL_CREATED = (
    "my order #1043 still says label created after 6 days. Did you ship it? "
    "Call me on +1 (415) 555-0134 or write to jo.smith@example.com, I live at 12 Oak Street."
)
SHIPPING_QUOTE = "still says label created after 6 days"
CANCEL_QUOTE = "Did you ship it?"
UNSURE = "hmm, about the thing I got"  # the local reader is unsure (confidence below 0.5)
SURE = "The mug arrived broken, the handle snapped off in the box. Photo attached."


@pytest.fixture
def server() -> Iterator[ChatServer]:
    with serving() as running:
        yield running


def reader_kit(
    kit: RoutingKit, base_url: str, cache: ReadingCache | None = None, **policy: object
) -> RoutingKit:
    settings = ReaderPolicy(**{"use": "always", "timeout_seconds": 2.0} | policy)  # type: ignore[arg-type]
    reader = LlmReader(
        base_url=base_url, model="test-model", policy=settings, specs=kit.specs, cache=lambda: cache
    )
    return dataclasses.replace(kit, reader=reader)


def card_of(kit: RoutingKit, text: str = LABEL_CREATED) -> DecisionCard:
    return build_card(kit, text, now=NOW)


# ----------------------------------------------------------------------------- answers


@dataclass(frozen=True)
class Row:
    name: str
    answers: list[Answer]
    route: Route
    read_by: str
    note: str  # a part of reader_note
    requests: int


ROWS = [
    Row(
        "a good answer",
        [reading("cancel_or_change", quotes=(CANCEL_QUOTE,))],
        Route.CANCEL_OR_CHANGE,
        "llm",
        "reads as cancel_or_change",
        1,
    ),
    Row(
        "garbage JSON twice",
        [Answer("{route: shipping"), Answer("not json")],
        Route.SHIPPING_DELAY,
        "local_fallback",
        "not JSON",
        2,
    ),
    Row(
        "a route outside the table twice",
        [reading("lost_parcel")] * 2,
        Route.SHIPPING_DELAY,
        "local_fallback",
        "'lost_parcel' is not in the route table",
        2,
    ),
    Row(
        "a quote not in the message twice",
        [reading("shipping_delay", quotes=("I want a refund now",))] * 2,
        Route.SHIPPING_DELAY,
        "local_fallback",
        "is not in the message",
        2,
    ),
    Row(
        "a flag outside the list twice",
        [reading("shipping_delay", flags=("furious",))] * 2,
        Route.SHIPPING_DELAY,
        "local_fallback",
        "flags outside the flag list: furious",
        2,
    ),
    Row(
        "429, then a good answer",
        [error(429, **{"Retry-After": "0"}), reading("cancel_or_change", quotes=(CANCEL_QUOTE,))],
        Route.CANCEL_OR_CHANGE,
        "llm",
        "reads as cancel_or_change",
        2,
    ),
    Row(
        "garbage, then a good answer",
        [Answer("{"), reading("cancel_or_change", quotes=(CANCEL_QUOTE,))],
        Route.CANCEL_OR_CHANGE,
        "llm",
        "reads as cancel_or_change",
        2,
    ),
    Row(
        "500 twice",
        [error(500), error(500)],
        Route.SHIPPING_DELAY,
        "local_fallback",
        "HTTP 500; retried: HTTP 500",
        2,
    ),
    Row(
        "an answer that is not a chat completion",
        [Answer(raw=b'{"ok": true}')] * 2,
        Route.SHIPPING_DELAY,
        "local_fallback",
        "not a chat completion",
        2,
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_the_card_follows_the_reading_or_falls_back_to_the_local_one(
    kit: RoutingKit, server: ChatServer, row: Row
) -> None:
    server.script = list(row.answers)
    card = card_of(reader_kit(kit, server.base_url))
    data = card_to_dict(card)
    assert (data["route"], data["read_by"]) == (row.route.value, row.read_by)
    assert row.note in data["reader_note"]
    if row.read_by == "local_fallback":  # the reason is in the trace too
        assert data["trace"]["decided_by"].endswith("; " + data["reader_note"])
    assert len(server.requests) == row.requests
    # evidence, lead and the first reply follow the route the card took
    assert card.spec.route is row.route
    assert data["lead"]["role"] == kit.specs[row.route].lead
    assert [e.label for e in card.evidence.items] == [e.label for e in kit.specs[row.route].evidence]


def test_the_language_model_s_route_leads_with_its_quotes_in_the_trace(
    kit: RoutingKit, server: ChatServer
) -> None:
    server.script = [reading("cancel_or_change", quotes=(CANCEL_QUOTE,), flags=("angry",))]
    data = card_to_dict(card_of(reader_kit(kit, server.base_url)))
    assert data["trace"]["decided_by"] == (
        "read by the language model as cancel_or_change; the local reader read shipping_delay"
    )
    assert "shipping_delay" in data["secondary_routes"]
    quote = next(m for m in data["trace"]["matches"] if m["reason"] == "reader")
    assert LABEL_CREATED[quote["start"] : quote["end"]] == CANCEL_QUOTE
    assert data["flags"]["angry"] is True
    assert data["language"] == "en"


def test_the_request_asks_for_json_of_a_schema_built_from_the_route_table(
    kit: RoutingKit, server: ChatServer
) -> None:
    server.script = [reading("shipping_delay")]
    card_of(reader_kit(kit, server.base_url))
    (request,) = server.received()
    assert request["model"] == "test-model"
    response_format = request["response_format"]
    assert response_format["type"] == "json_schema"
    schema_ = response_format["json_schema"]["schema"]
    assert schema_["properties"]["route"]["enum"] == [r.value for r in kit.specs]
    system = request["messages"][0]["content"]
    assert all(f"- {r.value}: {s.title}." in system for r, s in kit.specs.items())


def test_a_store_route_override_reaches_the_prompt(kit: RoutingKit, server: ChatServer) -> None:
    text = default_policy_text() + '\n[routes.review]\ntitle = "Marketplace and social reviews"\n'
    specs = store_specs(parse_policy(text))
    reader = LlmReader(base_url=server.base_url, model="m", policy=ReaderPolicy(use="always"), specs=specs)
    card_of(dataclasses.replace(kit, specs=specs, reader=reader))
    assert "- review: Marketplace and social reviews." in server.received()[0]["messages"][0]["content"]


# ----------------------------------------------------------------------------- redaction


@pytest.mark.parametrize(
    ("redact", "sent"),
    [
        (True, {"jo.smith@example.com": False, "555-0134": False, "12 Oak Street": False, "#1043": True}),
        (False, {"jo.smith@example.com": True, "555-0134": True, "12 Oak Street": True, "#1043": True}),
    ],
)
def test_with_redact_on_no_e_mail_address_phone_or_street_reaches_the_server(
    kit: RoutingKit, server: ChatServer, redact: bool, sent: dict[str, bool]
) -> None:
    server.script = [reading("shipping_delay", quotes=(SHIPPING_QUOTE,))]
    card_of(reader_kit(kit, server.base_url, redact=redact))
    body = b"".join(server.requests).decode()
    assert {part: part in body for part in sent} == sent


def test_a_quote_beside_a_masked_part_still_lands_on_the_customer_s_words(
    kit: RoutingKit, server: ChatServer
) -> None:
    server.script = [reading("shipping_delay", quotes=("Did you ship it?",))]
    data = card_to_dict(card_of(reader_kit(kit, server.base_url)))
    quote = next(m for m in data["trace"]["matches"] if m["reason"] == "reader")
    assert LABEL_CREATED[quote["start"] : quote["end"]] == "Did you ship it?"


# ----------------------------------------------------------------------------- when it reads


@pytest.mark.parametrize(
    ("use", "text", "requests", "read_by"),
    [
        ("never", UNSURE, 0, "local"),
        ("when_unsure", SURE, 0, "local"),
        ("when_unsure", UNSURE, 1, "llm"),
        ("always", SURE, 1, "llm"),
    ],
)
def test_use_decides_which_messages_the_language_model_reads(
    kit: RoutingKit, server: ChatServer, use: str, text: str, requests: int, read_by: str
) -> None:
    server.default = reading("review")
    card = card_of(reader_kit(kit, server.base_url, use=use), text)
    assert (len(server.requests), card.read_by) == (requests, read_by)


def test_a_route_set_by_the_message_s_source_is_not_read_again(kit: RoutingKit, server: ChatServer) -> None:
    card = build_card(reader_kit(kit, server.base_url), LABEL_CREATED, now=NOW, route=Route.CHARGEBACK_RISK)
    assert (card.routing.route, card.read_by, server.requests) == (Route.CHARGEBACK_RISK, "local", [])


def test_past_the_per_minute_limit_the_local_reading_stands(kit: RoutingKit, server: ChatServer) -> None:
    server.default = reading("shipping_delay")
    limited = reader_kit(kit, server.base_url, per_minute=1)
    first, second = card_of(limited), card_of(limited, LABEL_CREATED + " Anyone?")
    assert (first.read_by, second.read_by) == ("llm", "local_fallback")
    assert "per-minute limit of 1" in second.reader_note
    assert len(server.requests) == 1


# ----------------------------------------------------------------------------- time bound


def test_an_answer_slower_than_the_timeout_falls_back_within_twice_the_timeout_plus_two_seconds(
    kit: RoutingKit, server: ChatServer
) -> None:
    server.default = dataclasses.replace(reading("shipping_delay"), delay=4.0)
    started = time.monotonic()
    card = card_of(reader_kit(kit, server.base_url, timeout_seconds=1.0))
    took = time.monotonic() - started
    assert card.read_by == "local_fallback"
    assert "no answer within 1 s" in card.reader_note
    assert took < 2 * 1.0 + 2


def test_a_server_that_is_not_there_falls_back(kit: RoutingKit) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    card = card_of(reader_kit(kit, f"http://127.0.0.1:{port}/v1", timeout_seconds=1.0))
    assert card.read_by == "local_fallback"
    assert "cannot reach" in card.reader_note


# ----------------------------------------------------------------------------- the cache


@pytest.fixture
def cache(engine: Engine) -> SqlReadingCache:
    with engine.begin() as connection:
        connection.execute(delete(schema.reader_cache))
    return SqlReadingCache(engine)


def test_a_second_read_of_the_same_message_comes_from_the_cache(
    kit: RoutingKit, server: ChatServer, cache: SqlReadingCache
) -> None:
    server.script = [reading("shipping_delay", quotes=(SHIPPING_QUOTE,))]
    first = card_of(reader_kit(kit, server.base_url, cache))
    # another process: another reader over the same database
    second = card_of(reader_kit(kit, server.base_url, cache))
    assert len(server.requests) == 1
    assert (first.routing.route, second.routing.route) == (Route.SHIPPING_DELAY, Route.SHIPPING_DELAY)
    assert (second.read_by, second.reader_note) == ("llm", "reads as shipping_delay (cached reading)")
    assert card_to_dict(second)["trace"]["matches"] == card_to_dict(first)["trace"]["matches"]


def test_a_fallback_is_not_cached(kit: RoutingKit, server: ChatServer, cache: SqlReadingCache) -> None:
    server.script = [error(500), error(500), reading("shipping_delay")]
    first = card_of(reader_kit(kit, server.base_url, cache))
    second = card_of(reader_kit(kit, server.base_url, cache))
    assert (first.read_by, second.read_by, len(server.requests)) == ("local_fallback", "llm", 3)


def test_a_cache_without_its_table_costs_a_request_not_the_reading(
    kit: RoutingKit, server: ChatServer, tmp_path: Path
) -> None:
    from aftersales.adapters.db.engine import make_engine

    unmigrated = SqlReadingCache(make_engine(f"sqlite:///{tmp_path / 'empty.db'}"))
    server.default = reading("shipping_delay")
    card = card_of(reader_kit(kit, server.base_url, unmigrated))
    assert card.read_by == "llm"
    assert unmigrated.last_error == "the reader cache cannot be written (OperationalError)"


# ----------------------------------------------------------------------------- wiring


def test_the_three_variables_configure_the_reader_and_its_cache(server: ChatServer, tmp_path: Path) -> None:
    server.default = reading("shipping_delay")
    llm = LlmSettings(server.base_url, "test-model", "secret-key")
    settings = Settings(data_dir=tmp_path, policy_file=None, llm=llm)
    kit = build_routing_kit(settings, reader_use="always")
    assert isinstance(kit.reader, LlmReader)
    cards = [card_of(kit), card_of(build_routing_kit(settings, reader_use="always"))]
    assert [c.read_by for c in cards] == ["llm", "llm"]
    assert len(server.requests) == 1  # the second kit found the reading in the store's database
    assert server.authorizations == ["Bearer secret-key"]
    assert build_routing_kit(Settings(data_dir=tmp_path, policy_file=None)).reader is None


def test_the_store_s_corrected_messages_are_examples_in_the_prompt_and_masked_too(
    kit: RoutingKit, server: ChatServer
) -> None:
    examples = [ReadingExample("Parcel for bo@example.net still not here", Route.SHIPPING_DELAY)]
    reader = LlmReader(
        base_url=server.base_url,
        model="m",
        policy=ReaderPolicy(use="always"),
        specs=kit.specs,
        examples=lambda: examples,
    )
    card_of(dataclasses.replace(kit, reader=reader))
    system = server.received()[0]["messages"][0]["content"]
    assert '"Parcel for [email] still not here" -> shipping_delay' in system


def test_the_desk_s_re_routed_cases_reach_the_prompt_of_the_wired_reader(
    server: ChatServer, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, policy_file=None, llm=LlmSettings(server.base_url, "m", ""))
    desk = open_desk(settings)
    with desk.uow() as cases:
        for number, source in enumerate((LabelSource.CONFIRMATION, LabelSource.CORRECTION), 1):
            label = RouteLabel(
                id=0,
                case_id=None,
                text=f"gift card code {number} not working",
                route=Route.PRE_PURCHASE,
                source=source,
                by="Dana",
                at=NOW,
            )
            cases.add_route_label(label)
    desk.engine.dispose()
    server.default = reading("shipping_delay")
    card_of(build_routing_kit(settings, reader_use="always"))
    system = server.received()[0]["messages"][0]["content"]
    correction, confirmation = (system.index(f'"gift card code {n} not working"') for n in (2, 1))
    assert correction < confirmation  # re-routed cases first


@pytest.mark.parametrize(
    ("text", "answer", "unsure"),
    [
        (LABEL_CREATED, "cancel_or_change", True),  # the readers disagree: a person checks the route
        (SURE, "damaged_item", False),  # they agree, and the local reader was sure
        (UNSURE, "other", True),  # they agree, but the local reader was unsure
    ],
)
def test_a_reading_is_unsure_when_the_readers_disagree_or_the_local_one_was_unsure(
    kit: RoutingKit, server: ChatServer, text: str, answer: str, unsure: bool
) -> None:
    server.default = reading(answer)
    card = card_of(reader_kit(kit, server.base_url), text)
    assert card.reading is not None
    assert (card.reading.unsure, card.reading.local_route) == (
        unsure,
        build_card(kit, text, now=NOW).routing.route,
    )


def test_a_cache_that_cannot_open_costs_a_request_not_the_reading(
    kit: RoutingKit, server: ChatServer
) -> None:
    def broken() -> ReadingCache:
        raise OSError("read-only file system")

    server.default = reading("shipping_delay")
    reader = LlmReader(
        base_url=server.base_url, model="m", policy=ReaderPolicy(use="always"), specs=kit.specs, cache=broken
    )
    assert card_of(dataclasses.replace(kit, reader=reader)).read_by == "llm"


def test_a_server_that_refuses_structured_outputs_is_asked_again_without_them(
    kit: RoutingKit, server: ChatServer
) -> None:
    server.script = [error(400, "response_format json_schema is not supported"), reading("shipping_delay")]
    card = card_of(reader_kit(kit, server.base_url))
    first, second = server.received()
    assert ("response_format" in first, "response_format" in second) == (True, False)
    assert card.read_by == "llm"


def test_a_case_whose_readers_disagree_carries_check_the_route(kit: RoutingKit, server: ChatServer) -> None:
    server.default = reading("wrong_item")
    card = card_of(reader_kit(kit, server.base_url), SURE)
    assert (card.routing.route, card.read_by) == (Route.WRONG_ITEM, "llm")
    assert route_check(card) == (
        "the readers disagree: the language model read wrong_item, the local reader damaged_item"
    )
    server.default = reading("damaged_item")
    agreed = card_of(reader_kit(kit, server.base_url), SURE)
    assert route_check(agreed) == ""

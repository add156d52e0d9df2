"""Saved replies, greetings and first names: names and templates in, text and problems out."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from aftersales.domain.greetings import first_name, greeting
from aftersales.domain.orders import ScanStatus
from aftersales.domain.routes import Route
from aftersales.domain.saved_replies import (
    ReplyFacts,
    SavedReply,
    fill,
    last_scan_text,
    offered,
    template_problems,
)

NY = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("display_name", "address", "expected"),
    [
        pytest.param("Anna Berg", "anna@example.com", "Anna", id="first of two names"),
        pytest.param("Berg, Anna", "ab@example.com", "Anna", id="family name first"),
        pytest.param('"Dr. Anna Berg"', "", "Anna", id="quoted, with a title"),
        pytest.param("anna", "ab@example.com", "Anna", id="typed in lower case"),
        pytest.param("ANNE-MARIE DUPONT", "", "Anne-Marie", id="typed in capitals, hyphenated"),
        pytest.param("DeShawn Carter", "", "DeShawn", id="inner capitals kept"),
        pytest.param("José", "", "José", id="accents kept"),
        pytest.param("", "sam.k99@example.com", "", id="no name: never from the address"),
        pytest.param("sam.k99", "sam.k99@example.com", "", id="the local part as the name"),
        pytest.param("Sam", "sam@example.com", "", id="the local part again, capitalised"),
        pytest.param("sam.k99@example.com", "sam.k99@example.com", "", id="the address as the name"),
        pytest.param("k99", "", "", id="digits"),
        pytest.param("Customer Service", "", "", id="a mailbox, not a person"),
        pytest.param("Northwind Support", "", "Northwind", id="a shop's name reads as a name"),
        pytest.param("J.", "", "", id="an initial"),
    ],
)
def test_first_name(display_name: str, address: str, expected: str) -> None:
    assert first_name(display_name, address) == expected


@pytest.mark.parametrize(
    ("name", "language", "expected"),
    [
        ("Anna", "en", "Hello Anna,"),
        ("", "en", "Hello,"),
        ("Anna", "fr", "Bonjour Anna,"),
        ("", "de", "Hallo,"),
        ("Anna", "xx", "Hello Anna,"),
    ],
)
def test_greeting(name: str, language: str, expected: str) -> None:
    assert greeting(name, language) == expected


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        pytest.param("{greeting} Order {order_number} is on its way.", [], id="known variables"),
        pytest.param("Use {{braces}} like {{this}}.", [], id="literal braces"),
        pytest.param(
            "Hello {frist_name}",
            ["uses the unknown variable {frist_name} (did you mean {first_name}?)"],
            id="a typo",
        ),
        pytest.param("Hi {name}", ["uses the unknown variable {name}"], id="an unknown name"),
        pytest.param(
            "Hi { first_name }",
            ["has a brace that is not a variable, near 'Hi { first_nam'"],
            id="spaces inside",
        ),
        pytest.param("Hi {}", ["has a brace that is not a variable, near 'Hi {}'"], id="empty braces"),
    ],
)
def test_template_problems(text: str, problems: list[str]) -> None:
    found = template_problems(text)

    assert len(found) == len(problems)
    for message, start in zip(found, problems, strict=True):
        assert message.startswith(start), message


FACTS = ReplyFacts(
    store_name="Northwind Tumblers",
    first_name="Anna",
    order_number="#1043",
    last_scan_status=ScanStatus.IN_TRANSIT,
    last_scan_at=datetime(2026, 11, 30, 13, 0, tzinfo=NY),
    last_scan_location="Memphis, TN",
    promised_at=datetime(2026, 12, 8, 10, 0, tzinfo=NY),
    lead="Marcus Lee",
)
TRACKING = (
    "{greeting} Order {order_number}: {last_scan}. {lead} will write again by {promised_time}. {store_name}"
)


@pytest.mark.parametrize(
    ("language", "facts", "text", "missing"),
    [
        pytest.param(
            "en",
            FACTS,
            "Hello Anna, Order #1043: in transit (Memphis, TN), Monday 30 November, 13:00 EST. "
            "Marcus Lee will write again by Tuesday 8 December, 10:00 EST. Northwind Tumblers",
            (),
            id="every fact known",
        ),
        pytest.param(
            "fr",
            FACTS,
            "Bonjour Anna, Order #1043: en transit (Memphis, TN), lundi 30 novembre, 13:00 EST. "
            "Marcus Lee will write again by mardi 8 décembre, 10:00 EST. Northwind Tumblers",
            (),
            id="in French",
        ),
        pytest.param(
            "en",
            ReplyFacts(store_name="Northwind Tumblers", promised_at=FACTS.promised_at),
            "Hello, Order : . will write again by Tuesday 8 December, 10:00 EST. Northwind Tumblers",
            ("order_number", "last_scan", "lead"),
            id="nothing known but the promise",
        ),
    ],
)
def test_fill(language: str, facts: ReplyFacts, text: str, missing: tuple[str, ...]) -> None:
    saved = SavedReply(name="Tracking", text=TRACKING, language=language)

    filled = fill(saved, facts)

    assert (filled.text, filled.missing) == (text, missing)


def test_a_missing_first_name_leaves_no_space_before_the_comma() -> None:
    saved = SavedReply(name="Hi", text="Hi {first_name}, thanks.", language="en")

    filled = fill(saved, ReplyFacts(store_name="N"))

    assert (filled.text, filled.missing) == ("Hi, thanks.", ("first_name",))


def test_last_scan_without_a_status_or_place_is_its_time() -> None:
    facts = ReplyFacts(store_name="N", last_scan_at=FACTS.last_scan_at)

    assert last_scan_text(facts, "de") == "Montag 30. November, 13:00 EST"


def test_offered_keeps_the_route_and_any_in_the_languages_order() -> None:
    saved = [
        SavedReply(name="any en", text="x", language="en"),
        SavedReply(name="damage en", text="x", language="en", route=Route.DAMAGED_ITEM),
        SavedReply(name="ship en", text="x", language="en", route=Route.SHIPPING_DELAY),
        SavedReply(name="ship fr", text="x", language="fr", route=Route.SHIPPING_DELAY),
        SavedReply(name="ship de", text="x", language="de", route=Route.SHIPPING_DELAY),
    ]

    chosen = offered(saved, Route.SHIPPING_DELAY, ["fr", "en"])

    assert [s.name for s in chosen] == ["ship fr", "any en", "ship en"]

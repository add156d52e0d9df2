"""The route drafts: greeted by first name, and the pre-purchase draft answered from the
store's FAQ entries (the default policy's) with the rest promised the same business day.

The demo store is open Mon–Thu 09:00–12:00 + 13:00–17:00, Fri 09:00–12:00 + 13:00–16:00 and
Sat 10:00–13:00 (America/New_York); Thursday 26 November 2026 is Thanksgiving.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from aftersales.domain.routes import Route
from aftersales.services.routing import RoutingKit, build_card, message_card, same_day_answer_by
from support.messages import message

NY = ZoneInfo("America/New_York")
BEFORE_BUYING = "Is it dishwasher safe? Do you ship to Canada?"


def ny(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=NY)


def test_the_pre_purchase_draft_answers_both_questions_from_the_faq(kit: RoutingKit) -> None:
    card = build_card(kit, BEFORE_BUYING, now=ny(12, 3, 10), customer_first_name="Anna")

    assert card.routing.route is Route.PRE_PURCHASE
    assert card.first_reply == (
        "Hello Anna,\n\n"
        "Thanks for asking before you buy.\n\n"
        "Yes: our stainless steel tumblers and mugs are dishwasher safe (top rack). Please wash the "
        "slider lids by hand to keep their seals tight.\n\n"
        "Yes, we ship to Canada: delivery takes 5 to 10 business days after your order ships, and "
        "every parcel is tracked.\n\n"
        "If we have missed any part of your question, we will answer it by Thursday 3 December, 17:00 EST.\n\n"
        "Northwind Tumblers support"
    )
    assert card.reply_check.ok


def test_a_question_the_faq_does_not_answer_is_promised_today(kit: RoutingKit) -> None:
    card = build_card(kit, "Does the 20oz lid fit the 30oz tumbler? I want to buy one.", now=ny(12, 3, 10))

    assert card.routing.route is Route.PRE_PURCHASE
    assert card.first_reply == (
        "Hello,\n\n"
        "Thanks for asking before you buy.\n\n"
        "We are checking the exact answer against our product and shipping details and will reply by "
        "Thursday 3 December, 17:00 EST.\n\n"
        "Northwind Tumblers support"
    )


@pytest.mark.parametrize(
    ("now", "answer_by"),
    [
        pytest.param(ny(12, 3, 10), ny(12, 3, 17), id="open: today's close"),
        pytest.param(ny(12, 3, 8), ny(12, 3, 17), id="before opening: today's close"),
        pytest.param(ny(12, 3, 16, 30), ny(12, 4, 16), id="half an hour before close: the next day's"),
        pytest.param(ny(12, 3, 18), ny(12, 4, 16), id="after hours: the next open day's close"),
        pytest.param(ny(12, 5, 11), ny(12, 5, 13), id="the Saturday morning shift"),
        pytest.param(ny(12, 5, 14), ny(12, 7, 17), id="Saturday afternoon: Monday"),
        pytest.param(ny(11, 25, 18), ny(11, 27, 16), id="the eve of Thanksgiving: Friday"),
    ],
)
def test_same_day_answer_by(kit: RoutingKit, now: datetime, answer_by: datetime) -> None:
    assert same_day_answer_by(now, kit.calendar) == answer_by


@pytest.mark.parametrize(
    ("sender", "name", "greeting"),
    [
        pytest.param("anna.berg@example.com", "Anna Berg", "Hello Anna,", id="the display name"),
        pytest.param("sam.k99@example.com", "", "Hello,", id="no name: never the address"),
        pytest.param("sam.k99@example.com", "sam.k99", "Hello,", id="the address's local part as the name"),
    ],
)
def test_a_draft_greets_the_customer_by_first_name(
    kit: RoutingKit, sender: str, name: str, greeting: str
) -> None:
    mail = message("Where is my order #1043? Tracking hasn't moved in 5 days.", sender=sender, from_name=name)

    card = message_card(kit, mail)

    assert card.first_reply.split("\n")[0] == greeting

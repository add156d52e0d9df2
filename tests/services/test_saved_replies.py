"""`saved_replies_for`: the store's saved replies a case offers, filled in with its facts.

Given order #1043 (Ana Souza's; last scan in transit in Memphis, TN, Friday 20 November
2026, 13:00 New York) and Ana's where-is-my-order mail on Tuesday 24 November at 10:00, when
the composer lists the saved replies, then the shipping-delay and any-route replies of the
default policy come filled in; the last scan only for the order's own buyer. Runs on SQLite,
and on PostgreSQL when configured.
"""

from __future__ import annotations

from typing import Any

import pytest

from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.domain.orders import OrderFacts, ScanStatus
from aftersales.services.intake import Incoming, take_in
from aftersales.services.replies import Reply, send_reply
from aftersales.services.routing import RoutingKit
from aftersales.services.saved_replies import saved_replies_for
from support.messages import at, case_of, message

WHERE_IS_1043 = "Where is my order #1043? Tracking hasn't moved in 5 days."
OU_EST = "Bonjour, où est ma commande #1043 ? Le suivi ne bouge plus depuis cinq jours."
ORDER = OrderFacts(
    number="1043",
    placed_at=at(16, 9),
    fulfilled_at=at(17, 9),
    last_scan_at=at(20, 13),
    last_scan_status=ScanStatus.IN_TRANSIT,
    last_scan_location="Memphis, TN",
    destination="US",
)


@pytest.fixture
def order(uow: SqlUnitOfWork) -> None:
    with uow() as cases:
        buyer = cases.customer_id("ana@example.com", "Ana Souza", at(16, 9))
        cases.save_order(ORDER, buyer, at(16, 9))


def _case(uow: SqlUnitOfWork, kit: RoutingKit, text: str, **fields: Any) -> int:
    mail = message(text, **({"from_name": "Ana Souza"} | fields))
    return case_of(take_in(uow, kit, Incoming(mail, "test"), now=mail.sent_at))


@pytest.mark.usefixtures("order")
def test_the_buyer_s_case_offers_its_route_s_replies_filled_in(uow: SqlUnitOfWork, kit: RoutingKit) -> None:
    case_id = _case(uow, kit, WHERE_IS_1043)

    offered = {r.name: r for r in saved_replies_for(uow, kit, case_id, now=at(24, 10, 30))}

    assert list(offered) == ["Tracking update", "Still on it"]
    tracking = offered["Tracking update"]
    assert (tracking.route, tracking.language, tracking.missing) == ("shipping_delay", "en", ())
    assert tracking.text.startswith(
        "Hello Ana,\n\nThanks for your patience with order #1043. The last carrier scan: in transit "
        "(Memphis, TN), Friday 20 November, 13:00 EST. We have asked the carrier to look into it and "
        "will write to you again by "
    )


@pytest.mark.usefixtures("order")
def test_the_promised_time_is_the_next_update_the_last_reply_promised(
    uow: SqlUnitOfWork, kit: RoutingKit
) -> None:
    case_id = _case(uow, kit, WHERE_IS_1043)
    text = "We're checking with the carrier; I'll update you by tomorrow 3 pm."
    send_reply(uow, kit, Reply(case_id=case_id, text=text, author="Marcus Lee", at=at(24, 10, 30)))

    offered = {r.name: r for r in saved_replies_for(uow, kit, case_id, now=at(24, 11))}

    assert "You will hear from us by Wednesday 25 November, 15:00 EST." in offered["Still on it"].text


@pytest.mark.usefixtures("order")
def test_a_sender_who_is_not_the_buyer_is_not_told_the_last_scan(uow: SqlUnitOfWork, kit: RoutingKit) -> None:
    case_id = _case(uow, kit, WHERE_IS_1043, sender="someone@example.com", from_name="Sam Other")

    offered = {r.name: r for r in saved_replies_for(uow, kit, case_id, now=at(24, 10, 30))}

    tracking = offered["Tracking update"]
    assert tracking.missing == ("last_scan",)
    assert tracking.text.startswith(
        "Hello Sam,\n\nThanks for your patience with order #1043. The last carrier scan: ."
    )


@pytest.mark.usefixtures("order")
def test_a_french_customer_is_offered_the_french_reply_first(uow: SqlUnitOfWork, kit: RoutingKit) -> None:
    case_id = _case(uow, kit, OU_EST)

    offered = saved_replies_for(uow, kit, case_id, now=at(24, 10, 30))

    assert [(r.name, r.language) for r in offered] == [
        ("Suivi du colis", "fr"),
        ("Tracking update", "en"),
        ("Still on it", "en"),
    ]
    assert offered[0].text.startswith(
        "Bonjour Ana,\n\nMerci de votre patience pour la commande #1043. Dernier passage chez le "
        "transporteur : en transit (Memphis, TN), vendredi 20 novembre, 13:00 EST."
    )

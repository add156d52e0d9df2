"""A first reply in the customer's language where the store wrote one, else the store's own
with a note to the agent (scenario table)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from aftersales.adapters.policy.file import PolicyError, default_policy_text, parse_policy
from aftersales.domain.replies import format_moment, template_for
from aftersales.domain.routes import Route
from aftersales.services.routing import RoutingKit, build_card

NOW = datetime(2026, 11, 24, 15, tzinfo=UTC)
FRENCH = "Bonjour,\n\nVotre commande {order_number} : nous revenons vers vous d'ici le {next_update}.\n\n{store_name}"
FR_TEXT = "Bonjour, ma commande #1043 n'est toujours pas arrivée, le suivi ne bouge plus."


@pytest.mark.parametrize(
    ("customer", "templates", "language", "note"),
    [
        ("", {}, "en", ""),  # language unknown: the store's own
        ("en", {}, "en", ""),
        ("fr", {"fr": {Route.SHIPPING_DELAY: FRENCH}}, "fr", ""),
        ("fr", {"fr": {Route.DAMAGED_ITEM: FRENCH}}, "en", "The customer wrote in French"),
        ("de", {"fr": {Route.SHIPPING_DELAY: FRENCH}}, "en", "The customer wrote in German"),
    ],
)
def test_the_template_follows_the_customer_s_language_where_the_store_has_one(
    customer: str, templates: dict[str, dict[Route, str]], language: str, note: str
) -> None:
    chosen = template_for(Route.SHIPPING_DELAY, "default", customer, "en", templates)
    assert chosen.language == language
    assert chosen.note.startswith(note) if note else chosen.note == ""
    if note:
        assert "[replies." in chosen.note


@pytest.mark.parametrize(
    ("language", "shown"),
    [
        ("en", "Tuesday 24 November, 15:00 UTC"),
        ("fr", "mardi 24 novembre, 15:00 UTC"),
        ("de", "Dienstag 24. November, 15:00 UTC"),
        ("es", "martes 24 de noviembre, 15:00 UTC"),
    ],
)
def test_the_promised_time_is_written_in_the_reply_s_language(language: str, shown: str) -> None:
    assert format_moment(NOW, language) == shown


def _kit_with(kit: RoutingKit, policy_text: str) -> RoutingKit:
    policy = parse_policy(default_policy_text() + "\n" + policy_text, "policy.toml")
    return dataclasses.replace(
        kit, policy=dataclasses.replace(kit.policy, reply_templates=policy.reply_templates)
    )


def test_a_french_customer_gets_the_store_s_french_draft(kit: RoutingKit) -> None:
    french = _kit_with(kit, f'[replies.fr]\nshipping_delay = """{FRENCH}"""\n')
    card = build_card(french, FR_TEXT, now=NOW)
    assert (card.routing.route, card.language) == (Route.SHIPPING_DELAY, "fr")
    assert card.reply_language == "fr"
    assert card.reply_note == ""
    assert card.first_reply == (
        "Bonjour,\n\nVotre commande #1043 : nous revenons vers vous d'ici le mercredi 25 novembre, "
        "11:00 EST.\n\nNorthwind Tumblers"
    )


def test_without_a_french_template_the_draft_is_english_with_a_note(kit: RoutingKit) -> None:
    card = build_card(kit, FR_TEXT, now=NOW)
    assert card.reply_language == "en"
    assert card.reply_note.startswith("The customer wrote in French; the store has no French reply")


@pytest.mark.parametrize(
    ("policy_text", "problem"),
    [
        ('[replies.french]\nshipping_delay = "Bonjour"\n', "'french' is not a language"),
        ('[replies.fr]\nshiping_delay = "Bonjour"\n', "shiping_delay"),
        ('[replies.fr]\nshipping_delay = ""\n', "replies.fr.shipping_delay"),
    ],
)
def test_a_bad_replies_table_is_refused_with_where_and_what(policy_text: str, problem: str) -> None:
    with pytest.raises(PolicyError, match=problem) as refused:
        parse_policy(default_policy_text() + "\n" + policy_text, "policy.toml")
    assert len(refused.value.problems) == 1

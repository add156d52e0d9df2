"""FAQ matching: a customer's message and the store's entries in, the answers that fit out."""

from __future__ import annotations

import pytest

from aftersales.domain.faq import FaqEntry, answer_status, answers_text, matches, terms_of

DISHWASHER = FaqEntry(
    question="Are the tumblers dishwasher safe?",
    answer="Yes, top rack.",
    keywords=("dishwasher", "safe", "wash"),
)
CANADA = FaqEntry(question="Do you ship to Canada?", answer="Yes, in 5 to 10 business days.")
COUNTRIES = FaqEntry(question="Which countries do you ship to?", answer="The US, Canada and most others.")
RETURNS = FaqEntry(question="Can I return it?", answer="Within 30 days.", keywords=("return",))
CANADA_FR = FaqEntry(
    question="Livrez-vous au Canada ?",
    answer="Oui.",
    keywords=("livrez", "livraison", "canada"),
    language="fr",
)
ENTRIES = (DISHWASHER, CANADA, COUNTRIES, RETURNS, CANADA_FR)


@pytest.mark.parametrize(
    ("message", "language", "answered"),
    [
        pytest.param(
            "Is it dishwasher safe? Do you ship to Canada?",
            "en",
            [DISHWASHER, CANADA],
            id="two questions, two answers",
        ),
        pytest.param(
            "Hi! Is the 30oz tumbler dishwasher safe, and do you ship to Canada? Thinking of ordering two.",
            "en",
            [DISHWASHER, CANADA],
            id="two questions in one sentence",
        ),
        pytest.param(
            "Do you ship to Canada? And can I wash it in the dishwasher?",
            "en",
            [CANADA, DISHWASHER],
            id="answered in the order asked",
        ),
        pytest.param("Which countries do you ship to?", "en", [COUNTRIES], id="the better entry, not both"),
        pytest.param("What if I want to return it?", "en", [RETURNS], id="a one-keyword entry"),
        pytest.param("Does the lid leak?", "en", [], id="no entry fits"),
        pytest.param("Do you ship fast?", "en", [], id="one shared word of two is not enough"),
        pytest.param("Livrez-vous au Canada ?", "fr", [CANADA_FR], id="entries in the customer's language"),
        pytest.param("Do you ship to Canada?", "de", [], id="no entry in that language"),
    ],
)
def test_matches(message: str, language: str, answered: list[FaqEntry]) -> None:
    assert [m.entry for m in matches(message, ENTRIES, language)] == answered


def test_a_match_says_why() -> None:
    (found,) = matches("Is it dishwasher safe?", [DISHWASHER], "en")

    assert found.reason == "dishwasher, safe (2 of 3 terms)"


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("Do you ship to Canada?", {"ship", "canada"}),
        ("shipping, shipped, ships", {"ship"}),
        ("Which countries?", {"country"}),
        ("boxes and glasses", {"box", "glass"}),
        ("dishwasher-safe", {"dishwasher", "safe"}),
    ],
)
def test_terms_of(text: str, terms: set[str]) -> None:
    assert terms_of(text) == terms


def test_the_draft_sentences() -> None:
    found = matches("Is it dishwasher safe? Do you ship to Canada?", ENTRIES, "en")

    assert answers_text(found) == "Yes, top rack.\n\nYes, in 5 to 10 business days."
    assert answer_status(found, "today 17:00") == (
        "If we have missed any part of your question, we will answer it by today 17:00."
    )
    assert answer_status((), "today 17:00").endswith("and will reply by today 17:00.")

"""The role table as scenarios: who may decide, refund (and how much), resolve, close and pause
on which route. Each rule returns None when the move is allowed, else the sentence a person
reads; the web desk answers 403 with it (tests/hardening/test_accounts.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aftersales.domain.accounts import Role
from aftersales.domain.permissions import (
    ROLE_TABLE,
    Action,
    missing_refund_amount,
    refunded_amount,
    refusal_to_change_status,
    refusal_to_record_decision,
    statuses_offered,
)
from aftersales.domain.routes import Route

LIMIT = Decimal("50.00")
CB, DELAY, DAMAGE, REVIEW = "chargeback_risk", "shipping_delay", "damaged_item", "review"
FULL = (Role.OPERATIONS, Role.FOUNDER, Role.ADMIN)

DECISIONS = [
    # role, route, decision text, amount, refusal (None: allowed)
    (Role.FRONTLINE, DELAY, "partial refund", "20", None),
    (Role.FRONTLINE, DELAY, "partial refund", "50.00", None),
    (
        Role.FRONTLINE,
        DELAY,
        "partial refund",
        "50.01",
        "a refund of $50.01 is above the frontline limit of $50.00: ask operations",
    ),
    (
        Role.FRONTLINE,
        DELAY,
        "Full refund $5,000 approved",
        "20",
        "a refund of $5,000.00 is above the frontline limit of $50.00: ask operations",
    ),
    (Role.FRONTLINE, DELAY, "reship today", None, None),
    (Role.FRONTLINE, CB, "reship, then defend the dispute", None, None),
    (
        Role.FRONTLINE,
        CB,
        "refund",
        "10",
        "frontline may not record a refund on a chargeback_risk case: its lead decides that",
    ),
    (Role.FRONTLINE, CB, "no refund: defend", "0", None),
    (Role.MARKETING, CB, "refund", "1000000", "marketing may not record a refund: ask operations"),
    (Role.MARKETING, REVIEW, "refund as goodwill", "5", "marketing may not record a refund: ask operations"),
    (Role.MARKETING, REVIEW, "a discount code for the next order", None, None),
    (
        Role.MARKETING,
        CB,
        "defend the dispute",
        None,
        "marketing may not record a decision on a chargeback_risk case: its lead decides that",
    ),
    (Role.SUPPLY_CHAIN, DAMAGE, "refund the broken lid", "12", None),
    (
        Role.SUPPLY_CHAIN,
        DAMAGE,
        "refund",
        "120",
        "a refund of $120.00 is above the frontline limit of $50.00: ask operations",
    ),
    (
        Role.SUPPLY_CHAIN,
        CB,
        "refund",
        "10",
        "supply_chain may not record a refund on a chargeback_risk case: its lead decides that",
    ),
    *((role, CB, "Full refund $1,000,000", "1000000", None) for role in FULL),
]


@pytest.mark.parametrize(("role", "route", "decision", "amount", "refusal"), DECISIONS)
def test_who_may_record_which_decision(
    role: Role, route: str, decision: str, amount: str | None, refusal: str | None
) -> None:
    money = Decimal(amount) if amount is not None else None

    assert refusal_to_record_decision(role, route, decision, money, LIMIT) == refusal


STATUSES = [
    # role, route, status, refusal
    (
        Role.FRONTLINE,
        CB,
        "resolved",
        "frontline may not resolve a chargeback_risk case: its lead decides that",
    ),
    (Role.FRONTLINE, CB, "closed", "frontline may not close a chargeback_risk case: its lead decides that"),
    (
        Role.FRONTLINE,
        CB,
        "waiting_on_customer",
        "frontline may not pause (set waiting on the customer) a chargeback_risk case: its lead decides that",
    ),
    (Role.FRONTLINE, CB, "open", None),
    (Role.FRONTLINE, DELAY, "resolved", None),
    (Role.FRONTLINE, DELAY, "waiting_on_customer", None),
    (Role.MARKETING, CB, "closed", "marketing may not close a chargeback_risk case: its lead decides that"),
    (
        Role.MARKETING,
        DELAY,
        "resolved",
        "marketing may not resolve a shipping_delay case: its lead decides that",
    ),
    (Role.MARKETING, REVIEW, "closed", None),
    (Role.SUPPLY_CHAIN, DAMAGE, "resolved", None),
    (
        Role.SUPPLY_CHAIN,
        CB,
        "resolved",
        "supply_chain may not resolve a chargeback_risk case: its lead decides that",
    ),
    (Role.SUPPLY_CHAIN, CB, "open", None),
    *((role, CB, status, None) for role in FULL for status in ("resolved", "closed", "waiting_on_customer")),
]


@pytest.mark.parametrize(("role", "route", "status", "refusal"), STATUSES)
def test_who_may_move_which_case(role: Role, route: str, status: str, refusal: str | None) -> None:
    assert refusal_to_change_status(role, route, status) == refusal


@pytest.mark.parametrize(
    ("decision", "amount", "needs_one"),
    [
        ("Full refund $5,000 approved", None, True),
        ("reimburse the postage", None, True),
        ("money back on the lid", None, True),
        ("Refunded in Shopify", None, True),
        ("reship the order", None, False),
        ("refund", Decimal("0"), False),
        ("refund", Decimal("12.50"), False),
    ],
)
def test_a_decision_that_gives_money_back_names_the_amount(
    decision: str, amount: Decimal | None, needs_one: bool
) -> None:
    assert (missing_refund_amount(decision, amount) is not None) is needs_one


def test_a_larger_sum_in_the_text_counts_for_the_limit() -> None:
    assert refunded_amount("Full refund $5,000 approved", Decimal("20")) == Decimal("5000")
    assert refunded_amount("reship; the $45.90 order stays", Decimal("0")) == Decimal("0")


def test_every_role_has_a_row_for_every_action() -> None:
    assert set(ROLE_TABLE) == set(Role)
    for row in ROLE_TABLE.values():
        assert set(row.routes) == set(Action)
        assert all(route in set(Route) for routes in row.routes.values() for route in routes)


def test_the_case_page_offers_only_the_moves_the_role_may_make() -> None:
    moves = ["open", "waiting_on_customer", "resolved", "closed"]

    assert statuses_offered(Role.FRONTLINE, CB, moves) == ["open"]
    assert statuses_offered(Role.FOUNDER, CB, moves) == moves

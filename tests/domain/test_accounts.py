"""Who manages users, and the checks on a new account (what each role may do to a case is
tests/domain/test_role_table.py).

Each rule returns None when the move is allowed, else the sentence a person reads.
"""

from __future__ import annotations

import pytest

from aftersales.domain.accounts import (
    Role,
    check_new_password,
    normalised_email,
    refusal_to_manage_users,
)
from aftersales.domain.errors import InputError


def test_the_six_roles() -> None:
    assert [r.value for r in Role] == [
        "frontline",
        "operations",
        "founder",
        "supply_chain",
        "marketing",
        "admin",
    ]


@pytest.mark.parametrize(
    ("role", "allowed"),
    [pytest.param(role, role is Role.ADMIN, id=f"{role}_case") for role in Role],
)
def test_only_an_admin_manages_users(role: Role, allowed: bool) -> None:
    refusal = refusal_to_manage_users(role)

    assert (refusal is None) is allowed
    if not allowed:
        assert refusal == "only an admin may add users, change their roles or issue their tokens"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("ana@example.com", "ana@example.com", id="plain_case"),
        pytest.param("  Ana.Ruiz@Example.COM ", "ana.ruiz@example.com", id="trimmed_and_lower_case"),
        pytest.param("sam+desk@mail.northwind.example", "sam+desk@mail.northwind.example", id="tag_case"),
    ],
)
def test_an_email_address_is_normalised(text: str, expected: str) -> None:
    assert normalised_email(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("ana.example.com", id="no_at_case"),
        pytest.param("ana@@example.com", id="two_ats_case"),
        pytest.param("ana@bo@example.com", id="at_in_domain_case"),
        pytest.param("@example.com", id="no_local_part_case"),
        pytest.param("ana@localhost", id="no_dot_in_domain_case"),
        pytest.param("ana@example.", id="only_a_trailing_dot_case"),
        pytest.param("ana@.com", id="only_a_leading_dot_case"),
        pytest.param("ana ruiz@example.com", id="space_case"),
        pytest.param("", id="empty_case"),
    ],
)
def test_what_is_not_an_email_address(text: str) -> None:
    with pytest.raises(InputError, match="is not an e-mail address, e.g. ana@example.com"):
        normalised_email(text)


def test_an_email_address_longer_than_the_column_is_refused() -> None:
    with pytest.raises(InputError, match="at most 320 characters"):
        normalised_email("a" * 310 + "@example.com")


@pytest.mark.parametrize(
    ("password", "accepted"),
    [
        pytest.param("123456789", False, id="nine_characters_case"),
        pytest.param("", False, id="empty_case"),
        pytest.param("1234567890", True, id="ten_characters_case"),
        pytest.param("correct horse battery staple", True, id="a_passphrase_case"),
    ],
)
def test_a_new_password_needs_ten_characters(password: str, accepted: bool) -> None:
    if accepted:
        check_new_password(password)
    else:
        with pytest.raises(InputError, match="a password needs at least 10 characters"):
            check_new_password(password)

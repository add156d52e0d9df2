"""Desk users, sessions and API tokens: `add_user`, `authenticate`, `sign_in_attempt`, the
sessions, account control, `issue_token`, `user_for_token`.

Given an emptied users table, when an account is added, signed in to or given a token, then
exactly these rows are stored. Runs on SQLite, and on PostgreSQL when configured, through the
real repository (`SqlUserRepository`) and a cheap Argon2id hasher.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from aftersales.adapters.db import schema
from aftersales.adapters.db.users import SqlUserRepository, users_unit_of_work
from aftersales.adapters.passwords import Argon2Hasher
from aftersales.domain.accounts import Role, User
from aftersales.domain.errors import InputError
from aftersales.ports import PasswordHasher
from aftersales.services.accounts import (
    TOKEN_PREFIX,
    add_user,
    authenticate,
    disable_user,
    end_session,
    issue_token,
    session_for,
    set_password,
    set_role,
    sign_in_attempt,
    start_session,
    user_for_token,
    user_with_email,
)

Users = Callable[[], AbstractContextManager[SqlUserRepository]]
AT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
CHEAP = Argon2Hasher(time_cost=1, memory_cost=8)


@pytest.fixture
def users(engine: Engine) -> Users:
    """A unit-of-work factory over emptied users, sessions, api_tokens and sign-in failures."""
    with engine.begin() as connection:
        for table in (schema.api_tokens, schema.sessions, schema.sign_in_failures, schema.users):
            connection.execute(table.delete())
    return users_unit_of_work(engine)


def new_user(
    users: Users, email: str = "ana@example.com", role: Role = Role.FRONTLINE, **fields: Any
) -> User:
    with users() as repo:
        return add_user(
            repo,
            fields.pop("hasher", CHEAP),
            email=email,
            name=fields.pop("name", "Ana Ruiz"),
            role=role,
            password=fields.pop("password", PASSWORD),
            at=AT,
        )


def rows(users: Users, table: Any) -> list[dict[str, Any]]:
    with users() as repo:
        return [dict(r) for r in repo.db.execute(select(table).order_by(table.c.id)).mappings()]


def deactivate(users: Users, user: User) -> None:
    with users() as repo:
        repo.db.execute(update(schema.users).where(schema.users.c.id == user.id).values(active=False))


def sign_in(users: Users, email: str, password: str, hasher: PasswordHasher = CHEAP) -> User | None:
    with users() as repo:
        return authenticate(repo, hasher, email, password)


def holder(users: Users, token: str, at: datetime = AT) -> User | None:
    with users() as repo:
        return user_for_token(repo, token, at)


def new_token(users: Users, user: User, name: str = "shopify-sync") -> str:
    with users() as repo:
        return issue_token(repo, user.id, name, AT)


# ----------------------------------------------------------------------------- adding users


def test_a_new_user_is_stored_with_a_lower_case_email_and_only_a_hash(users: Users) -> None:
    added = new_user(users, "  Ana@Example.COM ", Role.OPERATIONS, name=" Ana Ruiz ")

    assert added == User(id=added.id, email="ana@example.com", name="Ana Ruiz", role=Role.OPERATIONS)
    [row] = rows(users, schema.users)
    assert {k: v for k, v in row.items() if k != "password_hash"} == {
        "id": added.id,
        "email": "ana@example.com",
        "name": "Ana Ruiz",
        "role": "operations",
        "active": True,
        "created_at": AT,
    }
    assert row["password_hash"].startswith("$argon2id$")
    assert PASSWORD not in row["password_hash"]
    assert CHEAP.verify(row["password_hash"], PASSWORD)


def test_users_are_listed_by_email(users: Users) -> None:
    zoe = new_user(users, "zoe@example.com", Role.ADMIN, name="Zoe")
    ana = new_user(users, "ana@example.com", Role.FOUNDER, name="Ana")

    with users() as repo:
        assert repo.list_users() == [ana, zoe]
        assert repo.user_by_id(zoe.id) == zoe
        assert repo.user_by_id(zoe.id + ana.id) is None


@pytest.mark.parametrize(
    ("email", "password", "problem"),
    [
        pytest.param(
            "ana.example.com", PASSWORD, "'ana.example.com' is not an e-mail address", id="bad_email"
        ),
        pytest.param("bo@example.com", "too short", "a password needs at least 10 characters", id="short_pw"),
        pytest.param(
            "ANA@example.com",
            PASSWORD,
            "a user with the e-mail ana@example.com already exists",
            id="taken_email",
        ),
    ],
)
def test_a_user_that_cannot_be_added_is_refused_and_nothing_is_stored(
    users: Users, email: str, password: str, problem: str
) -> None:
    existing = new_user(users, "ana@example.com")

    with pytest.raises(InputError, match=problem):
        new_user(users, email, password=password)

    with users() as repo:
        assert repo.list_users() == [existing]


def test_a_name_longer_than_the_column_is_refused(users: Users) -> None:
    with pytest.raises(InputError, match="a name has at most 200 characters"):
        new_user(users, name="x" * 201)

    assert rows(users, schema.users) == []


def test_the_second_of_two_adds_in_one_race_gets_the_same_refusal(users: Users) -> None:
    """The repository itself refuses a taken e-mail (ON CONFLICT), so a second add that ran its
    checks before the first committed still fails readably, not with an IntegrityError."""
    with users() as repo:
        repo.add_user("ana@example.com", "Ana", Role.ADMIN, CHEAP.hash(PASSWORD), AT)
        with pytest.raises(InputError, match="already exists"):
            repo.add_user("ana@example.com", "Ana again", Role.FRONTLINE, CHEAP.hash(PASSWORD), AT)

    assert [r["name"] for r in rows(users, schema.users)] == ["Ana"]


# ----------------------------------------------------------------------------- signing in


def test_the_right_password_signs_in_whatever_the_email_case(users: Users) -> None:
    ana = new_user(users)

    assert sign_in(users, " ANA@example.com", PASSWORD) == ana


@pytest.mark.parametrize(
    ("email", "password", "active"),
    [
        pytest.param("ana@example.com", PASSWORD + "!", True, id="wrong_password"),
        pytest.param("ana@example.com", "", True, id="empty_password"),
        pytest.param("bo@example.com", PASSWORD, True, id="unknown_email"),
        pytest.param("ana@example.com", PASSWORD, False, id="deactivated_user"),
    ],
)
def test_a_failed_sign_in_is_none_whatever_the_reason(
    users: Users, email: str, password: str, active: bool
) -> None:
    ana = new_user(users)
    if not active:
        deactivate(users, ana)
    before = rows(users, schema.users)

    assert sign_in(users, email, password) is None
    assert rows(users, schema.users) == before


class RecordingHasher:
    """The cheap hasher, noting which hashes it was asked to verify."""

    def __init__(self) -> None:
        self.verified: list[str] = []

    def hash(self, password: str) -> str:
        return CHEAP.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        self.verified.append(password_hash)
        return CHEAP.verify(password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        return CHEAP.needs_rehash(password_hash)


def test_an_unknown_email_still_costs_one_verify_so_timing_tells_nothing(users: Users) -> None:
    hasher = RecordingHasher()

    assert sign_in(users, "nobody@example.com", PASSWORD, hasher) is None

    [dummy] = hasher.verified
    assert dummy.startswith("$argon2id$v=19$m=65536,t=3,p=4$")  # the production parameters


def test_a_hash_made_with_older_parameters_is_replaced_at_sign_in(users: Users) -> None:
    ana = new_user(users)  # time_cost=1
    stronger = Argon2Hasher(time_cost=2, memory_cost=8)

    assert sign_in(users, "ana@example.com", PASSWORD, stronger) == ana

    [row] = rows(users, schema.users)
    assert ",t=2," in row["password_hash"]
    assert not stronger.needs_rehash(row["password_hash"])
    assert sign_in(users, "ana@example.com", PASSWORD, stronger) == ana


def test_a_failed_sign_in_never_rehashes(users: Users) -> None:
    new_user(users)
    before = rows(users, schema.users)

    assert (
        sign_in(users, "ana@example.com", "wrong password", Argon2Hasher(time_cost=2, memory_cost=8)) is None
    )

    assert rows(users, schema.users) == before


# ----------------------------------------------------------------------------- API tokens


def test_a_token_is_returned_once_and_only_its_sha256_is_stored(users: Users) -> None:
    ana = new_user(users)

    token = new_token(users, ana)

    assert token.startswith(TOKEN_PREFIX)
    assert len(token) == len(TOKEN_PREFIX) + 43  # 32 random bytes, URL-safe base64
    [row] = rows(users, schema.api_tokens)
    assert row == {
        "id": row["id"],
        "user_id": ana.id,
        "name": "shopify-sync",
        "token_hash": hashlib.sha256(token.encode()).hexdigest(),
        "created_at": AT,
        "last_used_at": None,
        "revoked_at": None,
    }
    assert new_token(users, ana) != token


def test_a_token_names_its_user_and_its_last_use_is_kept_to_the_minute(users: Users) -> None:
    ana = new_user(users)
    token = new_token(users, ana)

    assert holder(users, token, AT) == ana
    assert holder(users, token, AT + timedelta(seconds=59)) == ana
    assert [r["last_used_at"] for r in rows(users, schema.api_tokens)] == [AT]

    assert holder(users, token, AT + timedelta(minutes=2)) == ana
    assert [r["last_used_at"] for r in rows(users, schema.api_tokens)] == [AT + timedelta(minutes=2)]


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda token: token + "x", id="unknown_token"),
        pytest.param(lambda token: token.removeprefix(TOKEN_PREFIX), id="without_its_prefix"),
        pytest.param(lambda token: "", id="empty"),
    ],
)
def test_a_token_that_was_never_issued_names_nobody(users: Users, change: Callable[[str], str]) -> None:
    token = new_token(users, new_user(users))

    assert holder(users, change(token)) is None
    assert [r["last_used_at"] for r in rows(users, schema.api_tokens)] == [None]


def test_revoked_tokens_name_nobody_and_tokens_issued_after_work(users: Users) -> None:
    ana = new_user(users)
    bo = new_user(users, "bo@example.com")
    old, kept = new_token(users, ana), new_token(users, bo)

    with users() as repo:
        repo.revoke_tokens(ana.id, AT + timedelta(hours=1))

    assert holder(users, old) is None
    assert holder(users, kept) == bo
    assert holder(users, new_token(users, ana)) == ana
    assert [r["revoked_at"] for r in rows(users, schema.api_tokens)] == [AT + timedelta(hours=1), None, None]


def test_the_token_of_a_deactivated_user_names_nobody(users: Users) -> None:
    ana = new_user(users)
    token = new_token(users, ana)

    deactivate(users, ana)

    assert holder(users, token) is None


@pytest.mark.parametrize(
    ("name", "deactivated", "unknown", "problem"),
    [
        pytest.param("", False, False, "a token's name has 1 to 100 characters", id="empty_name"),
        pytest.param("x" * 101, False, False, "a token's name has 1 to 100 characters", id="long_name"),
        pytest.param("api", False, True, "no user with id", id="unknown_user"),
        pytest.param("api", True, False, "ana@example.com is deactivated", id="deactivated_user"),
    ],
)
def test_a_token_that_cannot_be_issued_is_refused_and_nothing_is_stored(
    users: Users, name: str, deactivated: bool, unknown: bool, problem: str
) -> None:
    ana = new_user(users)
    if deactivated:
        deactivate(users, ana)
    target = User(id=ana.id + 1000, email="", name="", role=Role.ADMIN) if unknown else ana

    with pytest.raises(InputError, match=problem):
        new_token(users, target, name)

    assert rows(users, schema.api_tokens) == []


def test_user_with_email_names_the_missing_address(users: Users) -> None:
    ana = new_user(users)

    with users() as repo:
        assert user_with_email(repo, "Ana@Example.com") == ana
        with pytest.raises(InputError, match="no user with the e-mail bo@example.com"):
            user_with_email(repo, "bo@example.com")


# ----------------------------------------------------------------------------- the Argon2 adapter


@pytest.mark.parametrize(
    ("stored", "password"),
    [
        pytest.param(CHEAP.hash(PASSWORD), PASSWORD + " ", id="wrong_password"),
        pytest.param("not a hash", PASSWORD, id="unreadable_hash"),
        pytest.param("", PASSWORD, id="empty_hash"),
        pytest.param("$argon2id$v=19$m=8,t=1,p=1$AAAA$BBBB", PASSWORD, id="malformed_argon2"),
    ],
)
def test_the_hasher_says_false_and_never_raises(stored: str, password: str) -> None:
    assert CHEAP.verify(stored, password) is False


def test_the_hasher_wants_an_unreadable_or_weaker_hash_replaced() -> None:
    assert CHEAP.needs_rehash("not a hash") is True
    assert CHEAP.needs_rehash(Argon2Hasher(time_cost=2, memory_cost=8).hash(PASSWORD)) is True
    assert CHEAP.needs_rehash(CHEAP.hash(PASSWORD)) is False


# ---------------------------------------------------------------- sessions and account control


def session_of(users: Users, token: str, at: datetime = AT) -> User | None:
    with users() as repo:
        found = session_for(repo, token, at)
    return found.user if found else None


def test_a_session_lives_until_it_ends_or_expires_and_only_its_hash_is_stored(users: Users) -> None:
    ana = new_user(users)
    with users() as repo:
        token, session = start_session(repo, ana, AT)

    assert session_of(users, token) == ana
    assert [r["id"] for r in rows(users, schema.sessions)] == [hashlib.sha256(token.encode()).hexdigest()]
    assert session.csrf_token != token
    assert session_of(users, token, AT + timedelta(days=14)) is None  # expired
    assert session_of(users, token + "x") is None
    with users() as repo:
        end_session(repo, token)
    assert session_of(users, token) is None
    assert rows(users, schema.sessions) == []


def test_disable_role_and_password_changes_end_every_session_of_the_user(users: Users) -> None:
    ana, bo = new_user(users), new_user(users, "bo@example.com")

    def start(user: User) -> str:
        with users() as repo:
            return start_session(repo, user, AT)[0]

    bo_token = start(bo)
    changes: tuple[Callable[[SqlUserRepository], object], ...] = (
        lambda repo: set_role(repo, ana.email, Role.OPERATIONS),
        lambda repo: set_password(repo, CHEAP, ana.email, "another long password"),
        lambda repo: disable_user(repo, ana.email, AT),
    )
    for change in changes:
        laptop, phone = start(ana), start(ana)
        with users() as repo:
            change(repo)
        assert session_of(users, laptop) is None
        assert session_of(users, phone) is None
    assert session_of(users, bo_token) == bo  # nobody else is signed out


def test_the_last_active_admin_can_be_neither_disabled_nor_demoted(users: Users) -> None:
    boss = new_user(users, "boss@example.com", Role.ADMIN)

    changes: tuple[Callable[[SqlUserRepository], object], ...] = (
        lambda repo: disable_user(repo, boss.email, AT),
        lambda repo: set_role(repo, boss.email, Role.FOUNDER),
    )
    for change in changes:
        with pytest.raises(InputError, match="last active admin"), users() as repo:
            change(repo)

    new_user(users, "second@example.com", Role.ADMIN)
    with users() as repo:
        set_role(repo, boss.email, Role.FOUNDER)


def attempt(users: Users, email: str, password: str, at: datetime, address: str = "10.0.0.7") -> Any:
    with users() as repo:
        return sign_in_attempt(repo, CHEAP, email=email, password=password, address=address, at=at)


def test_five_failures_hold_the_account_fifteen_minutes_from_the_oldest(users: Users) -> None:
    ana = new_user(users)
    for minute in range(5):
        failed = attempt(users, ana.email, "wrong", AT + timedelta(minutes=minute))
        assert (failed.user, failed.failed_user_id, failed.retry_after) == (None, ana.id, None)

    held = attempt(users, ana.email, PASSWORD, AT + timedelta(minutes=10))
    assert held.user is None
    assert held.retry_after == timedelta(minutes=5)  # the oldest failure leaves at 15
    assert attempt(users, ana.email, PASSWORD, AT + timedelta(minutes=15, seconds=1)).user == ana
    assert rows(users, schema.sign_in_failures) == []  # a good sign-in forgets them


def test_failures_keep_no_e_mail_address_in_clear(users: Users) -> None:
    attempt(users, "Stranger@Example.com", "guess", AT)

    (row,) = rows(users, schema.sign_in_failures)
    assert row["account"] == hashlib.sha256(b"stranger@example.com").hexdigest()
    assert row["address"] == "10.0.0.7"

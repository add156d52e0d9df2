"""Desk users and API tokens: adding a user, signing in, issuing and checking tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from aftersales.domain.accounts import (
    MAX_NAME_LENGTH,
    MAX_TOKEN_NAME_LENGTH,
    Role,
    User,
    check_new_password,
    normalised_email,
)
from aftersales.domain.errors import InputError
from aftersales.ports import PasswordHasher, UserRepository

TOKEN_PREFIX = "as_"  # tells a leaked token apart in logs and secret scanners

# Verified when the e-mail is unknown, so a wrong address takes as long as a wrong password
# and timing does not tell which addresses have accounts. Argon2id with the production
# parameters (argon2-cffi's defaults); no password matches it.
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$kxMbUvYPbDbX/jlaT7bKPg$jjjLGXwZxUDj6qBiIU/ynMyQ3+sy1k61xdCnRkXS3aA"
)


def add_user(  # noqa: PLR0913  (keyword-only: every call names each field)
    users: UserRepository,
    hasher: PasswordHasher,
    *,
    email: str,
    name: str,
    role: Role,
    password: str,
    at: datetime,
) -> User:
    """A new active user; InputError for a malformed or taken e-mail or a short password."""
    address = normalised_email(email)
    name = name.strip()
    if len(name) > MAX_NAME_LENGTH:
        raise InputError(f"a name has at most {MAX_NAME_LENGTH} characters")
    check_new_password(password)
    user_id = users.add_user(address, name, role, hasher.hash(password), at)  # InputError when taken
    return User(id=user_id, email=address, name=name, role=role)


def authenticate(users: UserRepository, hasher: PasswordHasher, email: str, password: str) -> User | None:
    """The user these credentials belong to; None for an unknown e-mail, a wrong password or
    a deactivated user, all alike."""
    found = users.user_by_email(email.strip().lower())
    if found is None:
        hasher.verify(_DUMMY_HASH, password)
        return None
    user, password_hash = found
    if not hasher.verify(password_hash, password) or not user.active:
        return None
    if hasher.needs_rehash(password_hash):
        # the only moment the password is known: upgrade a hash made with older parameters
        users.set_password_hash(user.id, hasher.hash(password))
    return user


def issue_token(users: UserRepository, user_id: int, name: str, at: datetime) -> str:
    """A new API token for the user, returned this once; only its SHA-256 is stored."""
    label = name.strip()
    if not 1 <= len(label) <= MAX_TOKEN_NAME_LENGTH:
        raise InputError(f"a token's name has 1 to {MAX_TOKEN_NAME_LENGTH} characters")
    user = users.user_by_id(user_id)
    if user is None:
        raise InputError(f"no user with id {user_id}")
    if not user.active:
        raise InputError(f"{user.email} is deactivated: a token would not work")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    users.add_token(user_id, label, _token_hash(token), at)
    return token


def user_for_token(users: UserRepository, token: str, at: datetime) -> User | None:
    """The active user holding this unrevoked token, or None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    return users.user_for_token_hash(_token_hash(token), at)


def user_with_email(users: UserRepository, email: str) -> User:
    """The user with this e-mail; InputError when there is none."""
    address = email.strip().lower()
    found = users.user_by_email(address)
    if found is None:
        raise InputError(f"no user with the e-mail {address}")
    return found[0]


def set_password(users: UserRepository, hasher: PasswordHasher, email: str, password: str) -> User:
    """A new password for an existing user; InputError for an unknown e-mail or a short password."""
    user = user_with_email(users, email)
    check_new_password(password)
    users.set_password_hash(user.id, hasher.hash(password))
    return user


def _token_hash(token: str) -> str:
    # SHA-256, not Argon2: a token has 256 random bits, so a fast hash is safe, and the
    # lookup by hash needs the same digest every time
    return hashlib.sha256(token.encode()).hexdigest()

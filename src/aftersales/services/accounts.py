"""Desk users and API tokens: adding a user, signing in (throttled), sessions, issuing and
checking tokens, and account control (disable, enable, role, password)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from aftersales.domain.accounts import (
    ACCOUNT_THROTTLE,
    ADDRESS_THROTTLE,
    MAX_NAME_LENGTH,
    MAX_TOKEN_NAME_LENGTH,
    DeskSession,
    Role,
    User,
    check_new_password,
    normalised_email,
    wait_after_failures,
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
    """A new password for an existing user, who is signed out everywhere; InputError for an
    unknown e-mail or a short password."""
    user = user_with_email(users, email)
    check_new_password(password)
    users.set_password_hash(user.id, hasher.hash(password))
    users.delete_sessions_of(user.id)
    return user


def disable_user(users: UserRepository, email: str, at: datetime) -> User:
    """The user may no longer sign in: their sessions end and their API tokens are revoked."""
    user = user_with_email(users, email)
    _keep_an_admin(users, user, "disable")
    users.set_active(user.id, active=False)
    users.delete_sessions_of(user.id)
    users.revoke_tokens(user.id, at)
    return user


def enable_user(users: UserRepository, email: str) -> User:
    """The user may sign in again; tokens revoked when they were disabled stay revoked."""
    user = user_with_email(users, email)
    users.set_active(user.id, active=True)
    return user


def set_role(users: UserRepository, email: str, role: Role) -> User:
    """A new role from the next request on; the user's sessions end, so they sign in again."""
    user = user_with_email(users, email)
    if role is not Role.ADMIN:
        _keep_an_admin(users, user, "demote")
    users.set_role(user.id, role)
    users.delete_sessions_of(user.id)
    return user


def _keep_an_admin(users: UserRepository, user: User, move: str) -> None:
    """Nobody could manage users any more without an active admin."""
    admins = [u for u in users.list_users() if u.role is Role.ADMIN and u.active]
    if admins == [user]:
        raise InputError(f"{user.email} is the last active admin: make another admin before you {move} them")


# ---------------------------------------------------------------- signing in and sessions

SESSION_LIFETIME = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class SignIn:
    """What a sign-in attempt came to: the user, or why not (for the log, the account's id,
    never its e-mail address)."""

    user: User | None
    retry_after: timedelta | None = None  # throttled: no password was checked
    failed_user_id: int | None = None  # a wrong password for this known account


def sign_in_attempt(  # noqa: PLR0913  (keyword-only: every call names each field)
    users: UserRepository,
    hasher: PasswordHasher,
    *,
    email: str,
    password: str,
    address: str,
    at: datetime,
) -> SignIn:
    """Check the credentials unless the account or the client address failed too often
    recently (then even the right password waits); record a failure, forget an account's
    failures when it signs in."""
    account = account_key(email)
    window = max(ACCOUNT_THROTTLE.window, ADDRESS_THROTTLE.window)
    by_account, by_address = users.sign_in_failures(account, address, at - window)
    waits = [
        wait
        for wait in (
            wait_after_failures(by_account, ACCOUNT_THROTTLE, at),
            wait_after_failures(by_address, ADDRESS_THROTTLE, at),
        )
        if wait is not None
    ]
    if waits:
        return SignIn(None, retry_after=max(waits))
    user = authenticate(users, hasher, email, password)
    if user is None:
        users.forget_sign_in_failures(before=at - window)
        users.add_sign_in_failure(account, address, at)
        found = users.user_by_email(email.strip().lower())
        return SignIn(None, failed_user_id=found[0].id if found else None)
    users.forget_sign_in_failures(account=account)
    return SignIn(user)


def account_key(email: str) -> str:
    """The e-mail typed at sign-in as a SHA-256 hex: failures are counted per account
    without keeping the address in clear."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def start_session(users: UserRepository, user: User, at: datetime) -> tuple[str, DeskSession]:
    """A new session for the user: the cookie's random token (returned this once; only its
    hash is stored) and the session with a fresh CSRF token. Expired sessions are dropped."""
    users.delete_expired_sessions(at)
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    users.add_session(_token_hash(token), user.id, csrf, at, at + SESSION_LIFETIME)
    return token, DeskSession(user, csrf, at)


def session_for(users: UserRepository, token: str, at: datetime) -> DeskSession | None:
    """The unexpired session of an active user that this cookie names, or None."""
    if not token or len(token) > 100:
        return None
    return users.session(_token_hash(token), at)


def end_session(users: UserRepository, token: str) -> None:
    users.delete_session(_token_hash(token))


def touch_session(users: UserRepository, token: str, at: datetime) -> None:
    users.touch_session(_token_hash(token), at)


def _token_hash(token: str) -> str:
    # SHA-256, not Argon2: a token (API or session) has 256 random bits, so a fast hash is safe, and the
    # lookup by hash needs the same digest every time
    return hashlib.sha256(token.encode()).hexdigest()

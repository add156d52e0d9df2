"""Password hashing with Argon2id (argon2-cffi), behind the PasswordHasher port."""

from __future__ import annotations

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

# Each Argon2 lane needs at least 8 KiB of memory.
_KIB_PER_LANE = 8


class Argon2Hasher:
    """Argon2id with argon2-cffi's defaults (RFC 9106, low-memory profile) unless told otherwise.

    Tests pass cheap parameters (``time_cost=1, memory_cost=8``); with less memory than the
    default lanes need, the lanes are reduced to fit rather than refused.
    """

    def __init__(
        self,
        *,
        time_cost: int = argon2.DEFAULT_TIME_COST,
        memory_cost: int = argon2.DEFAULT_MEMORY_COST,
        parallelism: int | None = None,
    ) -> None:
        lanes = parallelism or max(1, min(argon2.DEFAULT_PARALLELISM, memory_cost // _KIB_PER_LANE))
        self._argon2 = argon2.PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=lanes)

    def hash(self, password: str) -> str:
        return self._argon2.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._argon2.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True  # unreadable: whatever made it, the current parameters should replace it


def password_hasher() -> Argon2Hasher:
    """The hasher the desk uses, with production parameters (about 0.1 s per hash)."""
    return Argon2Hasher()

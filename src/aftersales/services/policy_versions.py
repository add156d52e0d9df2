"""Versions of the store's policy texts: add one when the texts change, list them, show one.

Adding a version and relinking the orders it now covers is one transaction: an order placed
at or after the new version's effective time is linked to the version in force when it was
placed, so a version added late (with a past effective time) corrects the orders it covers.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from aftersales.domain.errors import InputError
from aftersales.domain.policy_texts import (
    PolicyKind,
    PolicyTexts,
    PolicyVersion,
    return_policy_warnings,
)


class PolicyTextRepository(Protocol):
    """Policy text versions and the orders linked to them, in one unit of work."""

    def version_in_force(self, at: datetime) -> PolicyVersion | None: ...
    def versions(self) -> list[PolicyVersion]: ...
    def version(self, number: int) -> PolicyVersion | None: ...
    def add_version(
        self, texts: PolicyTexts, effective_at: datetime, added_at: datetime, added_by: str
    ) -> PolicyVersion: ...
    def relink_orders(self, placed_from: datetime) -> int:
        """Link orders placed at or after ``placed_from`` to the version in force when each
        was placed; how many links changed."""
        ...


class PolicyTextUnitOfWork(Protocol):
    """``with policy_texts() as repo:`` runs one transaction; leaving the block commits it."""

    def __call__(self) -> AbstractContextManager[PolicyTextRepository]: ...


@dataclass(frozen=True, slots=True)
class AddedTexts:
    """What adding texts did: the version now in force at the effective time, whether it is
    new, how many orders were relinked, and what the return policy does not state."""

    version: PolicyVersion
    added: bool
    relinked: int = 0
    warnings: tuple[str, ...] = ()


def add_policy_texts(
    uow: PolicyTextUnitOfWork,
    changes: Mapping[PolicyKind, str],
    *,
    effective_at: datetime,
    now: datetime,
    by: str = "",
) -> AddedTexts:
    """Texts in force from ``effective_at``: the kinds in ``changes`` replace those of the
    version in force then, the others carry over. Texts whose hash is that version's add
    nothing."""
    if not changes:
        raise InputError("no policy text given: give at least one of refund, return or shipping")
    with uow() as repo:
        current = repo.version_in_force(effective_at)
        texts = (current.texts if current else PolicyTexts()).with_changes(changes)
        warnings = _warnings(texts)
        if current is not None and current.sha256 == texts.sha256:
            return AddedTexts(current, added=False, warnings=warnings)
        version = repo.add_version(texts, effective_at, now, by)
        relinked = repo.relink_orders(effective_at)
    return AddedTexts(version, added=True, relinked=relinked, warnings=warnings)


def _warnings(texts: PolicyTexts) -> tuple[str, ...]:
    returns = texts.texts.get(PolicyKind.RETURN)
    return return_policy_warnings(returns) if returns is not None else ()


def policy_versions(uow: PolicyTextUnitOfWork) -> list[PolicyVersion]:
    with uow() as repo:
        return repo.versions()


def policy_version(uow: PolicyTextUnitOfWork, reference: str) -> PolicyVersion:
    """The version named "3" or "v3"; InputError names the versions there are."""
    number = reference.strip().lower().removeprefix("v")
    with uow() as repo:
        found = repo.version(int(number)) if number.isdigit() else None
        if found is not None:
            return found
        known = ", ".join(v.label for v in repo.versions()) or "none yet"
    raise InputError(f"no policy text version {reference!r}; the versions are: {known}")


def version_in_force(uow: PolicyTextUnitOfWork, at: datetime) -> PolicyVersion | None:
    with uow() as repo:
        return repo.version_in_force(at)

"""Say a user has a case open, and who else has (domain/presence.py)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

from aftersales.domain.cases import CaseNotFound
from aftersales.domain.presence import PRESENCE, Viewer, others
from aftersales.ports import PresenceLog

PresenceUnit = Callable[[], AbstractContextManager[PresenceLog]]


@dataclass(frozen=True, slots=True)
class Presence:
    others: list[Viewer]  # who else has the case open
    latest_event_id: int  # the case's newest timeline event: a page showing less is out of date


def note_viewer(presence: PresenceUnit, case_id: int, user_id: int, *, at: datetime) -> Presence:
    """Record that the user has the case open now, in one short transaction that also forgets
    every record past its expiry (the table stays small); who else has it open."""
    with presence() as log:
        if not log.see(case_id, user_id, at):
            raise CaseNotFound(f"no case {case_id}")
        log.forget_before(at - PRESENCE)
        viewers = others(log.viewers(case_id, at - PRESENCE), user_id, at)
        return Presence(viewers, log.latest_event_id(case_id))


def others_viewing(presence: PresenceUnit, case_id: int, user_id: int, *, at: datetime) -> list[Viewer]:
    """Who else has the case open, recording nothing (a refused form's page: nothing changes)."""
    with presence() as log:
        return others(log.viewers(case_id, at - PRESENCE), user_id, at)

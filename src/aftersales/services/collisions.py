"""The collision guard's check, made inside the writer's own transaction (domain/collisions.py).

The case row is locked first (PostgreSQL: FOR UPDATE; SQLite's writers hold the database's
write lock from BEGIN), so of two sends made with the same ``seen_event_id`` the second waits
for the first to commit, then reads its event and is refused: exactly one is stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aftersales.domain.cases import CaseRecord
from aftersales.domain.collisions import blocks, change_summary, changes_after
from aftersales.domain.errors import AftersalesError
from aftersales.ports import CasesAndTimelines


class CaseChanged(AftersalesError):
    """The case changed since the page was shown: ``changes`` lists what (409; nothing stored)."""

    def __init__(self, case_id: int, changes: Sequence[Mapping[str, Any]]) -> None:
        self.case_id = case_id
        self.changes = tuple(changes)
        self.latest_event_id = max(int(e["id"]) for e in changes)
        said = "; ".join(change_summary(e) for e in changes)
        super().__init__(
            f"case {case_id} changed since you opened it: {said}. Nothing was stored: read the "
            f"changes, then send again with seen_event_id {self.latest_event_id}"
        )

    def details(self) -> dict[str, Any]:
        return {
            "latest_event_id": self.latest_event_id,
            "changes": [
                {
                    "id": e["id"],
                    "kind": e["kind"],
                    "at": e["at"].isoformat(),
                    "actor": e["actor"],
                    "summary": change_summary(e),
                    "blocking": blocks([e]),
                }
                for e in self.changes
            ],
        }


def lock_unchanged(cases: CasesAndTimelines, case_id: int, seen_event_id: int | None) -> CaseRecord:
    """The case, locked for this unit of work; raises CaseChanged when an event the page
    did not show alters what the writer would do. ``seen_event_id`` None: no check."""
    row = cases.locked_case_row(case_id)  # raises CaseNotFound
    if seen_event_id is None:
        return row
    changes = changes_after(cases.events_after(case_id, seen_event_id), seen_event_id)
    if blocks(changes):
        raise CaseChanged(case_id, changes)
    return row

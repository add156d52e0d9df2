"""Who else has a case open: a light presence record per user and case, refreshed while the
case page is open, that counts for ``PRESENCE_SECONDS`` and is then forgotten.

It is a courtesy, not a lock: two agents may still work the same case (the collision guard in
``collisions.py`` stops the second reply); it only says "Sam is also viewing this case".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

PRESENCE_SECONDS = 60  # a page that has not said it is open for this long has been left
# how often an open page says so (static/app.js reads it from the page): well inside the expiry
REFRESH_SECONDS = 20
PRESENCE = timedelta(seconds=PRESENCE_SECONDS)


@dataclass(frozen=True, slots=True)
class Viewer:
    user_id: int
    name: str  # the user's name, else their e-mail address
    seen_at: datetime


def others(viewers: Sequence[Viewer], me: int, now: datetime) -> list[Viewer]:
    """The other users whose page said it was open within the expiry, first seen first."""
    fresh = [v for v in viewers if v.user_id != me and now - v.seen_at <= PRESENCE]
    return sorted(fresh, key=lambda v: (v.name.casefold(), v.user_id))


def presence_line(viewers: Sequence[Viewer]) -> str:
    """'Sam is also viewing this case', 'Sam and Priya are …', 'Sam, Priya and Lee are …'."""
    names = [v.name for v in viewers]
    if not names:
        return ""
    if len(names) == 1:
        return f"{names[0]} is also viewing this case"
    return f"{', '.join(names[:-1])} and {names[-1]} are also viewing this case"

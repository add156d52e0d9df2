"""The satisfaction survey's rating links (table ``case_ratings``): issued with a resolving
reply, used once, and a bad rating's flag until a person clears it. Functions over one
connection; ``SqlCaseRepository`` exposes them in its unit of work."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from aftersales.adapters.db import schema as t
from aftersales.domain.satisfaction import Rating, RatingLink

_BAD = t.case_ratings.c.rating == Rating.BAD.value
_FLAGGED = _BAD & t.case_ratings.c.flag_cleared_at.is_(None)


def add_link(db: Connection, link: RatingLink) -> None:
    db.execute(
        insert(t.case_ratings).values(
            case_id=link.case_id,
            token=link.token,
            issued_at=link.issued_at,
            expires_at=link.expires_at,
            rating="",
            comment="",
            flag_cleared_by="",
        )
    )


def link_for_update(db: Connection, token: str) -> RatingLink | None:
    """The link named by ``token``, its row locked until the transaction ends (two posts of
    one link: the second waits, then finds it used)."""
    query = select(t.case_ratings).where(t.case_ratings.c.token == token)
    if db.dialect.name == "postgresql":
        query = query.with_for_update()
    row = db.execute(query).mappings().first()
    return _link(dict(row)) if row is not None else None


def link(db: Connection, token: str) -> RatingLink | None:
    row = db.execute(select(t.case_ratings).where(t.case_ratings.c.token == token)).mappings().first()
    return _link(dict(row)) if row is not None else None


def record(db: Connection, token: str, rating: Rating, comment: str, at: datetime) -> bool:
    """Use the link: one conditional update, so a link rates once. False: used already."""
    done = db.execute(
        update(t.case_ratings)
        .where(t.case_ratings.c.token == token, t.case_ratings.c.rated_at.is_(None))
        .values(rated_at=at, rating=rating.value, comment=comment)
        .returning(t.case_ratings.c.id)
    )
    return done.first() is not None


def flagged(db: Connection, case_ids: Collection[int]) -> dict[int, str]:
    """Of ``case_ids``, the cases with an uncleared bad rating: case id → its comment."""
    if not case_ids:
        return {}
    query = (
        select(t.case_ratings.c.case_id, t.case_ratings.c.comment)
        .where(_FLAGGED, t.case_ratings.c.case_id.in_(list(case_ids)))
        .order_by(t.case_ratings.c.rated_at)
    )
    return {row.case_id: row.comment for row in db.execute(query)}


def clear_flag(db: Connection, case_id: int, by: str, at: datetime) -> int:
    """Clear the case's bad-rating flags; returns how many were cleared."""
    cleared = db.execute(
        update(t.case_ratings)
        .where(t.case_ratings.c.case_id == case_id, _FLAGGED)
        .values(flag_cleared_at=at, flag_cleared_by=by[:200])
        .returning(t.case_ratings.c.id)
    )
    return len(cleared.all())


def ratings_of(db: Connection, case_id: int) -> list[RatingLink]:
    query = (
        select(t.case_ratings)
        .where(t.case_ratings.c.case_id == case_id, t.case_ratings.c.rated_at.is_not(None))
        .order_by(t.case_ratings.c.rated_at)
    )
    return [_link(dict(row)) for row in db.execute(query).mappings()]


def _link(row: Mapping[str, Any]) -> RatingLink:
    return RatingLink(
        case_id=row["case_id"],
        token=row["token"],
        issued_at=row["issued_at"],
        expires_at=row["expires_at"],
        rated_at=row["rated_at"],
        rating=Rating(row["rating"]) if row["rating"] else None,
        comment=row["comment"],
    )

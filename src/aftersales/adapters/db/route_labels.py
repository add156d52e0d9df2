"""The route_labels table: a person's re-routes and confirmations, the store's training data.

``SqlCaseRepository`` exposes these as methods (a label is stored in the unit of work of the
re-route that made it); they live here to keep that module's size in check.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select

from aftersales.adapters.db import schema as t
from aftersales.domain.corrections import LabelSource, RouteLabel
from aftersales.domain.routes import Route

_LABELS = select(t.route_labels).order_by(t.route_labels.c.id)
_COUNT = select(func.count()).select_from(t.route_labels).where(t.route_labels.c.id > bindparam("after_id"))
_ADD = insert(t.route_labels).returning(t.route_labels.c.id)


def add_label(db: Connection, label: RouteLabel) -> int:
    values = {
        "case_id": label.case_id,
        "text": label.text,
        "route": label.route.value,
        "source": label.source.value,
        "labelled_by": label.by[:200],
        "labelled_at": label.at,
    }
    return int(db.execute(_ADD, values).scalar_one())


def labels(db: Connection) -> list[RouteLabel]:
    """Every label, oldest first; a label whose route the desk no longer knows is skipped."""
    known = {r.value for r in Route}
    return [_label(dict(row)) for row in db.execute(_LABELS).mappings() if row["route"] in known]


def label_count(db: Connection, after_id: int = 0) -> int:
    """How many labels were stored after the label ``after_id``."""
    return int(db.execute(_COUNT, {"after_id": after_id}).scalar_one())


def _label(row: Mapping[str, Any]) -> RouteLabel:
    return RouteLabel(
        id=row["id"],
        case_id=row["case_id"],
        text=row["text"],
        route=Route(row["route"]),
        source=LabelSource(row["source"]),
        by=row["labelled_by"],
        at=row["labelled_at"],
    )

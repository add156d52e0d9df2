"""Learning from the desk's corrections: train the store's router model from the route labels
(re-routes and confirmations), keep every model as a version, and promote a new one only when
it is not worse than the current one on the store's own labels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aftersales.domain.corrections import ModelVersion, RouteLabel, held_out_score, latest_per_case, promotes
from aftersales.domain.routes import Route
from aftersales.ports import RouterModels, UnitOfWork
from aftersales.services.routing import RoutingKit, route_text
from aftersales.services.training import LabelledMessage, TrainingReport, adapt_router


@dataclass(frozen=True, slots=True)
class Learned:
    report: TrainingReport
    version: ModelVersion  # the version saved (current when ``version.promoted``)
    current_score: float  # the model in use before, judged the same way
    current_version: int | None  # None: the built-in model

    def as_dict(self) -> dict[str, Any]:
        return self.report.as_dict() | {
            "version": self.version.version,
            "promoted": self.version.promoted,
            "score": round(self.version.score, 4),
            "current_version": self.current_version,
            "current_score": round(self.current_score, 4),
        }

    def as_text(self) -> str:
        current = f"version {self.current_version}" if self.current_version else "the built-in model"
        verdict = (
            f"promoted: version {self.version.version} is now current"
            if self.version.promoted
            else f"not promoted: version {self.version.version} is kept, {current} stays current"
        )
        return (
            f"{self.report.as_text()}\n"
            f"current ({current}) on the same labels: {self.current_score:.1%} "
            "(each label judged by a model that never saw it)\n"
            f"{verdict} ({self.version.score:.1%} vs {self.current_score:.1%})"
        )


def desk_labels(uow: UnitOfWork) -> list[RouteLabel]:
    with uow() as cases:
        return latest_per_case(cases.route_labels())


def retrain_if_due(  # noqa: PLR0913  (keyword-only after the three things it works on)
    uow: UnitOfWork,
    kit: RoutingKit,
    models: RouterModels,
    builtin: Sequence[tuple[str, Route]],
    *,
    every: int,
    at: datetime,
) -> Learned | None:
    """``learn_from_desk`` once ``every`` labels came since the last training on the desk's
    labels (the server's timer); None when not due (``every`` 0: never)."""
    if every <= 0:
        return None
    since = max((v.last_label_id for v in models.versions() if v.source == "desk"), default=0)
    with uow() as cases:
        if cases.route_label_count(after_id=since) < every:
            return None
    return learn_from_desk(uow, kit, models, builtin, at=at)


def learn_from_desk(  # noqa: PLR0913  (keyword-only after the three things it works on)
    uow: UnitOfWork,
    kit: RoutingKit,
    models: RouterModels,
    builtin: Sequence[tuple[str, Route]],
    *,
    at: datetime,
    folds: int = 5,
) -> Learned:
    """Train on the desk's labels and save the model as a new version; it becomes current only
    when its cross-validated score is not below the current model's (``kit`` must route with
    the current model). Raises InputError with fewer labels than ``folds``."""
    labels = desk_labels(uow)
    messages = [LabelledMessage(label.text, label.route) for label in labels]
    report, model = adapt_router(kit, builtin, messages, folds)
    current = models.current()
    current_score = _current_score(kit, current, labels, report)
    version = ModelVersion(
        version=0,
        score=report.accuracy_after,
        labels=len(labels),
        last_label_id=max(label.id for label in labels),
        trained_at=at,
        source="desk",
        promoted=promotes(report.accuracy_after, current_score),
    )
    saved = models.save(model, version)
    return Learned(report, saved, current_score, current.version if current else None)


def _current_score(
    kit: RoutingKit, current: ModelVersion | None, labels: Sequence[RouteLabel], report: TrainingReport
) -> float:
    if current is None:
        return report.accuracy_before  # the built-in model never saw any of the store's labels
    newer = [label for label in labels if label.id > current.last_label_id]
    hits = sum(route_text(kit, label.text)[0].route is label.route for label in newer)
    return held_out_score(current, hits, len(newer))

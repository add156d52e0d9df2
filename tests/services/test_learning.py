"""Learning from the desk's labels: `learn_from_desk`, `retrain_if_due`, and model versions.

Given cases re-routed by agents (each a labelled example), when the store's model is trained
from them, then the report counts every label, the model is kept as a new version, and it
becomes current only when its cross-validated score on the store's labels is not below the
current model's. Runs on SQLite, and on PostgreSQL when configured.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aftersales.adapters.db.repository import SqlUnitOfWork
from aftersales.adapters.reader.model_versions import FileModelVersions
from aftersales.domain.corrections import ModelVersion, held_out_score, promotes
from aftersales.domain.routes import Route
from aftersales.services.intake import Incoming, take_in
from aftersales.services.learning import learn_from_desk, retrain_if_due
from aftersales.services.rerouting import Reroute, reroute
from aftersales.services.routing import RoutingKit
from aftersales.wiring import builtin_examples
from support.messages import at, case_of, message

NOW = datetime(2026, 11, 24, 18, tzinfo=UTC)
# (message, the route an agent gives it)
LABELLED = [
    ("Still waiting on the thing I ordered for my nephew, birthday is saturday", Route.SHIPPING_DELAY),
    ("honestly the best purchase I made this year, five stars", Route.REVIEW),
    ("can I swap the blue one for the green before you send it", Route.CANCEL_OR_CHANGE),
    ("does the 20oz fit a standard car cup holder?", Route.PRE_PURCHASE),
    ("got someone else's parcel, a pair of shoes, not my mug", Route.WRONG_ITEM),
    ("lid came off and there is a crack down the side", Route.DAMAGED_ITEM),
]


def corrected_desk(uow: SqlUnitOfWork, kit: RoutingKit, rows: list[tuple[str, Route]] = LABELLED) -> None:
    """Each message taken in, then re-routed to the agent's route (or confirmed)."""
    for n, (text, route) in enumerate(rows):
        case_id = case_of(
            take_in(uow, kit, Incoming(message(text, sender=f"c{n}@example.com"), "t"), now=at(24, 10))
        )
        reroute(uow, kit, Reroute(case_id=case_id, route=route, by="agent", at=at(24, 11)))


def models_in(tmp_path: Path) -> FileModelVersions:
    return FileModelVersions(tmp_path / "models", tmp_path / "router-model.json")


def test_training_from_the_desk_counts_every_label_and_keeps_a_version(
    uow: SqlUnitOfWork, kit: RoutingKit, tmp_path: Path
) -> None:
    corrected_desk(uow, kit)
    models = models_in(tmp_path)

    learned = learn_from_desk(uow, kit, models, builtin_examples(), at=NOW, folds=2)

    assert learned.report.examples == len(LABELLED)
    assert learned.report.per_route == {route: 1 for _, route in LABELLED}
    assert (learned.version.version, learned.version.labels, learned.current_version) == (1, 6, None)
    assert learned.current_score == learned.report.accuracy_before  # the built-in model is current
    assert learned.version.promoted is promotes(learned.report.accuracy_after, learned.current_score)
    assert [v.version for v in models.versions()] == [1]


def test_a_model_worse_than_the_current_one_is_kept_but_not_promoted(
    uow: SqlUnitOfWork, kit: RoutingKit, tmp_path: Path
) -> None:
    corrected_desk(uow, kit)
    models = models_in(tmp_path)
    # the current model scored 100 % on every label there is (none newer than it)
    perfect = ModelVersion(
        version=0, score=1.0, labels=6, last_label_id=10**9, trained_at=NOW, source="desk", promoted=True
    )
    models.save({"current": "model"}, perfect)
    current_bytes = (tmp_path / "router-model.json").read_bytes()

    learned = learn_from_desk(uow, kit, models, builtin_examples(), at=NOW, folds=2)

    assert learned.report.accuracy_after < 1.0
    assert (learned.version.version, learned.version.promoted, learned.current_score) == (2, False, 1.0)
    assert (tmp_path / "router-model.json").read_bytes() == current_bytes
    assert models.current() == models.versions()[0]
    assert "not promoted: version 2 is kept, version 1 stays current" in learned.as_text()
    assert json.loads((tmp_path / "models" / "router-2.json").read_text(encoding="utf-8"))


SCORES = [
    pytest.param(0.5, 10, 4, 6, 9 / 16, id="trained on 10 at 50 %, 4 of 6 newer right: 9 of 16"),
    pytest.param(0.8, 100, 0, 50, 0.8 * 100 / 150, id="every newer label was a miss"),
    pytest.param(0.6, 5, 0, 0, 0.6, id="no newer labels: its own score"),
]


@pytest.mark.parametrize(("score", "trained", "hits", "newer", "expected"), SCORES)
def test_the_current_model_is_judged_on_labels_it_never_saw(
    score: float, trained: int, hits: int, newer: int, expected: float
) -> None:
    current = ModelVersion(
        version=1, score=score, labels=trained, last_label_id=1, trained_at=NOW, source="desk", promoted=True
    )
    assert held_out_score(current, hits, newer) == pytest.approx(expected)


def test_the_server_retrains_only_after_enough_new_labels(
    uow: SqlUnitOfWork, kit: RoutingKit, tmp_path: Path
) -> None:
    models = models_in(tmp_path)
    corrected_desk(uow, kit, LABELLED[:4])

    assert retrain_if_due(uow, kit, models, builtin_examples(), every=5, at=NOW) is None
    assert retrain_if_due(uow, kit, models, builtin_examples(), every=0, at=NOW) is None
    corrected_desk(uow, kit, LABELLED[4:])
    learned = retrain_if_due(uow, kit, models, builtin_examples(), every=5, at=NOW)

    assert learned is not None
    assert learned.version.last_label_id > 0
    # nothing new since that training: not due again
    assert retrain_if_due(uow, kit, models, builtin_examples(), every=5, at=NOW) is None

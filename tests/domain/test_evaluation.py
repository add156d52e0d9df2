"""The flags' recall and precision in `aftersales eval routing`: each flag is scored only on the
messages whose label speaks of it."""

from __future__ import annotations

import pytest

from aftersales.domain.evaluation import FlagLabel, score_flags

ALL = frozenset({"angry", "threatens_dispute"})


def label(stated: frozenset[str], labelled: set[str], raised: set[str]) -> FlagLabel:
    return FlagLabel(stated, frozenset(labelled), frozenset(raised))


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        # stated, set, raised per message -> (flag, stated, set, raised, correct)
        (
            [
                label(ALL, {"angry"}, {"angry"}),
                label(ALL, {"angry"}, set()),
                label(ALL, set(), {"angry", "threatens_dispute"}),
                label(ALL, {"threatens_dispute"}, {"threatens_dispute"}),
            ],
            [("angry", 4, 2, 2, 1), ("threatens_dispute", 4, 1, 2, 1)],
        ),
        # a message labelled for anger alone says nothing of disputes: its raised flag is not a miss
        (
            [label(frozenset({"angry"}), {"angry"}, {"angry", "threatens_dispute"})],
            [("angry", 1, 1, 1, 1)],
        ),
        ([label(frozenset(), set(), {"angry"})], []),
    ],
)
def test_flags_are_scored_where_labelled(
    labels: list[FlagLabel], expected: list[tuple[str, int, int, int, int]]
) -> None:
    scores = score_flags(labels)
    assert [(s.flag, s.stated, s.labelled, s.raised, s.correct) for s in scores] == expected


def test_recall_and_precision() -> None:
    (angry,) = score_flags(
        [
            label(frozenset({"angry"}), {"angry"}, {"angry"}),
            label(frozenset({"angry"}), {"angry"}, set()),
            label(frozenset({"angry"}), set(), set()),
        ]
    )
    assert (angry.recall, angry.precision) == (0.5, 1.0)
    (never,) = score_flags([label(frozenset({"angry"}), set(), set())])
    assert (never.recall, never.precision) == (0.0, 0.0)

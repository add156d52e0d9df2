"""The semantic reader: all-MiniLM-L6-v2 as a numpy forward pass, and the head shipped in the
package. The weights come from an installed package (./dev installs it); without them the
tests that need them are skipped and the router reads alone."""

from __future__ import annotations

import json
import logging
import pickle
from pathlib import Path

import pytest

from aftersales.adapters.files.packaged import read_packaged_text
from aftersales.adapters.reader.semantic import (
    HEAD_FILE,
    SemanticReader,
    head_from_dict,
    head_to_dict,
    semantic_reader,
    shipped_head,
    training_fingerprint,
)
from aftersales.adapters.reader.sentence_model import MiniLM, libraries_present, weights_folder
from aftersales.domain.routes import Route

FOLDER = weights_folder() if libraries_present() else None
needs_weights = pytest.mark.skipif(FOLDER is None, reason="the semantic reader's weights are not installed")

# sentence-transformers' documentation for all-MiniLM-L6-v2: cosine similarities of three pairs
PUBLISHED = [
    ("The cat sits outside", "The dog plays in the garden", 0.2838),
    ("A man is playing guitar", "A woman watches TV", -0.0327),
    ("The new movie is awesome", "The new movie is so great", 0.8939),
]


def test_the_shipped_head_was_fitted_on_todays_training_text() -> None:
    assert shipped_head().fingerprint == training_fingerprint(), (
        "data/examples.csv or data/training/*.csv changed: run "
        "`.venv/bin/python scripts/fit_semantic_head.py` and commit data/semantic_head.json"
    )


def test_the_head_round_trips_and_a_wrong_shape_is_refused() -> None:
    data = json.loads(read_packaged_text(HEAD_FILE))
    assert head_to_dict(head_from_dict(data))["routes"] == [r.value for r in Route]

    with pytest.raises(ValueError, match="expected 385 rows of 10 weights"):
        head_from_dict({**data, "weights": data["weights"][:-1]})


@needs_weights
def test_the_forward_pass_reproduces_the_published_similarities() -> None:
    assert FOLDER is not None
    model = MiniLM(FOLDER)
    for left, right, published in PUBLISHED:
        a, b = model.embed([left, right])
        assert float(a @ b) == pytest.approx(published, abs=5e-4)


@needs_weights
def test_a_message_reads_by_its_meaning() -> None:
    reader = semantic_reader()
    assert reader is not None

    read = reader("The parcel still hasn't come and it's been two weeks since I paid")

    assert sum(read.values()) == pytest.approx(1.0, abs=1e-4)
    assert max(read, key=lambda r: read[r]) is Route.SHIPPING_DELAY


def test_weights_that_are_not_the_measured_model_turn_it_off(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "model.safetensors").write_bytes(b"not the model")
    reader = SemanticReader(tmp_path)

    with caplog.at_level(logging.WARNING):
        assert reader("where is my parcel") == {}
        assert reader("where is my parcel") == {}

    assert [r.getMessage() for r in caplog.records] == [
        f"semantic reader off: {tmp_path} is not the measured model "
        "(sha256 9165d8b6a043…, expected 53aa51172d14…)"
    ]


def test_a_reader_crosses_to_a_spawned_process_without_its_model(tmp_path: Path) -> None:
    reader = SemanticReader(tmp_path)
    assert reader("hello") == {}  # tried to load: no model here

    copy = pickle.loads(pickle.dumps(reader))

    assert (copy.folder, copy._loaded, copy._broken) == (tmp_path, None, False)

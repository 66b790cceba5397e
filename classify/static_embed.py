"""A static (model2vec-style) backend: one fixed vector per vocabulary token, averaged.

Distilled offline from the bundled transformer: every token of the vocabulary is encoded
on its own (``[CLS] token [SEP]``, mean pooled, through the fp32 ONNX export), the vectors
are centred (the shared component says nothing about meaning), and each token is weighted
by ``log(2 + rank)`` of its vocabulary id (WordPiece ids roughly follow frequency, so rare,
meaningful pieces weigh more: a cheap stand-in for SIF weighting). A text is then the
weighted mean of its tokens' vectors: no matrix products, ~100x the transformer's speed,
at a clear loss of quality (see the README's table). Built on first use (~30 s on 2 cores)
and cached beside the ONNX files.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from classify.embed_backend import Backend, load_tokenizer, threads
from classify.onnx_export import cache_dir, cache_key, onnx_path

SPECIAL_IDS = (0, 100, 101, 102, 103)  # [PAD] [UNK] [CLS] [SEP] [MASK] in BERT's vocab
BUILD_BATCH = 1024


def static_file(model_path: Path, cache: Path | None = None) -> Path:
    """Where the token table of the model in ``model_path`` is cached (built or not)."""
    return (cache or cache_dir()) / f"minilm-{cache_key(model_path)}" / "static.npz"


def static_path(model_path: Path, cache: Path | None = None) -> Path:
    """The cached token table (``.npz``: ``vectors`` V x dim, ``weights`` V), built if missing."""
    target = static_file(model_path, cache)
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        vectors, weights = build_static(model_path)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".static-", suffix=".npz")
        os.close(fd)
        try:
            np.savez(tmp, vectors=vectors, weights=weights)
            os.replace(tmp, target)  # atomic: a concurrent builder never sees half a file
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return target


def build_static(model_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Token vectors (centred, float32) and token weights for the model in ``model_path``."""
    import onnxruntime as ort

    size = load_tokenizer(model_path).get_vocab_size()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads()
    options.log_severity_level = 3
    session = ort.InferenceSession(
        str(onnx_path(model_path, "fp32")), options, providers=["CPUExecutionProvider"]
    )
    ids = np.stack([np.full(size, 101), np.arange(size), np.full(size, 102)], axis=1).astype(
        np.int64
    )
    parts = []
    for lo in range(0, size, BUILD_BATCH):
        batch = ids[lo : lo + BUILD_BATCH]
        (pooled,) = session.run(None, {"input_ids": batch, "attention_mask": np.ones_like(batch)})
        parts.append(pooled)
    vectors = np.concatenate(parts).astype(np.float32)
    vectors -= vectors.mean(axis=0, keepdims=True)
    weights = np.log(2.0 + np.arange(size, dtype=np.float32))
    weights[list(SPECIAL_IDS)] = 0.0  # never counted, even if a caller passes them
    return vectors, weights


class StaticBackend(Backend):
    """Weighted mean of static token vectors (see the module docstring)."""

    name = "static"

    def load(self) -> None:
        with np.load(static_path(self.path)) as data:
            self.vectors_ = data["vectors"]
            self.weights_ = data["weights"]

    def run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        weights = self.weights_[ids] * mask  # special tokens and padding weigh 0
        total = np.maximum(weights.sum(axis=1, keepdims=True), 1e-9)
        return np.einsum("nl,nld->nd", weights, self.vectors_[ids]) / total

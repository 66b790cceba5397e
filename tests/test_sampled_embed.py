"""classify.sampled_embed: which texts get transformer vectors (fast, fakes), and the fitted
static model on the real all-MiniLM-L6-v2 (slow)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

import classify.sampled_embed as sampled
from classify.sampled_embed import FittedStatic, SampledEmbedder

REPO = Path(__file__).resolve().parents[1]


class RecordingEmbedder:
    """A fake exact embedder: row = one-hot-ish code of the text; remembers what it saw."""

    model = "fake"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.seen += list(texts)
        return np.array([[1.0, float(len(t)), 0.0] for t in texts], dtype=np.float32)


class ZeroFitted:
    """Stands in for FittedStatic: fitted rows are (0, 0, 1)."""

    def __init__(self, model: str, alpha: float) -> None:
        self.model = model

    def fit(self, texts: Sequence[str], vectors: np.ndarray) -> ZeroFitted:
        self.fit_texts = list(texts)
        return self

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        return np.tile(np.array([0.0, 0.0, 1.0], dtype=np.float32), (len(texts), 1))


def test_primed_embedder_answers_sample_texts_exactly_and_others_fitted(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from classify.sampled_embed import PrimedEmbedder

    monkeypatch.setattr(sampled, "FittedStatic", ZeroFittedOneArg)
    fake = RecordingEmbedder()
    with pytest.raises(RuntimeError, match="not primed"):
        PrimedEmbedder(fake).encode(["x"])
    corpus = [f"text {i}" for i in range(30)] + ["text 1"]
    primed = PrimedEmbedder(fake, max_exact=8).prime(corpus)
    assert len(fake.seen) == 8 and len(set(fake.seen)) == 8  # distinct texts, once each
    sample = fake.seen[0]
    other = next(t for t in corpus if t not in fake.seen)
    x = primed.encode([sample, other, "a sentence cut from a text"])
    assert x[0].tolist() == [1.0, float(len(sample)), 0.0]  # exact, from the sample
    assert x[1].tolist() == x[2].tolist() == [0.0, 0.0, 1.0]  # fitted
    assert len(fake.seen) == 8 and primed.model == "fake"  # encode never calls the transformer


class ZeroFittedOneArg(ZeroFitted):
    def __init__(self, model: str, alpha: float = 0.01) -> None:
        super().__init__(model, alpha)
        self.table_ = np.zeros((1, 3), dtype=np.float32)


def test_small_inputs_are_embedded_exactly() -> None:
    fake = RecordingEmbedder()
    embedder = SampledEmbedder(fake, max_exact=10)
    x = embedder.encode(["a", "bb", "a"])
    assert x.shape == (3, 3) and (embedder.n_exact_, embedder.n_fitted_) == (2, 0)
    assert SampledEmbedder(fake, max_exact=0).encode(["x"] * 20).shape == (20, 3)


def test_the_clustering_sample_gets_exact_vectors_first(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sampled, "FittedStatic", ZeroFitted)
    texts = [f"text {i}" for i in range(50)] + ["text 3"]  # a duplicate of row 3
    fake = RecordingEmbedder()
    embedder = SampledEmbedder(fake, max_exact=12, random_state=1)
    x = embedder.encode(texts, exact=[3, 7, 40])
    assert (embedder.n_exact_, embedder.n_fitted_) == (12, 38)
    assert len(fake.seen) == 12 and {"text 3", "text 7", "text 40"} <= set(fake.seen)
    exact = x[:, 0] == 1.0
    assert exact.sum() == 13  # the 12 exact texts, "text 3" twice
    assert exact[[3, 7, 40, 50]].all()
    assert np.array_equal(x[3], x[50])
    assert not exact[[i for i, t in enumerate(texts) if t not in fake.seen]].any()


def test_themes_sample_rows_are_what_fit_clusters() -> None:
    from classify.themes import ThemeModel

    model = ThemeModel(sample_size=5, random_state=3)
    rows = model.sample_rows(40)
    assert len(rows) == 5 and list(rows) == sorted(set(rows.tolist()))
    assert np.array_equal(rows, ThemeModel(sample_size=5, random_state=3).sample_rows(40))
    assert list(model.sample_rows(4)) == [0, 1, 2, 3]


def test_unfitted_and_mismatched_inputs_are_clear_errors() -> None:
    with pytest.raises(RuntimeError, match="not fitted"):
        FittedStatic().transform(["a"])
    with pytest.raises(ValueError, match="one vector per text"):
        FittedStatic().fit(["a", "b"], np.zeros((1, 384)))


def _comments() -> list[str]:
    from classify.taxonomy import load_taxonomy

    with (REPO / "qa" / "demo" / "data" / "surveys.csv").open(encoding="utf-8") as handle:
        texts = [row["comment"] for row in csv.DictReader(handle) if row["comment"].strip()]
    for spec in load_taxonomy():
        for source in spec.applies_to:
            texts += list(spec.examples_for(source))
    return list(dict.fromkeys(texts))


@pytest.mark.slow
def test_fitted_static_comes_close_to_the_transformer_on_unseen_texts() -> None:
    from classify.embeddings import Embedder

    texts = _comments()
    assert len(texts) > 150
    rng = np.random.default_rng(0)
    order = rng.permutation(len(texts))
    train = [texts[i] for i in order[: len(texts) * 2 // 3]]
    test = [texts[i] for i in order[len(texts) * 2 // 3 :]]
    exact = Embedder()
    fitted = FittedStatic().fit(train, exact.encode(train))
    assert fitted.n_tokens_fitted_ > 50
    truth = exact.encode(test)
    cos_fitted = float((fitted.transform(test) * truth).sum(axis=1).mean())
    cos_static = float((Embedder(backend="static").encode(test) * truth).sum(axis=1).mean())
    # Fitting to this corpus must beat the distilled table it starts from, by a margin.
    print(f"cosine to the transformer: fitted {cos_fitted:.3f}, distilled {cos_static:.3f}")
    assert cos_fitted > cos_static + 0.05, (cos_fitted, cos_static)
    assert cos_fitted > 0.6


@pytest.mark.slow
def test_cli_cluster_with_a_fitted_rest_keeps_the_themes(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from qa.commands.text import app

    topics = {
        "refund": "I am still waiting for my refund of {n} dollars",
        "hold": "I was on hold for {n} minutes before anyone answered",
        "card": "My new card number {n} does not work at the shop",
    }
    texts, labels = [], []
    for name, template in topics.items():
        for n in range(2, 62):
            texts.append(template.format(n=n))
            labels.append(name)
    path = tmp_path / "in.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text"])
        writer.writerows([t] for t in texts)
    args = ["cluster", str(path), "--k", "3", "--exact-texts", "60"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "embedded 60 distinct texts with the transformer and 120 with a static" in (
        result.stderr
    )
    clusters = [json.loads(line)["cluster"] for line in result.stdout.splitlines()]
    per_topic = {name: {c for c, t in zip(clusters, labels, strict=True) if t == name}
                 for name in topics}  # fmt: skip
    assert all(len(ids) == 1 for ids in per_topic.values()), per_topic
    assert len(set().union(*per_topic.values())) == 3

"""Themes: c-TF-IDF, k choice, clustering, id matching, assignment, and the DB stage.

All fast: embeddings are precomputed blobs or come from a tiny bag-of-words fake embedder,
so no model is loaded.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pytest

from classify.clustering import (
    EIGEN_FLOOR,
    assign,
    candidate_ks,
    choose_k,
    partition,
    smooth_labels,
)
from classify.ctfidf import ctfidf, keywords
from classify.matching import match_ids, stable_ids
from classify.themes import PreviousThemes, Theme, ThemeModel

DIM = 48


class FakeEmbedder:
    """Bag of words: each word a fixed random unit vector, a text the normalised sum."""

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                rng = np.random.default_rng(zlib.crc32(word.strip(".,!?").encode()))
                out[i] += rng.normal(size=DIM)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def blobs(sizes: Sequence[int], dim: int = DIM, spread: float = 0.08, seed: int = 0):
    """Well-separated unit-vector blobs: (vectors, true labels)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(sizes), dim))
    x = np.vstack(
        [
            c + spread * rng.normal(size=(n, dim)) * np.linalg.norm(c)
            for c, n in zip(centres, sizes, strict=True)
        ]
    )
    y = np.repeat(np.arange(len(sizes)), sizes)
    return x / np.linalg.norm(x, axis=1, keepdims=True), y


TOPICS = {
    "billing": ["refund", "invoice", "charged", "bill", "overcharged", "payment"],
    "network": ["router", "wifi", "internet", "outage", "signal", "modem"],
    "wait": ["hold", "queue", "waited", "forever", "minutes", "hour"],
}


def topic_texts(per_topic: int = 12, seed: int = 0) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for name, words in TOPICS.items():
        for _ in range(per_topic):
            picked = rng.choice(words, size=4, replace=False)
            texts.append(" ".join(picked))
            labels.append(name)
    return texts, labels


# --------------------------------------------------------------------------- c-TF-IDF


def test_ctfidf_weights_follow_the_formula() -> None:
    docs = ["refund refund late card", "router wifi router card the"]
    weights, terms = ctfidf(docs)
    assert terms == ["card", "late", "refund", "router", "wifi"]  # "the": a stop word
    average = 8 / 2  # terms per class
    assert weights[0, terms.index("refund")] == pytest.approx(2 / 4 * math.log(1 + average / 2))
    assert weights[0, terms.index("late")] == pytest.approx(1 / 4 * math.log(1 + average / 1))
    assert weights[0, terms.index("router")] == 0.0


def test_ctfidf_keywords_exact_on_a_toy_corpus() -> None:
    texts = [
        "I want a refund, refund now",
        "late refund on my card",
        "my router and wifi keep dropping",
        "router reset, wifi still down, card reader fine",
        "didn't get it, 24 hours",
    ]
    labels = [0, 0, 1, 1, -1]
    words = keywords(texts, labels, n=3)
    assert words == {0: ("refund", "late", "want"), 1: ("router", "wifi", "dropping")}
    assert keywords([], [], n=3) == {}
    assert keywords(["the and of", "a an"], [0, 1]) == {0: (), 1: ()}  # only stop words
    with pytest.raises(ValueError, match="2 texts but 1 labels"):
        keywords(["a", "b"], [0])


# --------------------------------------------------------------------------- k and partitions


def test_auto_k_finds_the_true_k_on_separated_blobs() -> None:
    x, _ = blobs([40, 30, 50, 35, 45, 30])
    k, curve = choose_k(x)
    assert k == 6
    # Six separate groups: six eigenvalues at 1, then a drop below the floor.
    assert curve[6] >= EIGEN_FLOOR > curve[7]
    for method in ("kmeans", "agglomerative"):
        assert choose_k(x, (2, 12), method)[0] == 6
    for criterion in ("eigengap", "silhouette"):
        k, curve = choose_k(x, criterion=criterion)
        assert k == 6
    assert max(curve, key=curve.get) == 6  # the silhouette peaks at the true k
    assert choose_k(x, (8, 12))[0] == 8  # --min-k bounds it
    assert choose_k(x, (2, 4))[0] == 4  # --max-k too
    with pytest.raises(ValueError, match="valid: eigen-floor, eigengap, silhouette"):
        choose_k(x, criterion="elbow")


@pytest.mark.parametrize("method", ["spectral", "kmeans", "agglomerative"])
def test_partition_recovers_blobs(method: str) -> None:
    from sklearn.metrics import adjusted_rand_score

    x, y = blobs([30, 40, 25, 35])
    assert adjusted_rand_score(y, partition(x, 4, method)) == pytest.approx(1.0)


def test_diffusion_time_weights_eigenvectors_by_their_eigenvalue() -> None:
    from sklearn.metrics import adjusted_rand_score

    # Column 0 splits {a, b} from {c, d} faintly; column 1 splits {a, c} from {b, d}
    # strongly. Unweighted, k-means follows column 1; with column 1's eigenvalue near 0 and
    # diffusion time 2 it counts for ~nothing, so k-means follows column 0.
    corners = np.array([[0.3, 3.0], [0.3, -3.0], [-0.3, 3.0], [-0.3, -3.0]])
    maps = np.repeat(corners, 5, axis=0) + 0.01 * np.random.default_rng(0).normal(size=(20, 2))
    by_column_0 = np.repeat([0, 0, 1, 1], 5)
    by_column_1 = np.repeat([0, 1, 0, 1], 5)
    values = np.array([1.0, 0.05])
    assert adjusted_rand_score(by_column_1, assign(maps, 2, values=values, diffusion=0)) == 1
    assert adjusted_rand_score(by_column_1, assign(maps, 2)) == 1  # no values: unweighted
    assert adjusted_rand_score(by_column_0, assign(maps, 2, values=values)) == 1

    x, y = blobs([30, 40, 25, 35])
    assert adjusted_rand_score(y, partition(x, 4, diffusion=0)) == pytest.approx(1.0)
    model = ThemeModel(k=4, diffusion_time=0.0, min_cluster_size=1)
    assert model.diffusion_time == 0.0  # sklearn contract: __init__ stores it as given
    labels = model.fit([str(i) for i in range(len(x))], x).labels_
    assert adjusted_rand_score(y, labels) == pytest.approx(1.0)


def test_smoothing_moves_a_text_to_the_group_its_neighbours_are_in() -> None:
    from scipy.sparse import csr_matrix

    # Two triangles {0, 1, 2} and {3, 4, 5} joined by one weak edge 2-3, and node 6 alone.
    # k-means put node 2 with the other triangle: its two strong edges vote it back home;
    # node 6, with no edge, keeps its group.
    edges = [(0, 1, 1.0), (0, 2, 1.0), (1, 2, 1.0), (3, 4, 1.0), (3, 5, 1.0), (4, 5, 1.0)]
    edges.append((2, 3, 0.2))
    rows = [a for a, b, _ in edges] + [b for a, b, _ in edges]
    cols = [b for a, b, _ in edges] + [a for a, b, _ in edges]
    weights = [w for *_, w in edges] * 2
    graph = csr_matrix((weights, (rows, cols)), shape=(7, 7))
    wrong = np.array([0, 0, 1, 1, 1, 1, 2])
    assert smooth_labels(graph, wrong).tolist() == [0, 0, 0, 1, 1, 1, 2]
    assert smooth_labels(graph, wrong, rounds=0).tolist() == wrong.tolist()

    x, y = blobs([30, 40, 25, 35])
    model = ThemeModel(k=4, smooth_rounds=0, min_cluster_size=1)
    assert model.smooth_rounds == 0  # sklearn contract: __init__ stores it as given
    from sklearn.metrics import adjusted_rand_score

    labels = model.fit([str(i) for i in range(len(x))], x).labels_
    assert adjusted_rand_score(y, labels) == pytest.approx(1.0)


def test_partition_errors_and_edges() -> None:
    x, _ = blobs([5, 5])
    with pytest.raises(ValueError, match="valid: spectral, kmeans, agglomerative"):
        partition(x, 2, "dbscan")
    assert partition(x, 1).tolist() == [0] * 10
    assert candidate_ks(1000, (5, 5)) == [5]
    assert candidate_ks(100, None)[-1] == 10 and candidate_ks(100, None)[0] == 2


# --------------------------------------------------------------------------- id matching


def test_match_ids_by_overlap_and_by_centroid() -> None:
    previous = {7: {"a", "b", "c"}, 9: {"d", "e"}, 11: {"x"}}
    new = {0: {"d", "e", "f"}, 1: {"a", "b"}, 2: {"q", "r"}}
    matches = match_ids(previous, new)
    assert matches == {0: 9, 1: 7, 2: None}
    assert stable_ids(matches, used=[7, 9, 11, 12]) == {0: 9, 1: 7, 2: 13}
    assert match_ids({}, new) == {0: None, 1: None, 2: None}

    e = np.eye(3)
    by_centroid = match_ids({4: e[0], 5: e[1]}, {"x": e[1] + 0.1 * e[2], "y": e[2]})
    assert by_centroid == {"x": 5, "y": None}
    with pytest.raises(ValueError, match="not a mix"):
        match_ids({1: e[0]}, {2: {"a"}})
    with pytest.raises(ValueError, match="same embedding model"):
        match_ids({1: e[0]}, {2: np.ones(5)})


def test_recluster_keeps_ids_on_permuted_input() -> None:
    x, _y = blobs([30, 40, 25, 35, 20])
    keys = [f"t{i}" for i in range(len(x))]
    first = ThemeModel(k=5).fit(keys, x)
    perm = np.random.default_rng(3).permutation(len(x))
    second = ThemeModel(k=5, random_state=11).fit([keys[i] for i in perm], x[perm], previous=first)
    assert second.labels_.tolist() == first.labels_[perm].tolist()
    assert sorted(first.ids_) == [0, 1, 2, 3, 4]  # first fit: ids by size
    assert [t.size for t in first.themes_] == [40, 35, 30, 25, 20]


def test_recluster_new_theme_gets_a_new_id_and_ended_ids_are_not_reused() -> None:
    x, y = blobs([30, 40, 25, 35], seed=1)
    keys = [f"t{i}" for i in range(len(x))]
    first = ThemeModel(k=4).fit(keys, x)
    gone = first.labels_[y == 3][0]  # the blob that disappears
    extra, _ = blobs([30], seed=99)
    keep = y != 3
    texts2 = [k for k, m in zip(keys, keep, strict=True) if m] + [f"n{i}" for i in range(30)]
    second = ThemeModel(k=4).fit(texts2, np.vstack([x[keep], extra]), previous=first)
    assert second.labels_[: keep.sum()].tolist() == first.labels_[keep].tolist()
    assert set(second.labels_[keep.sum() :].tolist()) == {4}  # above every id used
    assert gone not in second.ids_
    assert second.used_ids_ == frozenset({0, 1, 2, 3, 4})
    third = ThemeModel(k=4).fit(
        texts2, np.vstack([x[keep], extra]), previous=PreviousThemes({}, frozenset({0, 1, 2, 3, 4}))
    )
    assert sorted(third.ids_) == [5, 6, 7, 8]


# --------------------------------------------------------------------------- ThemeModel


def test_theme_model_on_texts_with_a_fake_embedder() -> None:
    texts, labels = topic_texts()
    embedder = FakeEmbedder()
    model = ThemeModel(embedder=embedder, n_keywords=6).fit(texts)
    assert model.k_ == 3 and model.k_curve_
    assert embedder.calls == 1
    assert len(model.themes_) == 3
    for theme in model.themes_:
        assert isinstance(theme, Theme)
        members = [labels[i] for i in np.flatnonzero(model.labels_ == theme.id)]
        topic = max(set(members), key=members.count)
        assert set(theme.keywords) <= set(TOPICS[topic]), theme
        assert len(theme.examples) == 3 and len(set(theme.examples)) == 3
        assert all(any(w in ex for w in TOPICS[topic]) for ex in theme.examples)


def test_predict_threshold() -> None:
    x, _ = blobs([30, 30, 30], seed=2)
    model = ThemeModel(k=3, assign_threshold=0.8).fit([f"t{i}" for i in range(90)], x)
    near = x[[0, 45]] + 0.01
    far = np.random.default_rng(5).normal(size=(2, DIM))
    ids = model.predict(["a", "b", "c", "d"], np.vstack([near, far]))
    assert ids[:2].tolist() == model.labels_[[0, 45]].tolist()
    assert ids[2:].tolist() == [-1, -1]
    _, sims = model.similarities(["c"], far[:1])
    assert sims[0] < 0.8
    loose = ThemeModel(k=3, assign_threshold=-1.0).fit([f"t{i}" for i in range(90)], x)
    assert (loose.predict(["c", "d"], far) >= 0).all()


def test_sampled_fit_small_clusters_and_errors() -> None:
    from sklearn.metrics import adjusted_rand_score

    x, y = blobs([60, 50, 40], seed=4)
    model = ThemeModel(k=3, sample_size=60).fit([str(i) for i in range(len(x))], x)
    assert adjusted_rand_score(y, model.labels_) == pytest.approx(1.0)
    x, y = blobs([40, 40, 2], seed=4)
    model = ThemeModel(k=3, min_cluster_size=5, method="kmeans").fit([str(i) for i in range(82)], x)
    assert model.labels_[y == 2].tolist() == [-1, -1]
    assert len(model.themes_) == 2 and (model.labels_ != -1).sum() == 80
    with pytest.raises(RuntimeError, match="not fitted"):
        ThemeModel().predict(["a"], x[:1])
    with pytest.raises(ValueError, match=r"shape \(3, d\)"):
        ThemeModel(k=2).fit(["a", "b", "c"], x[:2])
    with pytest.raises(ValueError, match="one key per text"):
        ThemeModel(k=2).fit(["a", "b"], x[:2], keys=["k"])
    with pytest.raises(ValueError, match="fitted on 48"):
        model.predict(["a"], np.ones((1, 5)))


# --------------------------------------------------------------------------- DB stage


def _seed(engine, comments: Sequence[str], start: int = 0) -> list[int]:  # type: ignore[no-untyped-def]
    from sqlmodel import Session

    from qa.store.schema import Call, Survey, Turn

    ids = []
    with Session(engine) as session:
        for i, comment in enumerate(comments, start=start):
            call = Call(external_id=f"c{i}", started_at=datetime(2025, 1, 1, 9, 0))
            session.add(call)
            session.flush()
            session.add(Survey(call_external_id=call.external_id, comment=comment))
            session.add(
                Turn(call_id=call.id, index=0, speaker="customer", start=0, end=1, text="yes ok")
            )
            ids.append(call.id)
        session.commit()
    return ids


def test_theme_stage_full_incremental_rename_promote(engine) -> None:  # type: ignore[no-untyped-def]
    from sqlmodel import Session, select

    from qa.stages.theme_review import promote_theme, rename_theme
    from qa.stages.themes import theme_calls
    from qa.store.schema import Cluster, Decision, ThemeMember

    embed = FakeEmbedder().encode
    texts, _labels = topic_texts(per_topic=10)
    _seed(engine, texts)
    report = theme_calls(engine, embed=embed, k=3)
    assert (report.mode, report.texts, report.themes, report.new_themes) == ("full", 30, 3, 3)
    with Session(engine) as session:
        clusters = {c.id: c for c in session.exec(select(Cluster))}
        members = list(session.exec(select(ThemeMember)))
        assert len(members) == 30  # the "yes ok" turns are too short to cluster
        billing = next(c for c in clusters.values() if set(c.keywords) <= set(TOPICS["billing"]))
        assert billing.size == 10 and len(billing.examples) == 3 and len(billing.centroid) == DIM
        rename_theme(session=session, cluster_id=billing.id, label="  Billing errors ")
        session.commit()
        billing_id = billing.id

    more, _ = topic_texts(per_topic=2, seed=7)
    _seed(engine, [*more, "completely unrelated zebra giraffe"], start=100)
    report = theme_calls(engine, embed=embed, assign_threshold=0.3)
    assert (report.mode, report.assigned, report.unassigned) == ("incremental", 6, 1)

    report = theme_calls(engine, embed=embed, k=3, full=True)
    assert (report.mode, report.themes, report.new_themes, report.ended_themes) == ("full", 3, 0, 0)
    with Session(engine) as session:
        kept = session.get(Cluster, billing_id)
        assert kept.label == "Billing errors" and kept.size >= 12
        assert (
            promote_theme(session=session, cluster_id=billing_id, tag_name="billing-error")
            == kept.size
        )
        session.commit()
        tags = list(session.exec(select(Decision).where(Decision.tag == "billing-error")))
        assert len(tags) == kept.size
        assert all(t.origin == "theme" and t.present and t.source == "comment" for t in tags)
        assert session.get(Cluster, billing_id).promoted_tag == "billing-error"
        assert promote_theme(session=session, cluster_id=billing_id, tag_name="billing-error") == 0
        with pytest.raises(ValueError, match="lower-case letters"):
            promote_theme(session=session, cluster_id=billing_id, tag_name="Billing Error")
        with pytest.raises(LookupError, match="no theme with id 999; current themes"):
            rename_theme(session=session, cluster_id=999, label="x")
        with pytest.raises(ValueError, match="label is empty"):
            rename_theme(session=session, cluster_id=billing_id, label="  ")


def test_theme_stage_too_few_texts_and_changed_text(engine) -> None:  # type: ignore[no-untyped-def]
    from sqlmodel import Session, select

    from qa.stages.themes import theme_calls
    from qa.store.schema import Survey, ThemeMember

    embed = FakeEmbedder().encode
    _seed(engine, ["refund invoice charged bill"] * 3)
    assert theme_calls(engine, embed=embed).mode == "none"
    texts, _ = topic_texts(per_topic=8)
    _seed(engine, texts, start=10)
    assert theme_calls(engine, embed=embed, k=3).mode == "full"
    with Session(engine) as session:
        survey = session.exec(select(Survey).where(Survey.call_external_id == "c10")).one()
        survey.comment = "router wifi modem outage"
        session.add(survey)
        session.commit()
    report = theme_calls(engine, embed=embed, assign_threshold=0.3)
    assert (report.mode, report.assigned) == ("incremental", 1)
    with Session(engine) as session:
        texts_now = [m.text for m in session.exec(select(ThemeMember))]
        assert "router wifi modem outage" in texts_now


# --------------------------------------------------------------------------- qa text cluster


def test_cli_cluster_jsonl_csv_and_summary(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import csv
    import json

    from typer.testing import CliRunner

    import classify.embeddings
    from qa.commands.text import app

    monkeypatch.setattr(classify.embeddings, "Embedder", lambda **_: FakeEmbedder())
    texts, labels = topic_texts(per_topic=10)
    path = tmp_path / "in.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        writer.writerows([[i, t] for i, t in enumerate(texts)] + [[99, ""]])
    runner = CliRunner()
    summary = tmp_path / "summary.json"
    result = runner.invoke(
        app, ["cluster", str(path), "--column", "text", "--summary", str(summary)]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [sorted(line) for line in lines] == [["cluster", "row"]] * 31
    assert [line["row"] for line in lines] == list(range(1, 32))
    assert lines[-1]["cluster"] == -1  # the empty text
    by_topic = {}
    for line, topic in zip(lines, labels, strict=False):
        by_topic.setdefault(topic, set()).add(line["cluster"])
    assert all(len(ids) == 1 for ids in by_topic.values())
    data = json.loads(summary.read_text(encoding="utf-8"))
    assert (data["k"], data["k_chosen"], data["rows"], data["unassigned"]) == (3, True, 31, 1)
    assert sorted(c["size"] for c in data["clusters"]) == [10, 10, 10]
    assert all(set(c) == {"id", "size", "name", "keywords", "examples"} for c in data["clusters"])
    assert all(c["name"] for c in data["clusters"])
    assert data["k_criterion"] == "eigen-floor" and data["k_curve"][2][1] >= EIGEN_FLOOR

    result = runner.invoke(app, ["cluster", str(path), "--column", "text", "--k", "2", "-f", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(result.stdout.splitlines()))
    assert list(rows[0]) == ["id", "text", "cluster"] and len(rows) == 31
    assert {r["cluster"] for r in rows[:30]} <= {"0", "1"}
    assert "2 clusters (k given: 2)" in result.stderr

    result = runner.invoke(app, ["cluster", str(path), "--column", "comment"])
    assert result.exit_code == 1
    assert "no column 'comment'" in result.stderr and "'id', 'text'" in result.stderr


def test_theme_stage_reclusters_when_many_texts_fit_no_theme(engine) -> None:  # type: ignore[no-untyped-def]
    from sqlmodel import Session, select

    from qa.stages.themes import theme_calls
    from qa.store.schema import Cluster, ThemeMember

    embed = FakeEmbedder().encode
    texts, _ = topic_texts(per_topic=8)
    _seed(engine, texts)
    assert theme_calls(engine, embed=embed, k=3).themes == 3
    rng = np.random.default_rng(0)
    zoo = ["zebra", "giraffe", "lion", "tiger", "panda", "koala"]
    _seed(engine, [" ".join(rng.choice(zoo, 4, replace=False)) for _ in range(12)], start=50)
    report = theme_calls(engine, embed=embed, assign_threshold=0.6)
    assert (report.mode, report.texts, report.themes, report.new_themes) == ("full", 36, 4, 1)
    with Session(engine) as session:
        assert len(list(session.exec(select(ThemeMember)))) == 36
        new = max(session.exec(select(Cluster)), key=lambda c: c.id)
        assert new.size >= 10 and set(new.keywords) <= set(zoo)

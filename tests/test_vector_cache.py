"""classify.vector_cache: the on-disk cache of transformer vectors that ``qa text tag`` and
``qa text cluster`` share, and the seeded sample order that makes their samples overlap.

Fast: the cache on fake vectors (round trip, namespaces, bound, a damaged file, two
processes). Slow: the real embedder through the cache, and the two commands one after the
other.
"""

from __future__ import annotations

import csv
import json
import logging
import multiprocessing
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from classify.sampled_embed import SampledEmbedder, seeded_order
from classify.vector_cache import CachedEmbedder, VectorCache, cache_folder, cached, max_vectors

runner = CliRunner()


def _vectors(n: int, dim: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)


class CountingEmbedder:
    """A fake exact embedder: a seeded vector per text; counts the texts it embeds."""

    model = "fake"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts: Sequence[str], progress=None) -> np.ndarray:  # type: ignore[no-untyped-def]
        self.seen += list(texts)
        if progress is not None:
            progress(len(texts), len(texts))
        return np.stack([_vectors(1, seed=len(t) * 7919 + ord(t[0]))[0] for t in texts])


# ------------------------------------------------------------------------ the cache (fast)


def test_round_trip_is_bit_exact_and_misses_are_flagged(tmp_path: Path) -> None:
    cache = VectorCache(tmp_path / "v.sqlite3", "model-a", dim=4)
    texts = ["hello", "héllo wörld", "", "x" * 5000, "\ud800 lone surrogate"]
    x = _vectors(len(texts))
    got, found = cache.get_many(texts)  # no file yet: all misses, nothing created
    assert not found.any() and not (tmp_path / "v.sqlite3").exists()
    cache.put_many(texts, x)
    got, found = cache.get_many([*texts, "unseen", "hello"])
    assert found.tolist() == [True] * 5 + [False, True]
    assert got[:5].tobytes() == x.tobytes() and np.array_equal(got[6], x[0])
    assert not got[5].any() and len(cache) == 5
    # Another namespace (model, backend, runtime) never reads these vectors.
    assert not VectorCache(cache.path, "model-b", dim=4).get_many(texts)[1].any()
    with pytest.raises(ValueError, match="need 2 x 4 vectors"):
        cache.put_many(["a", "b"], _vectors(2, dim=3))


def test_the_cache_keeps_at_most_max_vectors_least_recently_used_first(tmp_path: Path) -> None:
    cache = VectorCache(tmp_path / "v.sqlite3", "m", dim=4, max_vectors=10)
    cache.put_many([f"old {i}" for i in range(8)], _vectors(8))
    cache.get_many(["old 0"])  # used again: newer than the other old ones
    cache.put_many([f"new {i}" for i in range(4)], _vectors(4, seed=1))
    assert len(cache) == 9  # 12 > 10: down to 90 % of the bound, 3 of the least recent gone
    _, found = cache.get_many(["old 0", *[f"new {i}" for i in range(4)]])
    assert found.all()
    assert cache.get_many([f"old {i}" for i in range(1, 8)])[1].sum() == 4


def test_a_damaged_cache_file_is_skipped_not_an_error(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "v.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    cache = VectorCache(path, "m", dim=4)
    with caplog.at_level(logging.WARNING, logger="classify.vector_cache"):
        _, found = cache.get_many(["a"])
        cache.put_many(["a"], _vectors(1))
    assert not found.any() and cache.broken and "embedding without it" in caplog.text
    embedder = CountingEmbedder()
    x = CachedEmbedder(embedder, cache).encode(["a", "b"])
    assert x.shape == (2, 4) and embedder.seen == ["a", "b"]


def test_a_write_that_finds_the_file_locked_is_tried_again(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    from classify import vector_cache

    cache = VectorCache(tmp_path / "v.sqlite3", "m", dim=4)
    real = VectorCache._write
    calls = []

    def locked_twice(self, records):  # type: ignore[no-untyped-def]
        calls.append(len(records))
        if len(calls) <= 2:
            raise sqlite3.OperationalError("database is locked")
        real(self, records)

    monkeypatch.setattr(VectorCache, "_write", locked_twice)
    monkeypatch.setattr(vector_cache.time, "sleep", lambda s: None)
    cache.put_many(["a", "b"], _vectors(2))
    assert calls == [2, 2, 2] and not cache.broken and len(cache) == 2
    monkeypatch.setattr(VectorCache, "_write", lambda self, r: (_ for _ in ()).throw(
        sqlite3.OperationalError("disk I/O error")))  # fmt: skip
    cache.put_many(["c"], _vectors(1))  # not a lock: given up at once, the cache set aside
    assert cache.broken


def _writer(path: str, start: int) -> None:
    cache = VectorCache(Path(path), "m", dim=4)
    for lo in range(start, start + 200, 20):
        cache.put_many([f"t{i}" for i in range(lo, lo + 20)], _vectors(20, seed=lo))


def test_two_processes_write_one_cache_at_the_same_time(tmp_path: Path) -> None:
    path = tmp_path / "v.sqlite3"
    context = multiprocessing.get_context("spawn")
    procs = [context.Process(target=_writer, args=(str(path), s)) for s in (0, 100)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
    assert [proc.exitcode for proc in procs] == [0, 0]
    cache = VectorCache(path, "m", dim=4)
    got, found = cache.get_many([f"t{i}" for i in range(300)])
    assert found.all() and len(cache) == 300
    assert np.array_equal(got[280:300], _vectors(20, seed=280))  # whole batches, not halves


def test_cached_embedder_embeds_each_missing_text_once(tmp_path: Path) -> None:
    fake = CountingEmbedder()
    embedder = CachedEmbedder(fake, VectorCache(tmp_path / "v.sqlite3", "m", dim=4))
    first = embedder.encode(["a", "bb", "a", "ccc"])
    assert fake.seen == ["a", "bb", "ccc"] and (embedder.n_cached_, embedder.n_embedded_) == (0, 3)
    calls: list[tuple[int, int]] = []
    second = embedder.encode(["ccc", "dddd", "a"], progress=lambda d, t: calls.append((d, t)))
    assert fake.seen[3:] == ["dddd"] and (embedder.n_cached_, embedder.n_embedded_) == (2, 1)
    assert calls[-1] == (3, 3)  # cached texts count as done
    assert np.array_equal(second[0], first[3]) and np.array_equal(second[2], first[0])
    with pytest.raises(TypeError, match="sequence of texts"):
        embedder.encode("one string")


def test_settings_and_what_gets_a_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from classify.embeddings import Embedder

    monkeypatch.setenv("CALLQA_VECTOR_CACHE", str(tmp_path))
    assert cache_folder() == tmp_path
    wrapped = cached(Embedder())
    assert isinstance(wrapped, CachedEmbedder) and wrapped.cache.path.parent.parent == tmp_path
    assert (
        wrapped.model == Embedder().model and "onnx-int8|onnxruntime==" in wrapped.cache.namespace
    )
    fake = CountingEmbedder()
    assert cached(fake) is fake  # a stand-in embedder is never cached
    static = Embedder(backend="static")
    assert cached(static) is static  # cheaper than the cache
    monkeypatch.setenv("CALLQA_VECTOR_CACHE", "off")
    assert cache_folder() is None and not isinstance(cached(Embedder()), CachedEmbedder)
    monkeypatch.setenv("CALLQA_VECTOR_CACHE", str(tmp_path))
    monkeypatch.setenv("CALLQA_VECTOR_CACHE_MAX", "0")
    assert max_vectors() == 0 and not isinstance(cached(Embedder()), CachedEmbedder)
    monkeypatch.setenv("CALLQA_VECTOR_CACHE_MAX", "many")
    with pytest.raises(ValueError, match="CALLQA_VECTOR_CACHE_MAX"):
        max_vectors()


def test_seeded_order_depends_on_each_text_alone() -> None:
    texts = [f"text {i}" for i in range(200)]
    order = [texts[i] for i in seeded_order(texts, 0)]
    subset = texts[50:150][::-1]
    sub_order = [subset[i] for i in seeded_order(subset, 0)]
    assert sub_order == [t for t in order if t in set(subset)]  # same relative order
    assert order != texts and [texts[i] for i in seeded_order(texts, 1)] != order


def test_sampled_embedder_fills_its_sample_in_seeded_order() -> None:
    class Fitted:
        def __init__(self, model: str, alpha: float) -> None:
            pass

        def fit(self, texts: Sequence[str], vectors: np.ndarray) -> Fitted:
            return self

        def transform(self, texts: Sequence[str]) -> np.ndarray:
            return np.zeros((len(texts), 4), dtype=np.float32)

    import classify.sampled_embed as sampled

    texts = [f"text {i}" for i in range(60)]
    fake = CountingEmbedder()
    original = sampled.FittedStatic
    sampled.FittedStatic = Fitted  # type: ignore[misc]
    try:
        SampledEmbedder(fake, max_exact=10).encode(texts, exact=[5])
    finally:
        sampled.FittedStatic = original  # type: ignore[misc]
    first = [texts[i] for i in seeded_order(texts, 0) if i != 5][:9]
    assert set(fake.seen) == {"text 5", *first}


# --------------------------------------------------------------------- real models (slow)


@pytest.mark.slow
def test_real_embedder_vectors_come_back_identical_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from classify.embeddings import Embedder

    monkeypatch.setenv("CALLQA_VECTOR_CACHE", str(tmp_path))
    texts = ["I was on hold for an hour", "nobody called me back", "great service", "ok"]
    first = cached(Embedder())
    x = first.encode(texts)
    assert first.n_embedded_ == 4
    second = cached(Embedder())  # a new embedder, as in another process
    calls: list[list[str]] = []
    inner = second.embedder.encode
    second.embedder.encode = lambda t, **kw: calls.append(list(t)) or inner(t, **kw)  # type: ignore[method-assign]
    y = second.encode([*texts[::-1], "a new text"])
    assert calls == [["a new text"]] and second.n_cached_ == 4
    assert y[:4][::-1].tobytes() == x.tobytes()  # bit for bit
    assert np.allclose(np.linalg.norm(y, axis=1), 1.0, atol=1e-5)


def _texts_csv(path: Path, texts: list[str]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text"])
        writer.writerows([t] for t in texts)
    return path


@pytest.mark.slow
def test_cluster_after_tag_reads_the_vectors_tag_embedded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qa.commands.text import app

    monkeypatch.setenv("CALLQA_VECTOR_CACHE", str(tmp_path / "cache"))
    topics = ["I waited on hold for ages before anyone answered",
              "they promised to call me back and never did",
              "my card was declined at the shop again",
              "the refund still has not reached my account"]  # fmt: skip
    words = ["today", "yesterday", "this morning", "last week", "again", "twice"]
    texts = [f"{t} {w}" for t in topics for w in words]  # 24 distinct, nothing to clean
    path = _texts_csv(tmp_path / "in.csv", texts)
    tag = runner.invoke(app, ["tag", str(path), "--column", "text", "--exact-texts", "8"])
    assert tag.exit_code == 0, tag.output
    assert "embeds 8 of 24 distinct texts" in tag.output and "vector cache" not in tag.output
    args = ["cluster", str(path), "--k", "4", "--exact-texts", "0"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "8 transformer vectors read from the vector cache" in first.stderr
    again = runner.invoke(app, args)  # a re-run: every vector from the cache
    assert again.exit_code == 0, again.output
    assert "24 transformer vectors read from the vector cache" in again.stderr
    assert again.stdout == first.stdout  # same vectors, same clusters
    clusters = [json.loads(line)["cluster"] for line in first.stdout.splitlines()]
    per_topic = [set(clusters[i * 6 : i * 6 + 6]) for i in range(4)]
    assert all(len(ids) == 1 for ids in per_topic) and len(set().union(*per_topic)) == 4
    # Tagging with an empty cache, or with these vectors cached, gives the same output.
    again_tag = runner.invoke(app, ["tag", str(path), "--column", "text", "--exact-texts", "8"])
    assert "8 transformer vectors read from the vector cache" in again_tag.output
    assert again_tag.stdout == tag.stdout


@pytest.mark.slow
def test_primed_tagging_in_worker_processes_gives_the_same_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import classify.workers
    import qa.commands.text_tag as text_tag_command
    from qa.commands.text import app

    monkeypatch.setenv("CALLQA_VECTOR_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(classify.workers, "PARALLEL_MIN_TEXTS", 10)
    monkeypatch.setattr(text_tag_command, "CHUNK", 8)  # several chunks per worker
    forked: list[bool] = []
    chunk_tagger = classify.workers.chunk_tagger

    def recording(*args, fork_safe: bool, **kwargs):  # type: ignore[no-untyped-def]
        forked.append(fork_safe)
        return chunk_tagger(*args, fork_safe=fork_safe, **kwargs)

    monkeypatch.setattr(classify.workers, "chunk_tagger", recording)
    texts = [f"I was on hold for {n} minutes and nobody called me back" for n in range(30)]
    texts += [f"Great service number {n}, thank you" for n in range(30)]
    path = _texts_csv(tmp_path / "in.csv", texts)
    outputs = []
    for workers in ("1", "2"):
        result = runner.invoke(
            app, ["tag", str(path), "--column", "text", "--exact-texts", "10", "--workers", workers]
        )
        assert result.exit_code == 0, result.output
        outputs.append(result.stdout)
    assert forked == [True, True]  # primed: the learned model no longer needs onnxruntime
    assert outputs[0] == outputs[1]
    tagged = [json.loads(line) for line in outputs[1].splitlines()]
    assert sum("long-wait" in {t["tag"] for t in line["tags"]} for line in tagged) >= 25


def test_the_cache_file_is_private(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The vectors derive from the texts (maybe unredacted comments): owner-only file."""
    import stat

    import numpy as np

    from classify.vector_cache import VectorCache

    cache = VectorCache(tmp_path / "vectors.sqlite3", namespace="test", dim=3)
    cache.put_many(["a text"], np.ones((1, 3), dtype=np.float32))
    assert stat.S_IMODE((tmp_path / "vectors.sqlite3").stat().st_mode) == 0o600

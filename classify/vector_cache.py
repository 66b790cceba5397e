"""An on-disk cache of exact sentence vectors, shared by processes.

    from classify.vector_cache import cached
    embedder = cached(Embedder())          # Embedder's interface; a CachedEmbedder or as is
    x = embedder.encode(texts)             # texts seen before: read back, not embedded

Why: ``qa text tag`` embeds a sample of a file's texts with the transformer and ``qa text
cluster`` embeds one of the same file; with both samples drawn in the same seeded order
(``classify.sampled_embed.seeded_order``) the second command reads most of its sample back
instead of embedding it again, and re-running ``qa text cluster`` with another ``--k``
embeds nothing. The transformer is the whole cost of both commands on 2 cores.

Content-addressed: the key is the SHA-256 of the embedder's identity (model weights id,
backend, runtime version, normalisation, truncation) and the text, so a changed model or
backend never reads another's vectors, and the value is the float32 vector exactly as the
embedder returned it. One SQLite file, ``vectors.sqlite3``, in the model's folder of the
ONNX cache (``classify.onnx_export.cache_dir``): writes are transactions (atomic; two
processes wait for each other's lock, WAL lets readers go on), and the file holds at most
``CALLQA_VECTOR_CACHE_MAX`` vectors (default ``DEFAULT_MAX_VECTORS``, ~1.5 KB each); past
that the least recently used go. ``CALLQA_VECTOR_CACHE``: another folder, or ``off``.
A cache that cannot be opened or read is skipped (logged), never an error.

The int8 backend quantises activations per batch, so a text's vector depends slightly on the
other texts in its batch (cosine ~0.993 between two batchings). A cached vector is the one
computed the first time; a command that reads some vectors back may therefore differ, at that
level, from one that embedded all of them itself in different batches.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

DEFAULT_MAX_VECTORS = 200_000
"""Vectors kept by default (~300 MB for 384 dimensions)."""
FILE_NAME = "vectors.sqlite3"
FORMAT = 1
"""Bump when what a key means changes: every old entry then misses."""
_CHUNK = 500
"""Keys per ``IN (...)`` query (SQLite's variable limit is 999 on old builds)."""
_OFF = {"0", "off", "false", "no", "none"}


def cache_folder() -> Path | None:
    """Where vectors are cached: ``CALLQA_VECTOR_CACHE`` (``off``: nowhere), else the ONNX
    cache folder (``classify.onnx_export.cache_dir``)."""
    env = os.environ.get("CALLQA_VECTOR_CACHE")
    if env is not None and env.strip().lower() in _OFF:
        return None
    if env:
        return Path(env).expanduser()
    from classify.onnx_export import cache_dir

    return cache_dir()


def max_vectors() -> int:
    """``CALLQA_VECTOR_CACHE_MAX`` (0: no cache), else ``DEFAULT_MAX_VECTORS``."""
    env = os.environ.get("CALLQA_VECTOR_CACHE_MAX")
    if not env:
        return DEFAULT_MAX_VECTORS
    try:
        return max(0, int(env))
    except ValueError:
        raise ValueError(f"CALLQA_VECTOR_CACHE_MAX={env!r}: expected a whole number") from None


class VectorCache:
    """Text -> float32 vector of ``dim`` values, in the SQLite file ``path``, for the embedder
    that ``namespace`` names (module docstring). ``max_vectors``: the most kept (least
    recently used go first)."""

    def __init__(
        self, path: Path, namespace: str, dim: int, max_vectors: int = DEFAULT_MAX_VECTORS
    ):
        self.path = Path(path)
        self.namespace = namespace
        self.dim = dim
        self.max_vectors = max_vectors
        self.broken = False

    def keys(self, texts: Sequence[str]) -> list[bytes]:
        """The content address of each text (32 bytes)."""
        prefix = hashlib.sha256(f"{FORMAT}\0{self.namespace}\0".encode())
        out = []
        for text in texts:
            h = prefix.copy()
            h.update(text.encode("utf-8", "surrogatepass"))
            out.append(h.digest())
        return out

    def get_many(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(vectors, found)``: row i is ``texts[i]``'s cached vector where ``found[i]``
        (zeros elsewhere). Hits count as a use (for the eviction order)."""
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        found = np.zeros(len(texts), dtype=bool)
        if not texts or self.broken or not self.path.is_file():
            return vectors, found
        keys = self.keys(texts)
        where: dict[bytes, list[int]] = {}
        for i, key in enumerate(keys):
            where.setdefault(key, []).append(i)
        unique = list(where)
        size = self.dim * 4
        try:
            with self._connect() as db:
                for lo in range(0, len(unique), _CHUNK):
                    part = unique[lo : lo + _CHUNK]
                    marks = ",".join("?" * len(part))
                    query = f"SELECT key, vector FROM vectors WHERE key IN ({marks})"
                    for key, blob in db.execute(query, part):
                        if len(blob) != size:
                            continue  # another dimension under a colliding name: a miss
                        rows = where[bytes(key)]
                        vectors[rows] = np.frombuffer(blob, dtype="<f4")
                        found[rows] = True
                hits = [k for k in unique if found[where[k][0]]]
                if hits:
                    now = _now()
                    db.executemany("UPDATE vectors SET used = ? WHERE key = ?",
                                   [(now, k) for k in hits])  # fmt: skip
        except (sqlite3.Error, OSError) as exc:
            self._fail("read", exc)
            return np.zeros_like(vectors), np.zeros_like(found)
        return vectors, found

    def put_many(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Store ``vectors[i]`` (n x ``dim``) for ``texts[i]``, then evict past the bound."""
        vectors = np.asarray(vectors)
        if vectors.shape != (len(texts), self.dim):
            raise ValueError(f"need {len(texts)} x {self.dim} vectors; got {vectors.shape}")
        if not texts or self.broken or self.max_vectors <= 0:
            return
        rows = vectors.astype("<f4", copy=False)
        now = _now()
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            # Owner-only from the first byte (SQLite gives its -wal / -shm files the same
            # mode), and again on every write for a file made before: the vectors derive
            # from the texts, which may be unredacted comments.
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
            os.chmod(self.path, 0o600)
            records = [(k, rows[i].tobytes(), now) for i, k in enumerate(self.keys(texts))]
            _retrying(lambda: self._write(records))
        except (sqlite3.Error, OSError) as exc:
            self._fail("write", exc)

    def _write(self, records: list[tuple[bytes, bytes, int]]) -> None:
        with self._connect() as db:
            db.executemany(
                "INSERT OR REPLACE INTO vectors (key, vector, used) VALUES (?, ?, ?)", records
            )
            (count,) = db.execute("SELECT count(*) FROM vectors").fetchone()
            if count > self.max_vectors:
                # Down to 90 % of the bound, so that eviction is not paid on every write.
                drop = count - int(self.max_vectors * 0.9)
                db.execute(
                    "DELETE FROM vectors WHERE key IN "
                    "(SELECT key FROM vectors ORDER BY used LIMIT ?)",
                    (drop,),
                )

    def __len__(self) -> int:
        """Vectors in the file (of every namespace)."""
        if self.broken or not self.path.is_file():
            return 0
        try:
            with self._connect() as db:
                return int(db.execute("SELECT count(*) FROM vectors").fetchone()[0])
        except (sqlite3.Error, OSError) as exc:
            self._fail("read", exc)
            return 0

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """One transaction on the file (committed on success, rolled back on error)."""
        # A long timeout: the other process holds the write lock only while it writes.
        with closing(sqlite3.connect(self.path, timeout=60.0)) as db:
            db.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
            db.execute("PRAGMA synchronous=NORMAL")  # WAL: still atomic, fewer fsyncs
            db.execute(
                "CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL,"
                " used INTEGER NOT NULL) WITHOUT ROWID"
            )
            db.execute("CREATE INDEX IF NOT EXISTS vectors_used ON vectors (used)")
            with db:
                yield db

    def _fail(self, what: str, exc: BaseException) -> None:
        # A cache is an optimisation: a locked-out, read-only or damaged file costs speed only.
        self.broken = True
        log.warning("vector cache %s: cannot %s (%s); embedding without it", self.path, what, exc)


def _retrying(write: Callable[[], None], attempts: int = 6) -> None:
    """Run ``write``; again, after a short pause, when SQLite says the file is locked or busy.

    The 60 s busy timeout does not cover every wait: two processes that open a new file at
    once race to switch it to WAL, and that switch fails at once, without waiting, for the
    loser (seen on a loaded 2-core CI machine)."""
    for attempt in range(attempts):
        try:
            write()
            return
        except sqlite3.OperationalError as exc:
            text = str(exc).lower()
            if attempt == attempts - 1 or ("locked" not in text and "busy" not in text):
                raise
            time.sleep(0.05 * 2**attempt)


def _now() -> int:
    return time.time_ns() // 1000


class CachedEmbedder:
    """``encode(texts, progress)`` like ``embedder``, reading texts seen before from ``cache``
    and storing the rest. After ``encode``: ``n_cached_`` / ``n_embedded_`` distinct texts.

    Vectors come back bit for bit as the embedder first returned them (float32)."""

    def __init__(self, embedder: Any, cache: VectorCache):
        self.embedder = embedder
        self.cache = cache

    @property
    def model(self) -> str:
        return str(self.embedder.model)

    @property
    def dim(self) -> int:
        return int(self.cache.dim)

    def encode(
        self, texts: Sequence[str], progress: Callable[[int, int], Any] | None = None
    ) -> np.ndarray:
        """Vectors of ``texts`` (row i for ``texts[i]``); ``progress(done, total)`` counts
        cached texts as done from the start."""
        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of texts, not one string")
        distinct = list(dict.fromkeys(texts))
        out, found = self.cache.get_many(distinct)
        missing = [distinct[i] for i in np.flatnonzero(~found)]
        hits = len(distinct) - len(missing)
        self.n_cached_, self.n_embedded_ = hits, len(missing)
        if missing:
            inner = None
            if progress is not None:
                report = progress

                def inner(done: int, _total: int) -> None:
                    report(hits + done, len(distinct))

            fresh = np.asarray(
                self.embedder.encode(missing, progress=inner)
                if inner is not None
                else self.embedder.encode(missing),
                dtype=np.float32,
            )
            out[~found] = fresh
            self.cache.put_many(missing, fresh)
        elif progress is not None:
            progress(len(distinct), len(distinct))
        where = {text: i for i, text in enumerate(distinct)}
        return out[[where[t] for t in texts]]


def namespace(embedder: Any) -> str:
    """What identifies an ``Embedder``'s vectors: the weights (``onnx_export.cache_key``),
    the backend and its runtime's version, normalisation and truncation."""
    from importlib.metadata import PackageNotFoundError, version

    from classify.embed_backend import MAX_SEQ_LENGTH, model_dir
    from classify.onnx_export import cache_key

    backend = embedder.backend_name
    runtime = {"torch": "torch", "onnx": "onnxruntime", "onnx-int8": "onnxruntime"}.get(backend)
    try:
        runtime_version = f"{runtime}=={version(runtime)}" if runtime else ""
    except PackageNotFoundError:
        runtime_version = f"{runtime}==?"
    return (
        f"{cache_key(model_dir(embedder.model))}|{backend}|{runtime_version}"
        f"|normalize={bool(embedder.normalize)}|max_length={MAX_SEQ_LENGTH}"
    )


def cached(embedder: Any) -> Any:
    """``embedder`` behind the shared vector cache when it is a real ``Embedder`` (not a
    stand-in, not the static backend, which costs less than the cache) and the cache is on;
    else ``embedder`` itself."""
    from classify.embeddings import Embedder

    if type(embedder) is not Embedder or embedder.backend_name == "static":
        return embedder
    folder = cache_folder()
    limit = max_vectors()
    if folder is None or limit <= 0:
        return embedder
    from classify.embed_backend import model_dir
    from classify.onnx_export import cache_key

    path = folder / f"minilm-{cache_key(model_dir(embedder.model))}" / FILE_NAME
    return CachedEmbedder(embedder, VectorCache(path, namespace(embedder), embedder.dim, limit))

"""Embed a large text set fast: the transformer for a sample, a fitted static model for the rest.

    from classify.sampled_embed import SampledEmbedder
    x = SampledEmbedder().encode(texts)    # 50,000 texts: ~45 s, not ~100 s

The transformer (all-MiniLM-L6-v2, int8) runs at ~500 texts/s on 2 CPU cores; that is the
whole cost of clustering 50,000 comments. Clustering itself only needs exact vectors for
the sample it partitions (``ThemeModel.sample_rows``); the other texts are only assigned to
the nearest theme. So ``SampledEmbedder`` embeds at most ``max_exact`` distinct texts with
the transformer (the clustering sample first) and gives the rest a ``FittedStatic``
vector: the static token table of ``classify.static_embed`` (one vector per WordPiece,
averaged) *fitted to this corpus*: ridge regression from the sample's bags of tokens onto
its transformer vectors, shrunk towards the distilled table. Fitting takes ~3 s for 16,000
texts and the rest costs ~1 s per 10,000 texts. On the 50,000-text speed corpus the fitted
vectors of held-out texts have cosine 0.85 to the exact ones (the distilled table alone:
far less); what that costs clustering is measured on BANKING77 / CLINC150 in
benchmarks/classify.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from classify.embed_backend import DEFAULT_MODEL, load_tokenizer, model_dir
from classify.embeddings import Progress

MAX_EXACT = 20_000
"""Distinct texts embedded with the transformer by default (~40 s on 2 cores): enough that
a 50,000-text file is tagged and clustered in about a minute (benchmarks/classify.py)."""


def seeded_order(texts: Sequence[str], random_state: int = 0) -> np.ndarray:
    """Positions of ``texts`` in a seeded random order that depends on each text alone (a
    keyed hash of it), not on its position or on the other texts.

    Why not ``rng.choice``: ``qa text tag`` and ``qa text cluster`` draw their exact samples
    from different lists (raw texts; cleaned, de-duplicated ones). Taking the first N of
    this order, a text kept as it is by the cleaning ranks alike in both lists, so the two
    samples overlap as far as their sizes allow and the second command reads the first's
    vectors from ``classify.vector_cache`` instead of embedding them again."""
    key = str(random_state).encode()
    digests = b"".join(
        hashlib.blake2b(t.encode("utf-8", "surrogatepass"), digest_size=8, key=key).digest()
        for t in texts
    )
    ranks = np.frombuffer(digests, dtype=">u8")
    return np.argsort(ranks, kind="stable")


class FittedStatic:
    """A static token-table embedder fitted to transformer vectors of sample texts.

    sklearn conventions: ``__init__`` stores, ``fit(texts, vectors)`` returns ``self``,
    ``transform(texts)`` gives L2-normalised float32 rows. ``alpha``: ridge strength
    (pull towards the distilled table); tokens seen fewer than ``min_count`` times in the
    sample keep their distilled vector (refitting once-seen tokens costs 2.5x the fitting
    time for 0.004 of cosine).
    """

    def __init__(self, model: str = DEFAULT_MODEL, alpha: float = 0.01, min_count: int = 2):
        self.model = model
        self.alpha = alpha
        self.min_count = min_count

    def fit(self, texts: Sequence[str], vectors: np.ndarray) -> FittedStatic:
        """Fit the token table so that each text's weighted mean of token vectors comes
        close to its row of ``vectors`` (n x d)."""
        from scipy.linalg import solve

        from classify.static_embed import static_path

        vectors = np.asarray(vectors, dtype=np.float64)
        if vectors.ndim != 2 or len(vectors) != len(texts) or len(texts) == 0:
            raise ValueError(f"need one vector per text; got {vectors.shape} for {len(texts)}")
        path = model_dir(self.model)
        with np.load(static_path(path)) as data:
            table, weights = data["vectors"].astype(np.float64), data["weights"]
        if table.shape[1] != vectors.shape[1]:
            raise ValueError(
                f"vectors have {vectors.shape[1]} dimensions; the token table has {table.shape[1]}"
            )
        self.tokenizer_ = load_tokenizer(path)
        self.weights_ = weights
        x = self._bags(texts, len(table))
        counts = np.bincount(x.indices, minlength=len(table))
        used = np.flatnonzero(counts >= self.min_count)
        # Solve for the change to the used tokens' vectors plus a shared bias (unpenalised):
        # min |X_u D + 1 b' - R|^2 + alpha |D|^2, R = Y - X T, by its normal equations
        # (sparse products: the dense design matrix would be n x tokens).
        xu = x[:, used].tocsc()
        k = len(used)
        residual = vectors - x @ table
        gram = np.empty((k + 1, k + 1))
        gram[:k, :k] = (xu.T @ xu).toarray()
        gram[:k, k] = gram[k, :k] = np.asarray(xu.sum(axis=0)).ravel()
        gram[k, k] = len(texts)
        gram[np.arange(k), np.arange(k)] += self.alpha
        rhs = np.vstack([xu.T @ residual, residual.sum(axis=0, keepdims=True)])
        solution = solve(gram, rhs, assume_a="pos", overwrite_a=True, check_finite=False)
        table[used] += solution[:-1]
        self.table_ = table.astype(np.float32)
        self.bias_ = solution[-1].astype(np.float32)
        self.n_tokens_fitted_ = len(used)
        return self

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """Fitted vectors for ``texts`` (n x d, unit rows)."""
        if not hasattr(self, "table_"):
            raise RuntimeError("this FittedStatic is not fitted yet; call fit(texts, vectors)")
        if len(texts) == 0:
            return np.zeros((0, self.table_.shape[1]), dtype=np.float32)
        # float32 bags against the float32 table: a float64 matrix would make scipy convert
        # the whole table (vocab x d) to float64 on every call, which was most of the time
        # `qa text tag` spent on fitted vectors (it calls this once per chunk of 1,024).
        bags = self._bags(texts, len(self.table_), dtype=np.float32)
        out = np.asarray(bags @ self.table_) + self.bias_
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out.astype(np.float32, copy=False)

    def _bags(self, texts: Sequence[str], vocab: int, dtype: Any = np.float64) -> Any:
        """Sparse n x vocab matrix: each row the text's token weights, summing to 1."""
        from scipy.sparse import csr_matrix

        ids = [e.ids for e in self.tokenizer_.encode_batch(list(texts), add_special_tokens=True)]
        lengths = np.fromiter((len(i) for i in ids), dtype=np.int64, count=len(ids))
        cols = np.concatenate([np.asarray(i, dtype=np.int64) for i in ids])
        rows = np.repeat(np.arange(len(ids)), lengths)
        vals = self.weights_[cols].astype(np.float64)
        totals = np.bincount(rows, weights=vals, minlength=len(ids))
        vals /= np.maximum(totals[rows], 1e-9)
        return csr_matrix((vals.astype(dtype, copy=False), (rows, cols)), shape=(len(ids), vocab))


class SampledEmbedder:
    """``encode(texts)`` like ``Embedder``, exact for at most ``max_exact`` distinct texts.

    ``embedder``: the exact embedder (default ``Embedder()``). ``max_exact``: 0 or None
    embeds every text exactly. After ``encode``: ``n_exact_`` / ``n_fitted_`` distinct
    texts embedded each way.
    """

    def __init__(
        self,
        embedder: Any = None,
        max_exact: int | None = MAX_EXACT,
        alpha: float = 0.01,
        random_state: int = 0,
    ):
        self.embedder = embedder
        self.max_exact = max_exact
        self.alpha = alpha
        self.random_state = random_state

    def encode(
        self,
        texts: Sequence[str],
        exact: Sequence[int] = (),
        progress: Progress | None = None,
    ) -> np.ndarray:
        """Vectors for ``texts`` (row i for ``texts[i]``). ``exact``: positions in ``texts``
        that must get transformer vectors (a clustering sample), taken first."""
        embedder = self.embedder
        if embedder is None:
            from classify.embeddings import Embedder

            embedder = self.embedder = Embedder()
        distinct = list(dict.fromkeys(texts))
        if not self.max_exact or len(distinct) <= self.max_exact:
            self.n_exact_, self.n_fitted_ = len(distinct), 0
            return _encode(embedder, texts, progress)
        where = {text: i for i, text in enumerate(distinct)}
        chosen = list(dict.fromkeys(where[texts[i]] for i in exact))[: self.max_exact]
        # The rest of the sample in seeded_order: what `qa text tag` embedded comes first.
        taken = np.zeros(len(distinct), dtype=bool)
        taken[chosen] = True
        order = seeded_order(distinct, self.random_state)
        fill = order[~taken[order]][: self.max_exact - len(chosen)]
        exact_rows = np.sort(np.concatenate([np.asarray(chosen, dtype=np.int64), fill]))
        sample = [distinct[i] for i in exact_rows]
        x_exact = _encode(embedder, sample, progress)
        fitted = FittedStatic(getattr(embedder, "model", DEFAULT_MODEL), alpha=self.alpha)
        fitted.fit(sample, x_exact)
        others = np.setdiff1d(np.arange(len(distinct)), exact_rows)
        out = np.empty((len(distinct), x_exact.shape[1]), dtype=np.float32)
        out[exact_rows] = x_exact
        out[others] = fitted.transform([distinct[i] for i in others])
        self.fitted_ = fitted
        self.n_exact_, self.n_fitted_ = len(exact_rows), len(others)
        return out[[where[t] for t in texts]]


def _encode(embedder: Any, texts: Sequence[str], progress: Progress | None) -> np.ndarray:
    if progress is None:
        return np.asarray(embedder.encode(texts), dtype=np.float32)
    return np.asarray(embedder.encode(texts, progress=progress), dtype=np.float32)


class PrimedEmbedder:
    """``encode(texts)`` like ``Embedder``, after ``prime(corpus)``: the texts of a seeded
    sample of at most ``max_exact`` distinct corpus texts get their transformer vectors,
    every other text (the rest of the corpus, and sentences cut from any text) a
    ``FittedStatic`` vector fitted to that sample.

    For a learned tagger over a big file (``qa text tag --exact-texts``): the tagger asks
    for vectors batch by batch, of texts and then of sentences, and each batch is answered
    without the transformer. Measured on the tagging dev / held-out sets with every vector
    fitted (the worst case): combined macro-F1 0.892 / 0.808 against 0.916 / 0.825 exact.
    """

    def __init__(self, embedder: Any = None, max_exact: int = MAX_EXACT, random_state: int = 0):
        self.embedder = embedder
        self.max_exact = max_exact
        self.random_state = random_state

    @property
    def model(self) -> str:
        return str(getattr(self.embedder, "model", DEFAULT_MODEL))

    def prime(self, corpus: Sequence[str], progress: Progress | None = None) -> PrimedEmbedder:
        """Embed the sample exactly and fit the static model to it; returns ``self``."""
        if self.embedder is None:
            from classify.embeddings import Embedder

            self.embedder = Embedder()
        distinct = list(dict.fromkeys(corpus))
        rows = np.arange(len(distinct))
        if len(distinct) > self.max_exact:
            # seeded_order, as SampledEmbedder: `qa text cluster` reuses these vectors.
            rows = np.sort(seeded_order(distinct, self.random_state)[: self.max_exact])
        sample = [distinct[i] for i in rows]
        vectors = _encode(self.embedder, sample, progress)
        self.exact_ = dict(zip(sample, vectors, strict=True))
        self.fitted_ = FittedStatic(self.model).fit(sample, vectors)
        return self

    def encode(self, texts: Sequence[str], **_: Any) -> np.ndarray:
        """Exact vectors for sample texts, fitted ones for the others (L2-normalised)."""
        if not hasattr(self, "fitted_"):
            raise RuntimeError("PrimedEmbedder is not primed; call prime(corpus) first")
        texts = list(texts)
        out = np.empty((len(texts), self.fitted_.table_.shape[1]), dtype=np.float32)
        others = []
        for i, text in enumerate(texts):
            vector = self.exact_.get(text)
            if vector is None:
                others.append(i)
            else:
                out[i] = vector
        if others:
            out[others] = self.fitted_.transform([texts[i] for i in others])
        return out

"""Themes: clusters of comments / customer turns, labelled by c-TF-IDF keywords and their
most representative examples, with ids that stay stable from one run to the next.

    from classify.themes import ThemeModel
    model = ThemeModel().fit(texts)                  # embeds with classify.embeddings
    model.labels_                                    # theme id per text (-1: none)
    model.themes_[0]                                 # Theme(id=0, size=412, keywords=(...), ...)
    model.predict(tomorrows_texts)                   # existing ids, or -1 when nothing is close
    ThemeModel().fit(all_texts, previous=model)      # re-cluster, ids matched to ``model``

Texts are cleaned first (``classify.cleaning.TextCleaner``: links, @handles, numbers and
the listed ``entities`` removed); the cleaned texts are embedded and give the keywords and
the suggested names (``classify.naming``), the original texts are the examples a reviewer
reads. Embeddings may be passed in (``fit(texts, embeddings=...)``, BERTopic-style), so
callers can cache them and tests can use a tiny fake embedder; they must be of
``model.clean_texts(texts)``. Otherwise ``embedder`` (anything with ``encode(texts) -> n x
d``; default ``classify.embeddings.Embedder()``) makes them.

With ``k=None`` the number of themes is chosen by ``criterion`` (``classify.clustering``;
default ``eigen-floor``) inside ``k_range`` (``--min-k``/``--max-k``); when there are more
texts than ``sample_size``, the graph spectra of ``n_draws`` seeded samples are averaged
first, so k does not hang on one sample. ``k_curve_`` is the criterion's curve.

``fit`` clusters at most ``sample_size`` texts (a seeded random sample; spectral clustering
is quadratic in memory) and assigns the rest to the nearest centroid. Clusters smaller
than ``min_cluster_size`` are dissolved (their texts get -1). Theme ids are ordered by size
on a first fit; with ``previous`` (a fitted ``ThemeModel``) clusters that continue a
previous theme keep its id (``classify.matching``: member overlap, keys default to the
texts) and new themes get ids above every id used before.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from classify.cleaning import TextCleaner
from classify.clustering import DIFFUSION_TIME, N_NEIGHBORS, SMOOTH_ROUNDS, fit_partition
from classify.ctfidf import keywords as ctfidf_keywords
from classify.matching import match_ids, stable_ids
from classify.naming import suggest_name


@dataclass(frozen=True)
class Theme:
    """One theme: its id, how many texts it holds, its c-TF-IDF keywords, the texts closest
    to its centroid (``examples``, most representative first) and a suggested ``name``."""

    id: int
    size: int
    keywords: tuple[str, ...]
    examples: tuple[str, ...]
    centroid: np.ndarray = field(repr=False, compare=False)
    name: str = ""


@dataclass(frozen=True)
class PreviousThemes:
    """What id matching needs from an earlier run: each theme id's member keys, and every
    id ever used (so ended themes' ids are not handed out again)."""

    members: Mapping[int, frozenset[Hashable]]
    used_ids: frozenset[int]


class ThemeModel:
    """Cluster texts into themes (sklearn conventions: ``fit`` returns ``self``; fitted
    state ends in ``_``).

    ``k``: number of clusters, or None to choose it by ``criterion`` within ``k_range``.
    ``graph`` (``fuzzy`` | ``binary``) and ``assign`` (``kmeans`` | ``qr``): the spectral
    method's neighbour graph and label assignment (``classify.clustering``);
    ``diffusion_time``: k-means runs on the eigenvectors weighted by their eigenvalue to
    this power (diffusion-map coordinates; 0: unweighted, as before 2026-12-03);
    ``smooth_rounds``: rounds of neighbour voting after it (``classify.clustering.
    smooth_labels``; 0: none).
    ``entities``: names removed before clustering (company, product); ``clean=False`` keeps
    the texts as they are.
    ``assign_threshold``: ``predict`` gives a text the nearest theme's id when their cosine
    is at least this, else -1. ``method``: ``spectral`` | ``kmeans`` | ``agglomerative``.
    """

    def __init__(
        self,
        k: int | None = None,
        *,
        min_cluster_size: int = 3,
        assign_threshold: float = 0.5,
        method: str = "spectral",
        k_range: tuple[int, int] | None = None,
        n_keywords: int = 8,
        n_examples: int = 3,
        sample_size: int = 4000,
        n_neighbors: int = N_NEIGHBORS,
        embedder: Any = None,
        stop_words: str | Sequence[str] | None = "english",
        criterion: str = "eigen-floor",
        n_draws: int = 3,
        graph: str = "fuzzy",
        assign: str = "kmeans",
        diffusion_time: float = DIFFUSION_TIME,
        smooth_rounds: int = SMOOTH_ROUNDS,
        clean: bool = True,
        entities: Sequence[str] = (),
        random_state: int = 0,
    ):
        self.k = k
        self.min_cluster_size = min_cluster_size
        self.assign_threshold = assign_threshold
        self.method = method
        self.k_range = k_range
        self.n_keywords = n_keywords
        self.n_examples = n_examples
        self.sample_size = sample_size
        self.n_neighbors = n_neighbors
        self.embedder = embedder
        self.stop_words = stop_words
        self.criterion = criterion
        self.n_draws = n_draws
        self.graph = graph
        self.assign = assign
        self.diffusion_time = diffusion_time
        self.smooth_rounds = smooth_rounds
        self.clean = clean
        self.entities = entities
        self.random_state = random_state

    def fit(
        self,
        texts: Sequence[str],
        embeddings: np.ndarray | None = None,
        *,
        keys: Sequence[Hashable] | None = None,
        previous: ThemeModel | PreviousThemes | None = None,
    ) -> ThemeModel:
        """Cluster ``texts``; ``keys`` identify them for id matching with ``previous``."""
        texts = list(texts)
        cleaner = self._cleaner()
        cleaned = cleaner.many(texts) if self.clean else texts
        work = cleaner.for_embedding(texts, cleaned) if self.clean else texts
        x = self._embed(work, embeddings)
        keys = list(texts) if keys is None else list(keys)
        if len(keys) != len(texts):
            raise ValueError(f"{len(keys)} keys for {len(texts)} texts; give one key per text")
        # Identical texts are one point: fifty "great service" would otherwise fill each
        # other's neighbour lists and split off as a clique of their own.
        where: dict[str, int] = {}
        inverse = np.array([where.setdefault(t, len(where)) for t in work], dtype=int)
        first = np.unique(inverse, return_index=True)[1]
        raw = self._cluster(x[first])[inverse] if len(texts) else np.zeros(0, dtype=int)
        raw = _dissolve_small(raw, self.min_cluster_size)
        labels = sorted(
            (int(c) for c in set(raw.tolist()) - {-1}), key=lambda c: (-(raw == c).sum(), c)
        )
        members = {c: [keys[i] for i in np.flatnonzero(raw == c)] for c in labels}
        if isinstance(previous, ThemeModel):
            previous = previous.previous_
        if previous is not None:
            matches = match_ids(previous.members, members)
            ids = stable_ids(matches, used=previous.used_ids, order=labels)
            used = set(previous.used_ids)
        else:
            ids, used = {c: i for i, c in enumerate(labels)}, set()
        self.labels_ = np.array([ids[c] if c != -1 else -1 for c in raw.tolist()], dtype=int)
        self._describe(texts, cleaned, work, x, [ids[c] for c in labels])
        self.members_ = {ids[c]: frozenset(members[c]) for c in labels}
        self.used_ids_ = frozenset(used | set(self.members_))
        self.n_features_in_ = x.shape[1]
        return self

    @property
    def previous_(self) -> PreviousThemes:
        """This fit as the ``previous`` of the next one."""
        return PreviousThemes(self.members_, self.used_ids_)

    def fit_predict(
        self, texts: Sequence[str], embeddings: np.ndarray | None = None, **kw: Any
    ) -> np.ndarray:
        return self.fit(texts, embeddings, **kw).labels_

    def predict(self, texts: Sequence[str], embeddings: np.ndarray | None = None) -> np.ndarray:
        """Existing theme ids for new texts: nearest centroid if cosine >= threshold, else -1."""
        ids, scores = self.similarities(texts, embeddings)
        return np.where(scores >= self.assign_threshold, ids, -1)

    def similarities(
        self, texts: Sequence[str], embeddings: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Nearest theme id and its cosine for each text (no threshold applied)."""
        if not hasattr(self, "themes_"):
            raise RuntimeError("this ThemeModel is not fitted yet; call fit(texts) first")
        x = self._embed(list(texts), embeddings)
        if len(x) == 0 or not self.themes_:
            return np.full(len(x), -1), np.full(len(x), -np.inf)
        if x.shape[1] != self.n_features_in_:
            raise ValueError(
                f"embeddings have {x.shape[1]} dimensions; "
                f"the themes were fitted on {self.n_features_in_}"
            )
        sims = x @ self.centroids_.T
        best = sims.argmax(axis=1)
        return np.asarray(self.ids_)[best], sims[np.arange(len(x)), best]

    def clean_texts(self, texts: Sequence[str]) -> list[str]:
        """The texts as clustered: cleaned (``classify.cleaning``) unless ``clean=False``. A
        text with nothing left (only a link or a ticket number) stays as it was, so that
        distinct texts stay distinct; it adds no keywords."""
        return self._cleaner().for_embedding(texts) if self.clean else list(texts)

    def _cleaner(self) -> TextCleaner:
        return TextCleaner(tuple(self.entities))

    def sample_rows(self, n_distinct: int, draw: int = 0) -> np.ndarray:
        """Which of ``n_distinct`` distinct texts (in first-occurrence order) ``fit``
        clusters; the others are assigned to the nearest cluster. Callers that embed only
        some texts exactly (``classify.sampled_embed``) embed these."""
        if n_distinct <= self.sample_size:
            return np.arange(n_distinct)
        rng = np.random.default_rng(self.random_state + draw)
        return np.sort(rng.choice(n_distinct, self.sample_size, replace=False))

    # ----------------------------------------------------------------------------- internals

    def _embed(self, texts: list[str], embeddings: np.ndarray | None) -> np.ndarray:
        if embeddings is None:
            if getattr(self, "embedder_", None) is None:
                from classify.embeddings import Embedder

                self.embedder_ = self.embedder if self.embedder is not None else Embedder()
            embeddings = self.embedder_.encode(texts) if texts else np.zeros((0, 1))
        x = np.asarray(embeddings, dtype=np.float32)
        if x.ndim != 2 or len(x) != len(texts):
            raise ValueError(
                f"embeddings must be an array of shape ({len(texts)}, d); got {x.shape}"
            )
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)

    def _cluster(self, x: np.ndarray) -> np.ndarray:
        """Raw labels (0.., arbitrary order) for every row: fitted on a sample, then the
        rest assigned to the nearest sample-cluster centroid."""
        n = len(x)
        if n == 0:
            return np.zeros(0, dtype=int)
        fit_rows = self.sample_rows(n)
        sample = x[fit_rows]
        # Other seeded samples only steady the choice of k (their spectra are averaged).
        draws = range(1, self.n_draws) if self.k is None and len(fit_rows) < n else ()
        labels, self.k_, self.k_curve_ = fit_partition(
            sample, self.k, self.method, k_range=self.k_range, criterion=self.criterion,
            seed=self.random_state, n_neighbors=self.n_neighbors, graph=self.graph,
            how=self.assign, diffusion=self.diffusion_time, smooth=self.smooth_rounds,
            also=[x[self.sample_rows(n, d)] for d in draws],
        )  # fmt: skip
        if len(fit_rows) == n:
            return labels
        centroids = _centroids(sample, labels)
        return (x @ centroids.T).argmax(axis=1)

    def _describe(
        self, texts: list[str], cleaned: list[str], work: list[str], x: np.ndarray,
        ids: list[int],
    ) -> None:  # fmt: skip
        """Keywords from the cleaned texts, examples from the originals, names from the
        embedded texts closest to each centroid."""
        words = ctfidf_keywords(
            cleaned, self.labels_.tolist(), self.n_keywords, stop_words=self.stop_words
        )
        themes, centroids = [], []
        for theme_id in ids:
            rows = np.flatnonzero(self.labels_ == theme_id)
            centroid = _unit(x[rows].mean(axis=0))
            order = rows[np.argsort(-(x[rows] @ centroid), kind="stable")]
            examples = list(dict.fromkeys(texts[i] for i in order))[: self.n_examples]
            central = list(dict.fromkeys(work[i] for i in order[:20]))
            keys = words.get(theme_id, ())
            name = suggest_name(keys, central, fallback=f"theme {theme_id}")
            themes.append(Theme(theme_id, len(rows), keys, tuple(examples), centroid, name))
            centroids.append(centroid)
        self.themes_ = themes
        self.ids_ = [t.id for t in themes]
        self.centroids_ = np.vstack(centroids) if centroids else np.zeros((0, x.shape[1]))


def _centroids(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return np.vstack([_unit(x[labels == c].mean(axis=0)) for c in np.unique(labels)])


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


def _dissolve_small(labels: np.ndarray, min_size: int) -> np.ndarray:
    values, counts = np.unique(labels, return_counts=True)
    small = values[counts < min_size]
    return np.where(np.isin(labels, small), -1, labels)

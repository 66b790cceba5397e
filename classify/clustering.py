"""Partition unit-length sentence embeddings into k groups, and choose k when not given.

Methods (name -> function in ``METHODS``):

- ``spectral`` (default): a k-nearest-neighbour cosine graph, its normalised-Laplacian
  spectral embedding, and CPQR label assignment (Damle et al., sklearn's ``cluster_qr``).
  On BANKING77 with all-MiniLM-L6-v2 it scores NMI ~0.82 where k-means scores ~0.79:
  sentence embeddings form curved, uneven groups that a neighbour graph follows and
  centroids do not. The embedding is computed once for the largest k needed, so trying
  many k costs one eigen-decomposition.
- ``kmeans``: k-means on the unit vectors (spherical k-means in effect).
- ``agglomerative``: Ward linkage on the unit vectors.

``choose_k`` scores candidate k (spread geometrically over ``k_range``) by the silhouette
(cosine) on a sample and takes the smallest k whose score is within ``tolerance`` (5 %) of
the score range below the best one: the start of the plateau, not its maximum. The
silhouette of sentence embeddings keeps creeping up as clusters shrink towards
near-duplicates; the plateau starts where adding clusters stops separating real groups.

"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

N_NEIGHBORS = 15
MAX_AUTO_K = 150
DENSE_MAX = 400
EIG_TOL = 1e-3
"""Lanczos tolerance: clustering needs the eigenvectors' directions, not 15 digits (1e-3 is
3x faster than full precision for 150 vectors, same BANKING77 NMI)."""
"""Graph components up to this size are solved densely (exact, and fast at that size)."""
"""Largest k tried when choosing k (a theme list a reviewer can read; BANKING77 needs ~80)."""


def knn_affinity(x: np.ndarray, n_neighbors: int = N_NEIGHBORS, chunk: int = 2048):  # type: ignore[no-untyped-def]
    """Symmetric 0/1 k-nearest-neighbour graph (sparse) of the rows of ``x`` by cosine
    (rows are unit vectors: a dot product, in row chunks to bound memory). Small inputs get
    fewer neighbours (n / 20, at least 10): a neighbour list longer than a cluster is
    would tie each small cluster to its neighbours."""
    from scipy.sparse import csr_matrix

    n = len(x)
    k = max(1, min(n_neighbors, max(10, n // 20), n - 1))
    x = np.asarray(x, dtype=np.float32)
    cols = np.empty((n, k), dtype=np.int64)
    for lo in range(0, n, chunk):
        sims = x[lo : lo + chunk] @ x.T
        sims[np.arange(len(sims)), np.arange(lo, lo + len(sims))] = -np.inf  # not itself
        cols[lo : lo + chunk] = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    graph = csr_matrix((np.ones(n * k), (np.repeat(np.arange(n), k), cols.ravel())), shape=(n, n))
    return 0.5 * (graph + graph.T)


def spectral_maps(x: np.ndarray, n_components: int, n_neighbors: int, seed: int) -> np.ndarray:
    """The leading ``n_components`` eigenvectors of the neighbour graph's normalised
    adjacency D^-1/2 A D^-1/2 (the smallest of its normalised Laplacian), scaled by
    D^-1/2 as ``sklearn.manifold.spectral_embedding`` does.

    Lanczos on the adjacency (largest eigenvalues) costs about half of sklearn's
    shift-invert on the Laplacian. Each connected component is solved on its own: a graph
    of c separate groups has eigenvalue 1 c times over, and Lanczos, started from one
    vector, cannot be trusted to find every copy of a repeated eigenvalue.
    """
    from scipy.sparse import diags
    from scipy.sparse.csgraph import connected_components
    from scipy.sparse.linalg import eigsh

    n = len(x)
    n_components = max(1, min(n_components, n))
    affinity = knn_affinity(x, n_neighbors).tocsr()
    scale = 1.0 / np.sqrt(np.maximum(np.asarray(affinity.sum(axis=1)).ravel(), 1e-12))
    normalised = (diags(scale) @ affinity @ diags(scale)).tocsr()
    _, component = connected_components(affinity, directed=False)
    rng = np.random.default_rng(seed)  # a seeded start vector: the same result every time
    values, columns = [], []
    for c in np.unique(component):
        rows = np.flatnonzero(component == c)
        block = normalised[rows][:, rows]
        want = min(n_components, len(rows))
        if len(rows) <= DENSE_MAX or want >= len(rows) - 1:
            w, v = np.linalg.eigh(block.toarray())
        else:
            w, v = eigsh(block, k=want, which="LA", v0=rng.uniform(-1, 1, len(rows)), tol=EIG_TOL)
        top = np.argsort(-w)[:want]
        full = np.zeros((n, len(top)))
        full[rows] = v[:, top]
        values.append(w[top])
        columns.append(full)
    order = np.argsort(-np.concatenate(values), kind="stable")[:n_components]
    return np.hstack(columns)[:, order] * scale[:, None]


def cluster_qr(maps: np.ndarray) -> np.ndarray:
    """Labels from a spectral embedding by column-pivoted QR (deterministic, no k-means)."""
    from scipy.linalg import qr, svd

    k = maps.shape[1]
    _, _, pivots = qr(maps.T, pivoting=True)
    u, _, vt = svd(maps[pivots[:k], :].T)
    return np.abs(maps @ (u @ vt.conj())).argmax(axis=1)


def spectral(x: np.ndarray, k: int, *, seed: int = 0, n_neighbors: int = N_NEIGHBORS) -> np.ndarray:
    return _compact(cluster_qr(spectral_maps(x, k, n_neighbors, seed)[:, :k]))


def kmeans(x: np.ndarray, k: int, *, seed: int = 0, n_neighbors: int = N_NEIGHBORS) -> np.ndarray:
    from sklearn.cluster import KMeans

    return KMeans(k, n_init=3, random_state=seed).fit_predict(x)


def agglomerative(
    x: np.ndarray, k: int, *, seed: int = 0, n_neighbors: int = N_NEIGHBORS
) -> np.ndarray:
    from sklearn.cluster import AgglomerativeClustering

    return AgglomerativeClustering(k, linkage="ward").fit_predict(x)


Method = Callable[..., np.ndarray]
METHODS: dict[str, Method] = {
    "spectral": spectral,
    "kmeans": kmeans,
    "agglomerative": agglomerative,
}


def partition(
    x: np.ndarray, k: int, method: str = "spectral", *, seed: int = 0,
    n_neighbors: int = N_NEIGHBORS,
) -> np.ndarray:  # fmt: skip
    """Labels 0..k-1 (some may end up empty with ``spectral``) for the rows of ``x``."""
    if method not in METHODS:
        raise ValueError(f"unknown clustering method {method!r}; valid: {', '.join(METHODS)}")
    k = max(1, min(k, len(x)))
    if k == 1:
        return np.zeros(len(x), dtype=int)
    return METHODS[method](x, k, seed=seed, n_neighbors=n_neighbors)


def candidate_ks(n: int, k_range: tuple[int, int] | None, steps: int = 24) -> list[int]:
    """About ``steps`` candidates spread geometrically over ``k_range`` (default 2 to
    ``n / 10``: clusters of ten texts or more; but at least 10 and at most ``MAX_AUTO_K``),
    never above ``n - 1``."""
    lo, hi = k_range if k_range else (2, min(MAX_AUTO_K, max(10, n // 10)))
    lo, hi = max(2, lo), max(2, min(hi, n - 1))
    if hi <= lo:
        return [lo]
    grid = np.unique(np.round(np.geomspace(lo, hi, num=min(steps, hi - lo + 1))).astype(int))
    return [int(k) for k in grid]


def fit_partition(
    x: np.ndarray,
    k: int | None = None,
    method: str = "spectral",
    *,
    k_range: tuple[int, int] | None = None,
    seed: int = 0,
    n_neighbors: int = N_NEIGHBORS,
    silhouette_size: int = 2000,
    tolerance: float = 0.05,
) -> tuple[np.ndarray, int, dict[int, float]]:
    """Labels for the rows of ``x``, the k used, and (when k was chosen) the silhouette of
    every candidate. With ``spectral`` one eigen-decomposition serves every candidate."""
    if method not in METHODS:
        raise ValueError(f"unknown clustering method {method!r}; valid: {', '.join(METHODS)}")
    if k is not None:
        return partition(x, k, method, seed=seed, n_neighbors=n_neighbors), int(k), {}
    if len(x) < 3:
        return np.zeros(len(x), dtype=int), 1, {}
    ks = candidate_ks(len(x), k_range)
    if method == "spectral":
        maps = spectral_maps(x, max(ks), n_neighbors, seed)
        labelings = {c: _compact(cluster_qr(maps[:, :c])) for c in ks}
    else:
        labelings = {c: partition(x, c, method, seed=seed) for c in ks}
    scores = silhouettes(x, labelings, silhouette_size, seed)
    if not scores:
        return np.zeros(len(x), dtype=int), 1, {}
    best = plateau_start(scores, tolerance)
    return labelings[best], best, scores


def choose_k(
    x: np.ndarray, k_range: tuple[int, int] | None = None, method: str = "spectral", **kw: Any
) -> tuple[int, dict[int, float]]:
    """The number of clusters ``fit_partition`` picks for ``x``, and every candidate's score."""
    _, k, scores = fit_partition(x, None, method, k_range=k_range, **kw)
    return k, scores


def silhouettes(
    x: np.ndarray, labelings: dict[int, np.ndarray], size: int, seed: int
) -> dict[int, float]:
    """Cosine silhouette of each labelling, on one seeded sample of at most ``size`` rows
    (the distance matrix is computed once for all of them)."""
    from sklearn.metrics import silhouette_score

    rows = np.arange(len(x))
    if len(x) > size:
        rows = np.sort(np.random.default_rng(seed).choice(len(x), size, replace=False))
    sample = x[rows]
    distances = np.clip(1.0 - sample @ sample.T, 0.0, 2.0)
    np.fill_diagonal(distances, 0.0)
    out = {}
    for k, labels in labelings.items():
        own = labels[rows]
        if 1 < len(np.unique(own)) < len(rows):
            out[k] = float(silhouette_score(distances, own, metric="precomputed"))
    return out


def plateau_start(scores: dict[int, float], tolerance: float = 0.05) -> int:
    """The smallest k scoring within ``tolerance`` x (best - worst) of the best score."""
    best, worst = max(scores.values()), min(scores.values())
    floor = best - tolerance * (best - worst)
    return min(k for k, score in scores.items() if score >= floor)


def _compact(labels: np.ndarray) -> np.ndarray:
    """Renumber labels 0..m-1 (spectral assignment can leave some of the k unused)."""
    return np.unique(labels, return_inverse=True)[1].reshape(-1)

"""Partition unit-length sentence embeddings into k groups, and choose k when not given.

Methods (name -> function in ``METHODS``):

- ``spectral`` (default): a nearest-neighbour graph of the texts (``knn_affinity``), the
  leading eigenvectors of its normalised adjacency (a spectral embedding: the dimension
  reduction), and k-means on their row-normalised coordinates (Ng, Jordan & Weiss). The
  graph's edges are UMAP-style fuzzy memberships: each text's neighbours weighted by how
  much nearer they are than its nearest one, so dense and sparse regions get edges of
  the same strength. Measured on BANKING77 (``benchmarks/classify.py``): NMI 0.834 with
  k = 77, against 0.821 for the earlier 0/1 graph with QR assignment and 0.791 for
  k-means on the raw vectors; PCA before clustering lowered it (0.815 at 50 dimensions,
  0.789 whitened). The k-means runs on diffusion-map coordinates (Coifman & Lafon): each
  eigenvector weighted by its eigenvalue to the power ``DIFFUSION_TIME`` (2, the graph
  walked two steps), so the well-separated directions (eigenvalue near 1) count more
  than the barely-separated ones near the k-th. Chosen on dev sets only (BANKING77 train,
  three 3,080-text draws, and CLINC150 val / a train draw; mean NMI over three seeds,
  k given): 0.8527 unweighted, 0.8543 at t = 1, 0.8576 at t = 2, 0.8565 at t = 3; then
  checked once on BANKING77 test: 0.834 -> 0.836 with k = 77, 0.830 -> 0.837 with k
  chosen (81). Last, ``smooth_labels``: each text moves to the group that holds most of its
  edge weight in the normalised adjacency, repeated until nothing moves (at most
  ``SMOOTH_ROUNDS``, 10), which mends k-means' errors on texts between groups. Dev, k
  given: 0.8576 -> 0.8624 (raw adjacency weights: 0.8612; one round: 0.8603); not helped
  by more spectral coordinates than k (1.25k-2k at t = 2-4: 0.8552-0.8568), ten k-means
  starts (0.8561), a consensus of eight k-means runs (0.8558-0.8567) or a kernel-k-means
  (normalised-cut) refinement (0.8574).
- ``kmeans``: k-means on the unit vectors (spherical k-means in effect).
- ``agglomerative``: Ward linkage on the unit vectors.

Choosing k (``CRITERIA``; ``fit_partition(..., criterion=...)``):

- ``eigen-floor`` (default): k = how many eigenvalues of the graph's normalised adjacency
  reach ``EIGEN_FLOOR`` (0.75). An eigenvalue near 1 belongs to a group of texts whose
  neighbour links mostly stay inside it; one at 0.75 to a group that keeps about three
  quarters of them. So k counts the groups that are at least that self-contained. Unlike
  the silhouette, it does not collapse on short, noisy text (US-airline complaints: 12-14
  themes on every seed where the silhouette chose 3), it needs no clustering per
  candidate, and it is the same on every seed up to a theme or two.
- ``eigengap``: the k before the largest drop between consecutive eigenvalues, at least
  ``min_k``.
- ``silhouette``: the earlier rule: cosine silhouette of each candidate on a sample, the
  smallest k within 5 % of the best (the start of the plateau).

Every criterion returns its curve (k -> eigenvalue, or silhouette), for the Themes tab.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

N_NEIGHBORS = 30
MAX_AUTO_K = 150
"""Largest k chosen automatically (a theme list a reviewer can read; BANKING77 needs ~80)."""
EIGEN_FLOOR = 0.75
"""``eigen-floor``: an eigenvalue at least this counts one theme (see the module docstring)."""
DENSE_MAX = 400
"""Graph components up to this size are solved densely (exact, and fast at that size)."""
EIG_TOL = 1e-3
"""Lanczos tolerance: clustering needs the eigenvectors' directions, not 15 digits."""
DIFFUSION_TIME = 2.0
"""Spectral k-means coordinates: eigenvector x eigenvalue ** this (0: unweighted)."""
SMOOTH_ROUNDS = 10
"""Rounds of neighbour voting after the spectral k-means (``smooth_labels``; 0: none)."""
CRITERIA = ("eigen-floor", "eigengap", "silhouette")


def neighbours(x: np.ndarray, k: int, chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``k`` nearest other rows by cosine (``x`` holds unit vectors) and their
    similarities, nearest first; in row chunks to bound memory."""
    n = len(x)
    x = np.asarray(x, dtype=np.float32)
    cols = np.empty((n, k), dtype=np.int64)
    sims = np.empty((n, k), dtype=np.float32)
    for lo in range(0, n, chunk):
        block = x[lo : lo + chunk] @ x.T
        block[np.arange(len(block)), np.arange(lo, lo + len(block))] = -np.inf  # not itself
        top = np.argpartition(-block, k - 1, axis=1)[:, :k]
        top_sims = np.take_along_axis(block, top, axis=1)
        order = np.argsort(-top_sims, axis=1, kind="stable")
        cols[lo : lo + chunk] = np.take_along_axis(top, order, axis=1)
        sims[lo : lo + chunk] = np.take_along_axis(top_sims, order, axis=1)
    return cols, sims


def graph_neighbours(n: int, n_neighbors: int) -> int:
    """Neighbours per text: ``n_neighbors``, but ``n / 20`` (at least 10) for small inputs,
    since a neighbour list longer than a cluster ties each small cluster to the next."""
    return max(1, min(n_neighbors, max(10, n // 20), n - 1))


def knn_affinity(x: np.ndarray, n_neighbors: int = N_NEIGHBORS, weighting: str = "fuzzy"):  # type: ignore[no-untyped-def]
    """Symmetric sparse neighbour graph of the rows of ``x`` (unit vectors).

    ``fuzzy``: UMAP's membership strengths, exp(-(d - rho_i) / sigma_i) with d the cosine
    distance, rho_i the distance to the nearest neighbour and sigma_i set so that each row's
    strengths sum to log2(k); made symmetric by fuzzy union (a + b - ab). ``binary``: 1 for
    each of the k nearest, averaged with its transpose.
    """
    from scipy.sparse import csr_matrix

    n = len(x)
    k = graph_neighbours(n, n_neighbors)
    cols, sims = neighbours(x, k)
    rows = np.repeat(np.arange(n), k)
    if weighting == "binary":
        graph = csr_matrix((np.ones(n * k), (rows, cols.ravel())), shape=(n, n))
        return 0.5 * (graph + graph.T)
    if weighting != "fuzzy":
        raise ValueError(f"unknown graph weighting {weighting!r}; valid: fuzzy, binary")
    distance = 1.0 - sims.astype(np.float64)
    strengths = np.exp(-np.maximum(distance - distance[:, :1], 0.0) / _sigmas(distance, k))
    graph = csr_matrix((strengths.ravel(), (rows, cols.ravel())), shape=(n, n))
    return (graph + graph.T - graph.multiply(graph.T)).tocsr()


def _sigmas(distance: np.ndarray, k: int, steps: int = 64) -> np.ndarray:
    """Per-row sigma with sum(exp(-(d - rho) / sigma)) = log2(k), by bisection (vectorised)."""
    gaps = np.maximum(distance - distance[:, :1], 0.0)
    target = np.log2(max(k, 2))
    lo = np.zeros((len(gaps), 1))
    hi = np.full((len(gaps), 1), np.inf)
    sigma = np.ones((len(gaps), 1))
    for _ in range(steps):
        over = np.exp(-gaps / sigma).sum(axis=1, keepdims=True) > target
        hi = np.where(over, sigma, hi)
        lo = np.where(over, lo, sigma)
        sigma = np.where(np.isinf(hi), sigma * 2.0, 0.5 * (lo + hi))
    return np.maximum(sigma, 1e-6)


def spectral_maps(
    x: np.ndarray, n_components: int, n_neighbors: int = N_NEIGHBORS, seed: int = 0,
    graph: str = "fuzzy",
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The ``n_components`` largest eigenvalues of the neighbour graph's normalised
    adjacency D^-1/2 A D^-1/2, and their eigenvectors scaled by D^-1/2 (as
    ``sklearn.manifold.spectral_embedding`` does), largest first.

    Lanczos on the adjacency (largest eigenvalues) costs about half of sklearn's
    shift-invert on the Laplacian. Each connected component is solved on its own: a graph
    of c separate groups has eigenvalue 1 c times over, and Lanczos, started from one
    vector, cannot be trusted to find every copy of a repeated eigenvalue.
    """
    values, maps, _ = _spectral(x, n_components, n_neighbors, seed, graph)
    return values, maps


def _spectral(
    x: np.ndarray, n_components: int, n_neighbors: int, seed: int, graph: str
) -> tuple[np.ndarray, np.ndarray, Any]:
    """``spectral_maps``, and the normalised adjacency it solved (``smooth_labels``)."""
    from scipy.sparse import diags
    from scipy.sparse.csgraph import connected_components
    from scipy.sparse.linalg import eigsh

    n = len(x)
    n_components = max(1, min(n_components, n))
    affinity = knn_affinity(x, n_neighbors, graph).tocsr()
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
    all_values = np.concatenate(values)
    order = np.argsort(-all_values, kind="stable")[:n_components]
    return all_values[order], np.hstack(columns)[:, order] * scale[:, None], normalised


def smooth_labels(normalised: Any, labels: np.ndarray, rounds: int = SMOOTH_ROUNDS) -> np.ndarray:
    """Each text moved to the group holding most of its edge weight in ``normalised`` (the
    graph's D^-1/2 A D^-1/2, the matrix whose eigenvectors gave the labels), all at once,
    repeated up to ``rounds`` times or until nothing moves. k-means on the spectral
    coordinates errs on texts between groups; their own neighbours out-vote it."""
    from scipy.sparse import csr_matrix

    labels = _compact(labels)
    n, k = len(labels), int(labels.max()) + 1 if len(labels) else 0
    rows = np.arange(n)
    for _ in range(rounds):
        onehot = csr_matrix((np.ones(n), (rows, labels)), shape=(n, k))
        votes = (normalised @ onehot).toarray()
        moved = votes.argmax(axis=1)
        moved = np.where(votes[rows, moved] > 0, moved, labels)  # no edges: label kept
        if np.array_equal(moved, labels):
            break
        labels = moved
    return _compact(labels)


def assign(
    maps: np.ndarray, k: int, seed: int = 0, how: str = "kmeans",
    values: np.ndarray | None = None, diffusion: float = DIFFUSION_TIME,
) -> np.ndarray:  # fmt: skip
    """Labels from the first ``k`` spectral coordinates: ``kmeans`` on the row-normalised
    rows (seeded, four starts: the same labels every run), or ``qr``: column-pivoted QR
    (Damle et al., sklearn's ``cluster_qr``; deterministic, a little less accurate).

    ``values``: the eigenvalues of ``maps``' columns (``spectral_maps``); with them,
    ``kmeans`` weights column i by ``values[i] ** diffusion`` before normalising the rows
    (diffusion-map coordinates: a direction that separates its group cleanly, eigenvalue
    near 1, outweighs one near the floor). Without them, or with ``diffusion=0``, the
    columns are unweighted (Ng, Jordan & Weiss).
    """
    from sklearn.cluster import KMeans

    if how == "qr":
        return cluster_qr(maps[:, :k])
    if how != "kmeans":
        raise ValueError(f"unknown spectral assignment {how!r}; valid: kmeans, qr")
    rows = maps[:, :k]
    if values is not None and diffusion:
        # Clipped at 0: a negative eigenvalue (a bipartite-like direction) carries no group.
        rows = rows * np.clip(values[: rows.shape[1]], 0.0, None) ** diffusion
    rows = rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
    return KMeans(k, n_init=4, random_state=seed).fit_predict(rows)


def cluster_qr(maps: np.ndarray) -> np.ndarray:
    """Labels from a spectral embedding by column-pivoted QR (deterministic, no k-means)."""
    from scipy.linalg import qr, svd

    k = maps.shape[1]
    _, _, pivots = qr(maps.T, pivoting=True)
    u, _, vt = svd(maps[pivots[:k], :].T)
    return np.abs(maps @ (u @ vt.conj())).argmax(axis=1)


def spectral(
    x: np.ndarray, k: int, *, seed: int = 0, n_neighbors: int = N_NEIGHBORS,
    graph: str = "fuzzy", how: str = "kmeans", diffusion: float = DIFFUSION_TIME,
    smooth: int = SMOOTH_ROUNDS,
) -> np.ndarray:  # fmt: skip
    values, maps, normalised = _spectral(x, k, n_neighbors, seed, graph)
    return _voted(normalised, assign(maps, k, seed, how, values, diffusion), how, smooth)


def _voted(normalised: Any, labels: np.ndarray, how: str, smooth: int) -> np.ndarray:
    """The spectral labels after neighbour voting (k-means' only: QR's are kept as they are)."""
    return smooth_labels(normalised, labels, smooth) if how == "kmeans" else _compact(labels)


def kmeans(x: np.ndarray, k: int, *, seed: int = 0, **_: Any) -> np.ndarray:
    from sklearn.cluster import KMeans

    return KMeans(k, n_init=3, random_state=seed).fit_predict(x)


def agglomerative(x: np.ndarray, k: int, **_: Any) -> np.ndarray:
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
    n_neighbors: int = N_NEIGHBORS, graph: str = "fuzzy", how: str = "kmeans",
    diffusion: float = DIFFUSION_TIME, smooth: int = SMOOTH_ROUNDS,
) -> np.ndarray:  # fmt: skip
    """Labels 0..k-1 for the rows of ``x``. ``graph`` (``fuzzy`` | ``binary``), ``how``
    (``kmeans`` | ``qr``), ``diffusion`` (``assign``) and ``smooth`` (``smooth_labels``'
    rounds) are the spectral method's graph, label assignment, eigenvector weighting and
    neighbour voting. Voting can empty a group, so k-means' k is an upper bound."""
    _check_method(method)
    k = max(1, min(k, len(x)))
    if k == 1:
        return np.zeros(len(x), dtype=int)
    spec = {
        "n_neighbors": n_neighbors, "graph": graph, "how": how, "diffusion": diffusion,
        "smooth": smooth,
    }  # fmt: skip
    return METHODS[method](x, k, seed=seed, **spec)


def k_bounds(n: int, k_range: tuple[int, int] | None) -> tuple[int, int]:
    """``k_range`` (``--min-k``, ``--max-k``) or the default 2 to ``n / 10`` (themes of ten
    texts or more; at least 10, at most ``MAX_AUTO_K``), never above ``n - 1``."""
    lo, hi = k_range if k_range else (2, min(MAX_AUTO_K, max(10, n // 10)))
    lo, hi = max(2, lo), max(2, min(hi, n - 1))
    return lo, max(lo, hi)


def candidate_ks(n: int, k_range: tuple[int, int] | None, steps: int = 24) -> list[int]:
    """About ``steps`` candidates spread geometrically over ``k_bounds`` (the silhouette
    criterion clusters once per candidate)."""
    lo, hi = k_bounds(n, k_range)
    if hi <= lo:
        return [lo]
    grid = np.unique(np.round(np.geomspace(lo, hi, num=min(steps, hi - lo + 1))).astype(int))
    return [int(k) for k in grid]


def k_from_eigenvalues(
    values: np.ndarray, bounds: tuple[int, int], criterion: str = "eigen-floor",
    floor: float = EIGEN_FLOOR,
) -> int:  # fmt: skip
    """k by ``eigen-floor`` (eigenvalues >= ``floor``) or ``eigengap`` (largest drop), kept
    inside ``bounds``."""
    lo, hi = bounds
    if criterion == "eigen-floor":
        return int(min(max(int((values >= floor).sum()), lo), hi))
    gaps = values[:-1] - values[1:]  # gaps[i]: between the (i+1)th and (i+2)th eigenvalue
    window = gaps[lo - 1 : hi]
    return lo + int(np.argmax(window)) if len(window) else lo


def fit_partition(
    x: np.ndarray,
    k: int | None = None,
    method: str = "spectral",
    *,
    k_range: tuple[int, int] | None = None,
    criterion: str = "eigen-floor",
    seed: int = 0,
    n_neighbors: int = N_NEIGHBORS,
    graph: str = "fuzzy",
    how: str = "kmeans",
    diffusion: float = DIFFUSION_TIME,
    smooth: int = SMOOTH_ROUNDS,
    also: Sequence[np.ndarray] = (),
    silhouette_size: int = 2000,
) -> tuple[np.ndarray, int, dict[int, float]]:
    """Labels for the rows of ``x``, the k used, and (when k was chosen) the criterion's
    curve: k -> eigenvalue (the eigenvalue criteria) or silhouette.

    ``also``: other samples of the same texts; their spectra are averaged with that of
    ``x`` before k is read off, so the choice does not hang on one sample.
    """
    _check_method(method)
    if criterion not in CRITERIA:
        raise ValueError(f"unknown k criterion {criterion!r}; valid: {', '.join(CRITERIA)}")
    spec = {
        "n_neighbors": n_neighbors, "graph": graph, "how": how, "diffusion": diffusion,
        "smooth": smooth,
    }  # fmt: skip
    if k is not None:
        return partition(x, k, method, seed=seed, **spec), int(k), {}
    if len(x) < 3:
        return np.zeros(len(x), dtype=int), 1, {}
    bounds = k_bounds(len(x), k_range)
    if criterion == "silhouette":
        return _by_silhouette(x, method, k_range, seed, spec, silhouette_size)
    own, maps, normalised = _spectral(x, bounds[1] + 1, n_neighbors, seed, graph)
    values = own
    if also:
        more = [spectral_maps(o, bounds[1] + 1, n_neighbors, seed, graph)[0] for o in also]
        spectra = [own, *more]
        m = min(len(s) for s in spectra)
        values = np.mean([s[:m] for s in spectra], axis=0)
    chosen = min(k_from_eigenvalues(values, bounds, criterion), len(maps[0]))
    curve = {i + 1: round(float(v), 4) for i, v in enumerate(values[: bounds[1] + 1])}
    if method == "spectral":
        # Weighted by this sample's own eigenvalues: they belong to these eigenvectors.
        labels = assign(maps, chosen, seed, how, own, diffusion)
        return _voted(normalised, labels, how, smooth), chosen, curve
    return partition(x, chosen, method, seed=seed), chosen, curve


def choose_k(
    x: np.ndarray, k_range: tuple[int, int] | None = None, method: str = "spectral", **kw: Any
) -> tuple[int, dict[int, float]]:
    """The number of clusters ``fit_partition`` picks for ``x``, and the criterion's curve."""
    _, k, curve = fit_partition(x, None, method, k_range=k_range, **kw)
    return k, curve


def _by_silhouette(
    x: np.ndarray, method: str, k_range: tuple[int, int] | None, seed: int,
    spec: dict[str, Any], size: int,
) -> tuple[np.ndarray, int, dict[int, float]]:  # fmt: skip
    ks = candidate_ks(len(x), k_range)
    if method == "spectral":
        values, maps = spectral_maps(x, max(ks), spec["n_neighbors"], seed, spec["graph"])
        labelings = {
            c: _compact(assign(maps, c, seed, spec["how"], values, spec["diffusion"])) for c in ks
        }
    else:
        labelings = {c: partition(x, c, method, seed=seed) for c in ks}
    scores = silhouettes(x, labelings, size, seed)
    if not scores:
        return np.zeros(len(x), dtype=int), 1, {}
    best = plateau_start(scores)
    return labelings[best], best, scores


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


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown clustering method {method!r}; valid: {', '.join(METHODS)}")


def _compact(labels: np.ndarray) -> np.ndarray:
    """Renumber labels 0..m-1 (k-means can leave some of the k unused)."""
    return np.unique(labels, return_inverse=True)[1].reshape(-1)

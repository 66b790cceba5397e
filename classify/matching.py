"""Keep theme ids stable across re-clusterings: match new clusters to previous themes.

A full re-cluster numbers its clusters arbitrarily. ``match_ids`` pairs each new cluster
with at most one previous theme by the Hungarian algorithm, maximising the total
similarity: Jaccard overlap of members when members are given (``{id: keys}``, the best
evidence that two clusters are "the same theme"), else cosine of centroids (``{id:
vector}``). Pairs less similar than ``min_similarity`` are not matched: that new cluster is
a new theme, and that previous theme has ended. ``stable_ids`` then hands out fresh ids.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Mapping
from typing import Any

import numpy as np

DEFAULT_MIN = {"overlap": 0.2, "centroid": 0.8}
"""Default ``min_similarity`` per kind: Jaccard of members, cosine of centroids."""


def similarity(previous: Mapping[int, Any], new: Mapping[Hashable, Any]) -> tuple[np.ndarray, str]:
    """Previous x new similarity matrix and its kind (``overlap`` or ``centroid``)."""
    values = [*previous.values(), *new.values()]
    vectors = [isinstance(v, np.ndarray) for v in values]
    if values and all(vectors):
        old = _unit(np.vstack([np.ravel(v) for v in previous.values()]))
        cur = _unit(np.vstack([np.ravel(v) for v in new.values()]))
        if old.shape[1] != cur.shape[1]:
            raise ValueError(
                f"centroids differ in dimension ({old.shape[1]} vs {cur.shape[1]}): "
                "were the runs made with the same embedding model?"
            )
        return old @ cur.T, "centroid"
    if any(vectors):
        raise ValueError("give members (collections of keys) or centroids (arrays), not a mix")
    old_sets = [set(v) for v in previous.values()]
    new_sets = [set(v) for v in new.values()]
    sims = np.zeros((len(old_sets), len(new_sets)))
    for i, a in enumerate(old_sets):
        for j, b in enumerate(new_sets):
            union = len(a | b)
            sims[i, j] = len(a & b) / union if union else 0.0
    return sims, "overlap"


def match_ids(
    previous: Mapping[int, Collection[Hashable] | np.ndarray],
    new: Mapping[Hashable, Collection[Hashable] | np.ndarray],
    *,
    min_similarity: float | None = None,
) -> dict[Hashable, int | None]:
    """For each new cluster label, the previous theme id it continues, or None (new theme).

    ``previous``/``new`` map ids to members (any hashable keys: call-turn ids, texts) or to
    centroid vectors. ``min_similarity`` defaults to ``DEFAULT_MIN`` of the kind used.
    """
    if not new:
        return {}
    if not previous:
        return dict.fromkeys(new)
    from scipy.optimize import linear_sum_assignment

    sims, kind = similarity(previous, new)
    floor = DEFAULT_MIN[kind] if min_similarity is None else min_similarity
    old_ids, new_ids = list(previous), list(new)
    rows, cols = linear_sum_assignment(sims, maximize=True)
    out: dict[Hashable, int | None] = dict.fromkeys(new_ids)
    for r, c in zip(rows, cols, strict=True):
        if sims[r, c] >= floor and sims[r, c] > 0:
            out[new_ids[c]] = old_ids[r]
    return out


def stable_ids(
    matches: Mapping[Hashable, int | None], used: Iterable[int] = (), order: Iterable[Hashable] = ()
) -> dict[Hashable, int]:
    """Final ids: matched clusters keep their previous id; the others get fresh ids above
    every id in ``used`` (ids of ended themes are never reused), in ``order`` if given."""
    taken = {i for i in matches.values() if i is not None} | set(used)
    fresh = max(taken, default=-1) + 1
    out: dict[Hashable, int] = {}
    for label in list(order) or list(matches):
        matched = matches[label]
        if matched is None:
            matched, fresh = fresh, fresh + 1
        out[label] = matched
    return out


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)

"""Per-tag training targets from the tag sets of texts.

Shared by ``classify.learned`` (fitting) and ``classify.model_store`` (cross-validation),
which both import this module, so neither has to import the other for it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np


def tag_targets(
    tag: str, y: Sequence[Collection[str]], unknown: Sequence[Collection[str]] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices that carry a label for ``tag`` and their 0/1 targets.

    A text is a positive for the tags in its set ``y[i]`` and a negative for every other
    tag, except the tags in ``unknown[i]``, which skip that text.
    """
    rows = [i for i in range(len(y)) if unknown is None or tag not in unknown[i] or tag in y[i]]
    target = np.array([1 if tag in y[i] else 0 for i in rows], dtype=np.int64)
    return np.array(rows, dtype=np.int64), target

"""The response model's estimator: who answers the survey, from what every call has.

``ResponseFeatures`` turns handled calls (with their transcript tags) into a float matrix;
``make_response_model`` puts it before a scaler and an L2 logistic regression. The weights
built on it, and why it uses these features, are in ``qa.metrics.response``. Imported lazily
(scikit-learn is heavy).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import Pipeline

from qa.metrics.base import CallFact

DEFAULT_C = 1.0
MIN_TAG_CALLS = 5
NUMERIC = ("talk_seconds", "hold_seconds", "wait_seconds")

Record = tuple[CallFact, frozenset[str]]
"""One handled call and its transcript tags: a row of ``ResponseFeatures``' input."""


class ResponseFeatures(TransformerMixin, BaseEstimator):
    """Records (``Record``) -> a float matrix of the features in the module docstring.

    ``fit`` learns the queue / team levels and the tags with at least ``min_tag_calls``
    calls; ``transform`` gives one row per record (unknown levels and tags: all zeros).
    """

    def __init__(self, min_tag_calls: int = MIN_TAG_CALLS) -> None:
        self.min_tag_calls = min_tag_calls

    def fit(self, X: Sequence[Record], y: Any = None) -> ResponseFeatures:
        """Learn the levels and the tag vocabulary from ``X``."""
        if self.min_tag_calls < 1:
            raise ValueError(f"min_tag_calls must be at least 1, got {self.min_tag_calls}")
        counts: dict[str, int] = {}
        for _, tags in X:
            for tag in tags:
                counts[tag] = counts.get(tag, 0) + 1
        self.queues_ = sorted({call.queue for call, _ in X})
        self.teams_ = sorted({call.team for call, _ in X})
        self.tags_ = sorted(t for t, n in counts.items() if n >= self.min_tag_calls)
        self.feature_names_ = (
            *NUMERIC,
            "transferred",
            *(f"queue={q}" for q in self.queues_),
            *(f"team={t}" for t in self.teams_),
            *(f"tag={t}" for t in self.tags_),
        )
        return self

    def transform(self, X: Sequence[Record]) -> np.ndarray:
        """The feature matrix of ``X`` (``len(X)`` x ``len(feature_names_)``)."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "feature_names_")
        # Column blocks filled with numpy, not a Python list per row: at a million calls the
        # row-by-row build took most of ``qa kpis``' time (fit and predict, in every fold).
        out = np.zeros((len(X), len(self.feature_names_)))
        if not len(X):
            return out
        numeric = np.array([[getattr(call, name) for name in NUMERIC] for call, _ in X], float)
        out[:, : len(NUMERIC)] = np.log1p(np.maximum(numeric, 0.0))
        out[:, len(NUMERIC)] = [float(call.transferred) for call, _ in X]
        start = len(NUMERIC) + 1
        for levels, level_of in (
            (self.queues_, lambda record: record[0].queue),
            (self.teams_, lambda record: record[0].team),
        ):
            index = _index(levels)
            self._one_hot(out, start, [index.get(level_of(r), -1) for r in X])
            start += len(levels)
        tag_index = _index(self.tags_)
        hits = [(i, tag_index[t]) for i, (_, tags) in enumerate(X) for t in tags if t in tag_index]
        if hits:
            rows, cols = np.array(hits).T
            out[rows, start + cols] = 1.0
        return out

    @staticmethod
    def _one_hot(out: np.ndarray, start: int, columns: list[int]) -> None:
        """Set ``out[i, start + columns[i]]`` to 1 where ``columns[i]`` is a known level."""
        index = np.asarray(columns)
        known = np.flatnonzero(index >= 0)
        out[known, start + index[known]] = 1.0

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The names of the output columns (``talk_seconds``, ``queue=billing``, ...)."""
        return np.asarray(self.feature_names_, dtype=object)


def make_response_model(c: float = DEFAULT_C, min_tag_calls: int = MIN_TAG_CALLS) -> Pipeline:
    """Features -> standardised -> L2 logistic regression (``C=c``): P(the call is answered)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if not c > 0:
        raise ValueError(f"C (inverse regularisation strength) must be > 0, got {c}")
    return make_pipeline(
        ResponseFeatures(min_tag_calls), StandardScaler(), LogisticRegression(C=c, max_iter=2000)
    )


def _index(levels: Sequence[str]) -> dict[str, int]:
    return {level: i for i, level in enumerate(levels)}

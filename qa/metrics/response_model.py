"""The response model's estimator: who answers the survey, from what every call has.

``ResponseFeatures`` turns handled calls (with their transcript tags) into a float matrix;
``make_response_model`` puts it before a scaler and an L2 logistic regression. The weights
built on it, and why it uses these features, are in ``qa.metrics.response``. Imported lazily
(scikit-learn is heavy).
"""

from __future__ import annotations

import math
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
        rows = [
            [
                *(math.log1p(max(getattr(call, name), 0.0)) for name in NUMERIC),
                float(call.transferred),
                *(float(call.queue == q) for q in self.queues_),
                *(float(call.team == t) for t in self.teams_),
                *(float(t in tags) for t in self.tags_),
            ]
            for call, tags in X
        ]
        return np.asarray(rows, dtype=float).reshape(len(rows), len(self.feature_names_))

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

"""Who answers the survey: a response model and inverse-probability weights for survey KPIs.

Survey scores describe the customers who answered, not the callers. When transferred calls
answer twice as often and score lower, the raw CSAT mean over-represents them. Every input
needed to correct for that exists for respondents and non-respondents alike, so:

* **Features** (``ResponseFeatures`` in ``qa.metrics.response_model``): what callqa sees on
  *every* handled call - talk, hold and wait seconds (``log1p``), the transfer flag, the queue
  and team (one column per level) and each transcript tag carried by at least
  ``min_tag_calls`` calls. Never comment tags: a comment exists only when the survey was
  answered, so it would predict answering perfectly.
* **Model** (``make_response_model``, same module): standardised features, L2-regularised
  logistic regression (``C``, default 1.0) of "this handled call has a survey row".
* **Calibration**: 5-fold out-of-fold probabilities, grouped into quintiles; predicted vs
  observed response rate per group and a Hosmer-Lemeshow p-value (``calibration_p``; a small
  value says the model mis-states who answers, and the weighted figures should be doubted).
* **Size**: beyond ``MAX_FIT_CALLS`` handled calls the model and its calibration are fitted
  on a seeded random sample of that many (at a million calls fitting on all of them took
  minutes of ``qa kpis``); every call still gets its probability and weight.
* **Weights**: each respondent stands for ``1 / p`` callers, trimmed at ``cap / r`` where ``r``
  is the overall response rate (default ``DEFAULT_CAP`` = 5: no respondent stands for more
  than five times as many callers as the average respondent), so a handful of unlikely
  respondents cannot swing a KPI.

Imports scikit-learn: import this module inside functions, not at the top of a module that
``qa.cli`` loads.

The assumption: whether a customer answers depends only on what the features describe
(responses are "missing at random" given them). What callqa cannot see - the customer's mood
before the call, say - is not corrected. Nothing is modelled when either group has fewer than
``MIN_GROUP`` calls; then ``ResponseWeights.note`` says why and the weighted KPIs are ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import median
from typing import TYPE_CHECKING

from qa.metrics.base import CallFact, SurveyFact
from qa.metrics.bias import LABELS
from qa.metrics.response_model import (
    DEFAULT_C,
    MIN_TAG_CALLS,
    NUMERIC,
    Record,
    make_response_model,
)

if TYPE_CHECKING:
    import numpy as np
    from sklearn.pipeline import Pipeline

DEFAULT_CAP = 5.0
MIN_GROUP = 20
CALIBRATION_BINS = 5
MAX_FIT_CALLS = 200_000
"""Handled calls the response model is fitted on at most (a seeded random sample beyond; the
weights are still predicted for every call)."""


@dataclass(frozen=True)
class CalibrationBin:
    """One group of calls by predicted response probability (out of fold)."""

    predicted: float
    observed: float
    n: int


@dataclass(frozen=True)
class ResponseWeights:
    """The fitted response model's weights for the respondents of one set of calls."""

    weights: Mapping[str, float]  # respondent's call external id -> weight (1 / p, trimmed)
    n_handled: int
    n_respondents: int
    cap: float
    max_weight: float | None = None  # the trim point, cap / response rate
    trimmed: int = 0
    calibration: tuple[CalibrationBin, ...] = ()
    calibration_p: float | None = None
    reason: str = ""  # one line: who answers more often, e.g. "transferred calls answer ..."
    note: str = ""  # why nothing was modelled, when nothing was
    features: tuple[str, ...] = ()

    @property
    def modelled(self) -> bool:
        return bool(self.weights)

    @property
    def response_rate(self) -> float | None:
        return self.n_respondents / self.n_handled if self.n_handled else None


def _calibration(
    model: Pipeline, records: Sequence[Record], y: np.ndarray
) -> tuple[tuple[CalibrationBin, ...], float | None]:
    """Out-of-fold quintile bins and the Hosmer-Lemeshow p-value (``bins - 2`` df)."""
    import numpy as np
    from scipy.stats import chi2
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    p = cross_val_predict(clone(model), list(records), y, cv=folds, method="predict_proba")[:, 1]
    order = np.argsort(p, kind="stable")
    bins, stat = [], 0.0
    for part in np.array_split(order, CALIBRATION_BINS):
        if not len(part):
            continue
        expected, observed, n = float(p[part].sum()), float(y[part].sum()), len(part)
        bins.append(CalibrationBin(expected / n, observed / n, n))
        if 0 < expected < n:
            stat += (observed - expected) ** 2 / (expected * (1 - expected / n))
    dof = len(bins) - 2
    return tuple(bins), (float(chi2.sf(stat, dof)) if dof > 0 else None)


def _ratio_line(subject: str, has: np.ndarray, y: np.ndarray, rest: str) -> str:
    a, b = float(y[has].mean()), float(y[~has].mean())
    if b == 0:
        return f"{subject} answer the survey ({a:.0%}); {rest} never do"
    return f"{subject} answer {a / b:.1f}x as often as {rest} ({a:.0%} vs {b:.0%})"


def _reason(model: Pipeline, records: Sequence[Record], y: np.ndarray) -> str:
    """The feature that moves answering most (largest standardised coefficient), in words."""
    import numpy as np

    names = model[0].feature_names_
    coef = model[-1].coef_[0]
    name = names[int(np.argmax(np.abs(coef)))]
    calls = [call for call, _ in records]
    if name in NUMERIC:
        values = np.array([getattr(c, name) for c in calls])
        mid = median(values)
        has = values > mid
        if has.all() or not has.any():
            return ""
        label = LABELS[name]
        return _ratio_line(f"calls with {label} over {mid:.0f} s", has, y, "the rest")
    if name == "transferred":
        has = np.array([c.transferred for c in calls])
        return _ratio_line("transferred calls", has, y, "the rest")
    kind, _, value = name.partition("=")
    if kind == "tag":
        has = np.array([value in tags for _, tags in records])
        return _ratio_line(f"calls tagged {value}", has, y, "the rest")
    has = np.array([getattr(c, kind) == value for c in calls])
    subject = value if value.lower().startswith(kind) else f"{kind} {value}"
    return _ratio_line(f"{subject} calls", has, y, f"other {kind}s' calls")


def _fit_sample(n: int) -> np.ndarray | None:
    """Sorted row indices of a seeded random sample of :data:`MAX_FIT_CALLS` calls, or None
    when all ``n`` fit. A logistic model of a few dozen features has settled long before
    that many rows (its coefficients' standard errors shrink as 1 / sqrt(n)), while fitting
    it six times (the model and five calibration folds) on a million calls took minutes."""
    import numpy as np

    if n <= MAX_FIT_CALLS:
        return None
    return np.sort(np.random.default_rng(0).choice(n, MAX_FIT_CALLS, replace=False))


def response_weights(
    calls: Sequence[CallFact],
    surveys: Sequence[SurveyFact],
    tags: Mapping[str, set[str]] | None = None,
    *,
    cap: float = DEFAULT_CAP,
    c: float = DEFAULT_C,
    min_group: int = MIN_GROUP,
    min_tag_calls: int = MIN_TAG_CALLS,
) -> ResponseWeights:
    """Fit the response model on the handled ``calls`` and weigh their respondents.

    ``tags``: call external id -> its *transcript* tags (``qa.metrics.transcript_tags``);
    comment tags must not be passed (see the module docstring).
    """
    import numpy as np

    if not cap >= 1:
        raise ValueError(f"weight cap must be at least 1 (x the average weight), got {cap}")
    tags = tags or {}
    answered = {s.call_external_id for s in surveys}
    handled = [call for call in calls if not call.abandoned]
    records = [(call, frozenset(tags.get(call.external_id, ()))) for call in handled]
    y = np.array([call.external_id in answered for call in handled], dtype=int)
    n_yes = int(y.sum())
    base = {"n_handled": len(handled), "n_respondents": n_yes, "cap": cap}
    if min(n_yes, len(handled) - n_yes) < min_group:
        note = (
            f"too few calls to model who answers ({n_yes} answered, {len(handled) - n_yes} "
            f"not; at least {min_group} each needed)"
        )
        return ResponseWeights({}, note=note, **base)
    fit_on = _fit_sample(len(records))
    fit_records = records if fit_on is None else [records[i] for i in fit_on]
    fit_y = y if fit_on is None else y[fit_on]
    try:
        model = make_response_model(c, min_tag_calls).fit(fit_records, fit_y)
    except (ValueError, ArithmeticError) as exc:  # a degenerate design: no weights, said so
        return ResponseWeights({}, note=f"the response model could not be fitted: {exc}", **base)
    p = model.predict_proba(records)[:, 1]
    max_weight = cap * len(handled) / n_yes
    raw = 1.0 / np.clip(p, 1e-12, None)
    weights = {
        call.external_id: float(min(w, max_weight))
        for call, w, got in zip(handled, raw, y, strict=True)
        if got
    }
    trimmed = int(sum(1 for w, got in zip(raw, y, strict=True) if got and w > max_weight))
    bins, p_value = _calibration(model, fit_records, fit_y)
    return ResponseWeights(
        weights,
        max_weight=max_weight,
        trimmed=trimmed,
        calibration=bins,
        calibration_p=p_value,
        reason=_reason(model, records, y),
        features=tuple(model[0].feature_names_),
        **base,
    )

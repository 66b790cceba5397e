"""The adjusting regression of driver analysis: one model on all features plus controls.

Scores: OLS with HC3 (heteroscedasticity-robust) errors; the coefficient of a 0/1 feature is
its adjusted effect. Binary outcomes: logistic regression and the average marginal effect
(discrete change 0 -> 1 of each feature, averaged over the rows: statsmodels
``get_margeff(at="overall", dummy=True)``), so effects stay differences in rate.

What can go wrong, and what happens then (each said in a note, never silently):

* a control that is constant (e.g. ``team`` inside one team) is left out;
* categorical control levels with fewer than ``min_n`` rows are pooled into one level;
* a column that is a linear combination of earlier ones (two tags always together; a tag
  identical to a queue) is dropped: a tag so dropped gets no adjusted effect;
* more than ``MAX_ADJUSTED_ROWS`` calls: the model is fitted on a seeded random sample of
  that many;
* logistic regression with perfect separation (all calls of a control level with the same
  outcome) drops that control; separation by a feature, a failed fit or a non-converged one
  falls back to a linear probability model (OLS, HC3) for the whole model.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

CATEGORICAL: dict[str, str] = {"queue": "queue", "team": "team", "agent": "agent_id"}
"""Categorical controls -> frame column."""
NUMERIC: dict[str, tuple[str, float]] = {"call_seconds": ("call_seconds", 60.0)}
"""Numeric controls -> (frame column, divisor): call length enters in minutes."""
OTHER_LEVEL = "(other)"
MAX_ADJUSTED_ROWS = 200_000
"""Rows the adjusting regression is fitted on at most: beyond, a seeded random sample (the
effects' intervals then reflect that many calls, still a fraction of a point wide). At a
million calls the logistic model's marginal effects took ~7 minutes and 14 GB."""

Estimate = tuple[float, float, float, float | None]
"""(effect, ci_low, ci_high, p_value)."""


@dataclass(frozen=True)
class Adjusted:
    """Adjusted effects of the features that made it into the model."""

    model: str  # "ols-hc3" | "logit-ame" | "lpm-hc3" | "none"
    effects: dict[str, Estimate] = field(default_factory=dict)
    controls: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    feature_notes: dict[str, str] = field(default_factory=dict)
    cov: dict[tuple[str, str], float] = field(default_factory=dict)
    """Covariance of the effects of two features (same scale as ``effects``), for effects
    that combine coefficients (``qa.why.twins``)."""


@dataclass
class _Design:
    """Design matrix columns, grouped by what they stand for."""

    columns: dict[str, np.ndarray] = field(default_factory=dict)
    owner: dict[str, str] = field(default_factory=dict)  # column -> feature or control name
    notes: list[str] = field(default_factory=list)
    feature_notes: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, values: np.ndarray, owner: str) -> None:
        self.columns[name] = values
        self.owner[name] = owner

    def drop_owner(self, owner: str) -> None:
        for name in [n for n, o in self.owner.items() if o == owner]:
            del self.columns[name], self.owner[name]

    def controls(self, features: Sequence[str]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(o for o in self.owner.values() if o not in features))


def _design(
    frame: pd.DataFrame, features: Sequence[str], controls: Sequence[str], min_n: int
) -> _Design:
    import numpy as np
    import pandas as pd

    design = _Design()
    for name in features:
        design.add(name, frame[name].to_numpy(dtype=float), name)
    for control in controls:
        if control in NUMERIC:
            column, scale = NUMERIC[control]
            values = frame[column].to_numpy(dtype=float) / scale
            if np.ptp(values) > 0:
                design.add(control, values, control)
            continue
        levels = frame[CATEGORICAL[control]].astype(str)
        counts = levels.value_counts()
        rare = counts[counts < min_n].index
        if len(rare) and len(counts) > 1:
            levels = levels.where(~levels.isin(rare), OTHER_LEVEL)
            design.notes.append(
                f"{control}: {len(rare)} level(s) with fewer than {min_n} rows pooled"
            )
        counts = levels.value_counts()
        if len(counts) < 2:
            continue  # constant here (e.g. team inside one team): nothing to control
        dummies = pd.get_dummies(levels, dtype=float).drop(columns=counts.index[0])
        for level in dummies.columns:
            design.add(f"{control}={level}", dummies[level].to_numpy(), control)
    return design


def _drop_collinear(design: _Design, features: Sequence[str], n: int) -> None:
    """Greedily keep columns that add rank (after the intercept), in insertion order."""
    import numpy as np

    kept = [np.ones(n)]
    for name in list(design.columns):
        candidate = np.column_stack([*kept, design.columns[name]])
        if np.linalg.matrix_rank(candidate) == candidate.shape[1]:
            kept.append(design.columns[name])
            continue
        owner = design.owner[name]
        del design.columns[name], design.owner[name]
        if owner in features:
            design.feature_notes[owner] = (
                "collinear with other tags/controls (e.g. always together): not adjusted"
            )
        else:
            design.notes.append(f"{name} dropped: collinear with tags or other controls")


def _small_sample_note(y: np.ndarray, design: _Design, binary: bool) -> None:
    """Warn below ~10 rows (binary: 10 of the rarer outcome) per estimated parameter."""
    params = len(design.columns) + 1
    support = int(min(y.sum(), len(y) - y.sum())) if binary else len(y)
    if support < 10 * params:
        what = "of the rarer outcome" if binary else "rows"
        design.notes.append(
            f"small sample: {support} {what} for {params} parameters (rule of thumb: 10 per "
            "parameter); adjusted effects are unstable - see their intervals, or use fewer "
            "controls"
        )


def _separated(x: np.ndarray, y: np.ndarray) -> bool:
    """The rows with x == 1 all share one outcome (quasi-complete separation)."""
    hit = y[x == 1]
    return len(hit) > 0 and (hit.min() == hit.max())


Fitted = tuple[dict[str, Estimate], dict[tuple[str, str], float]]
"""Estimates per design column, and their covariances."""


def _estimates(names, params, conf, pvalues, cov) -> Fitted:  # type: ignore[no-untyped-def]
    estimates = {
        name: (float(params[i]), float(conf[i][0]), float(conf[i][1]), float(pvalues[i]))
        for i, name in enumerate(names)
    }
    pairs = {(a, b): float(cov[i][j]) for i, a in enumerate(names) for j, b in enumerate(names)}
    return estimates, pairs


def _ols(y: np.ndarray, design: _Design, alpha: float, weights: np.ndarray | None = None) -> Fitted:
    """OLS (or, with ``weights``, WLS: each row counts ``weight`` times), HC3 errors."""
    import numpy as np
    import statsmodels.api as sm

    names = list(design.columns)
    exog = np.column_stack([np.ones(len(y)), *design.columns.values()])
    model = sm.OLS(y, exog) if weights is None else sm.WLS(y, exog, weights=weights)
    fit = model.fit(cov_type="HC3")
    conf = fit.conf_int(alpha)
    cov = np.asarray(fit.cov_params())[1:, 1:]
    return _estimates(names, fit.params[1:], conf[1:], fit.pvalues[1:], cov)


def _logit(y: np.ndarray, design: _Design, alpha: float) -> Fitted:
    """Average marginal effects; raises on any sign of a bad fit (caller falls back)."""
    import numpy as np
    import statsmodels.api as sm

    names = list(design.columns)
    exog = np.column_stack([np.ones(len(y)), *design.columns.values()])
    from statsmodels.tools.sm_exceptions import (
        ConvergenceWarning,
        HessianInversionWarning,
        PerfectSeparationWarning,
    )

    with warnings.catch_warnings():
        # Signs of a bad fit become errors (the caller falls back); other warnings stay.
        for category in (
            ConvergenceWarning,
            HessianInversionWarning,
            PerfectSeparationWarning,
            RuntimeWarning,
        ):
            warnings.simplefilter("error", category)
        fit = sm.Logit(y, exog).fit(disp=0, maxiter=200)
        if not fit.mle_retvals.get("converged", False):
            raise RuntimeError("logistic regression did not converge")
        margeff = fit.get_margeff(at="overall", method="dydx", dummy=True)
        conf = margeff.conf_int(alpha)
    if not np.all(np.isfinite(conf)):
        raise RuntimeError("non-finite marginal-effect intervals")
    # margeff_cov: the delta-method covariance of the marginal effects (no constant).
    return _estimates(names, margeff.margeff, conf, margeff.pvalues, margeff.margeff_cov)


def fit_adjusted(
    frame: pd.DataFrame,
    *,
    features: Sequence[str],
    controls: Sequence[str],
    binary: bool,
    min_n: int,
    confidence: float = 0.95,
    weight: str | None = None,
) -> Adjusted:
    """One regression of ``y`` on ``features`` plus ``controls`` (see module docstring).

    ``weight``: a column of row weights (survey responses weighted for who answers,
    ``qa.why.weighting``); then the model is weighted least squares with HC3 errors for
    every outcome (``wls-hc3``; a binary one as a weighted linear probability model).
    """
    import numpy as np

    sampled = ""
    rare: list[str] = []
    if len(frame) > MAX_ADJUSTED_ROWS:
        sampled = (
            f"adjusted on a seeded random sample of {MAX_ADJUSTED_ROWS:,} of {len(frame):,} "
            "calls (the raw effects use every call)"
        )
        frame = frame.sample(n=MAX_ADJUSTED_ROWS, random_state=0)
        # A tag common enough among every call may be too rare in the sample.
        rare = [f for f in features if f in frame and frame[f].sum() < min_n]
        features = [f for f in features if f not in rare]
    y = frame["y"].to_numpy(dtype=float)
    if not features:
        return Adjusted("none", notes=("no tag with enough calls to adjust",))
    if np.ptp(y) == 0:
        return Adjusted("none", notes=("the outcome does not vary: nothing to explain",))
    design = _design(frame, features, controls, min_n)
    if sampled:
        design.notes.append(sampled)
        for name in rare:
            design.feature_notes[name] = f"fewer than {min_n} calls in the sample: not adjusted"
    _drop_collinear(design, features, len(y))
    if len(y) <= len(design.columns) + 1:
        return Adjusted("none", notes=(f"too few rows ({len(y)}) for the regression",))
    alpha = 1 - confidence
    if weight is not None:
        _small_sample_note(y, design, binary)
        weights = frame[weight].to_numpy(dtype=float)
        return _finish("wls-hc3", _ols(y, design, alpha, weights), design, features)
    if not binary:
        _small_sample_note(y, design, binary)
        return _finish("ols-hc3", _ols(y, design, alpha), design, features)

    for control in design.controls(features):
        if control in NUMERIC:
            continue  # only 0/1 dummies can be checked this simply; the fit catches the rest
        names = [n for n, o in design.owner.items() if o == control]
        if any(_separated(design.columns[n], y) for n in names):
            design.drop_owner(control)
            design.notes.append(f"{control} dropped: perfect separation in the logistic model")
    _small_sample_note(y, design, binary)
    separated = [f for f in features if f in design.columns and _separated(design.columns[f], y)]
    reason = ""
    if separated:
        reason = f"perfect separation by {', '.join(separated)}"
    else:
        try:
            return _finish("logit-ame", _logit(y, design, alpha), design, features)
        except (Exception, Warning) as exc:  # PerfectSeparation*, LinAlgError, convergence
            reason = f"logistic fit failed ({type(exc).__name__}: {exc})"
    design.notes.append(f"{reason}; adjusted effects from a linear probability model (OLS, HC3)")
    return _finish("lpm-hc3", _ols(y, design, alpha), design, features)


def _finish(model: str, fitted: Fitted, design: _Design, features: Sequence[str]) -> Adjusted:
    estimates, cov = fitted
    wanted = set(features)
    return Adjusted(
        model=model,
        effects={name: est for name, est in estimates.items() if name in wanted},
        controls=design.controls(features),
        notes=tuple(design.notes),
        feature_notes=dict(design.feature_notes),
        cov={pair: v for pair, v in cov.items() if pair[0] in wanted and pair[1] in wanted},
    )

"""Driver statistics on an analysis frame: pure functions (pandas / numpy in, dataclasses out).

No database here: ``qa.why.data`` builds the frame, ``qa.why.drivers`` wires the two together.
The result types are in ``qa.why.results``, the regression and its fallbacks in
``qa.why.models``, the text rendering in ``qa.why.text``.

Definitions (documented once, used by ``qa why``, the report and the UI)
-----------------------------------------------------------------------
* The frame has one row per call whose outcome was observed, the outcome in column ``y``
  and one 0/1 column per feature. Each feature has a *kind* (``Driver.kind``): ``said``, a
  tag on what the customer or agent said (comments, transcripts); ``recorded``, a ``call:``
  feature the phone system recorded (``qa.why.structured``: transferred, wait over the
  service level / a long-wait threshold, hold over a threshold, after an abandoned contact,
  a repeat contact; absent when constant over the rows); ``theme``, a discovered theme.
* ``n_with`` / ``n_without``: rows with / without the feature; ``prevalence`` = n_with / n.
* A feature is *tested* when ``min(n_with, n_without) >= min_n`` (default ``DEFAULT_MIN_N``
  = 10); otherwise it is listed with ``status="insufficient"`` and no statistics (it is not
  dropped silently, and it is left out of the regression).
* ``effect`` = mean_with - mean_without. Scores (csat, nps, ces): Welch t interval and
  p-value. Binary outcomes (fcr, repeat): a difference of rates (fractions), Newcombe
  (hybrid Wilson score) interval, score-test p-value.
* ``q_value``: Benjamini-Hochberg over every tested feature of one analysis.
* ``adjusted_effect``: from one regression on all tested features at once plus the
  controls (queue, team dummies; call length = talk + hold, in minutes). Scores: OLS
  with HC3 robust errors (the coefficient). Binary: logistic regression, the average
  marginal effect (discrete change of the 0/1 feature); on perfect separation or a
  failed fit, a linear probability model (OLS, HC3) instead, said in ``note``.
* Twins (``qa.why.twins.TWINS``, tag -> structured-name prefixes: ``transfer`` ~
  ``call:transferred``; ``long-wait`` ~ every ``call:wait>`` and ``call:hold>``) measure one
  event twice. All sit in the one regression; a feature with twins gets its coefficient
  plus each twin's coefficient times the twin's share difference (P(twin | feature) -
  P(twin | no feature)): the effect of the event as far as the feature marks it, with a
  normal interval from the regression's covariances (``qa.why.twins``).
* ``impact`` = prevalence x adjusted_effect: how much the feature moves the overall mean.
* Sorting: most harmful first. Higher is better for csat, nps, fcr (most negative impact
  first); lower is better for ces and repeat (most positive impact first). Features
  without an adjusted effect follow, then the insufficient ones (by name).
* NPS per response is recoded promoter +100 / passive 0 / detractor -100, so the mean of
  the outcome *is* the NPS and effects are in NPS points.
* Tag quality (``said`` tags): precision and recall measured from reviewer decisions, with
  Wilson intervals (``qa.why.quality``); the *sensitivity* line divides the adjusted effect
  and its interval by the attenuation that mis-tagging causes (``qa.why.sensitivity``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from qa.why.results import (
    BINARY_OUTCOMES,
    CONTROLS,
    DEFAULT_CONTROLS,
    DEFAULT_MIN_N,
    INSUFFICIENT,
    LOWER_IS_BETTER,
    OK,
    RECORDED,
    SAID,
    Driver,
    DriverAnalysis,
    check_outcome,
)
from qa.why.structured import CALL_PREFIX

if TYPE_CHECKING:
    import pandas as pd

WEIGHTED_NOTE = (
    "weighted for who answers (1 / P(answer), qa.metrics.response): means, prevalences and "
    "effects describe all handled callers, not respondents"
)

# --- interval and test primitives (statsmodels / scipy underneath) ---------------------------


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``successes / n``."""
    from statsmodels.stats.proportion import proportion_confint

    if n <= 0:
        raise ValueError(f"Wilson interval needs n > 0, got n={n}")
    low, high = proportion_confint(successes, n, alpha=1 - confidence, method="wilson")
    return float(low), float(high)


def rate_difference(
    x1: int, n1: int, x2: int, n2: int, confidence: float = 0.95
) -> tuple[float, float, float, float | None]:
    """``p1 - p2`` with its Newcombe (hybrid Wilson score) interval and a score-test p-value.

    Returns ``(difference, ci_low, ci_high, p_value)``; the p-value is ``None`` when the
    test is undefined (e.g. both rates 0 or both 1: nothing varies).
    """
    from statsmodels.stats.proportion import (
        confint_proportions_2indep,
        test_proportions_2indep,
    )

    if n1 <= 0 or n2 <= 0:
        raise ValueError(f"rate difference needs both groups non-empty, got n1={n1}, n2={n2}")
    diff = x1 / n1 - x2 / n2
    low, high = confint_proportions_2indep(
        x1, n1, x2, n2, method="newcomb", compare="diff", alpha=1 - confidence
    )
    p = None
    if 0 < x1 + x2 < n1 + n2:
        import numpy as np

        # statsmodels also computes an odds ratio, which divides by zero when one group's
        # rate is 0 or 1; the score test's p-value does not use it.
        with np.errstate(divide="ignore", invalid="ignore"):
            test = test_proportions_2indep(x1, n1, x2, n2, method="score", compare="diff")
        p = float(test.pvalue)
    return diff, float(low), float(high), _finite(p)


def mean_difference(
    with_: Sequence[float], without: Sequence[float], confidence: float = 0.95
) -> tuple[float, float | None, float | None, float | None]:
    """Welch: ``mean(with_) - mean(without)``, its t interval and two-sided p-value.

    Interval and p-value are ``None`` when undefined (fewer than two values in a group,
    or no variance at all).
    """
    import numpy as np
    from scipy import stats

    a, b = np.asarray(with_, dtype=float), np.asarray(without, dtype=float)
    if not len(a) or not len(b):
        raise ValueError("mean difference needs both groups non-empty")
    diff = float(a.mean() - b.mean())
    if len(a) < 2 or len(b) < 2 or (a.var() == 0 and b.var() == 0):
        return diff, None, None, None
    result = stats.ttest_ind(a, b, equal_var=False)
    ci = result.confidence_interval(confidence)
    return diff, _finite(ci.low), _finite(ci.high), _finite(result.pvalue)


def bh_qvalues(p_values: Sequence[float | None]) -> list[float | None]:
    """Benjamini-Hochberg adjusted p-values (q-values); ``None`` in, ``None`` out."""
    from statsmodels.stats.multitest import multipletests

    index = [i for i, p in enumerate(p_values) if p is not None]
    out: list[float | None] = [None] * len(p_values)
    if index:
        _, q, _, _ = multipletests([p_values[i] for i in index], method="fdr_bh")
        for i, value in zip(index, q, strict=True):
            out[i] = float(value)
    return out


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


# --- the analysis --------------------------------------------------------------------------


def feature_kind(name: str, kinds: Mapping[str, str] | None = None) -> str:
    """``kinds[name]``, else ``recorded`` for a ``call:`` feature and ``said`` for a tag."""
    if kinds and name in kinds:
        return kinds[name]
    return RECORDED if name.startswith(CALL_PREFIX) else SAID


def _describe(
    x: pd.Series, y: pd.Series, *, name: str, binary: bool, min_n: int, confidence: float
) -> Driver:
    """Unadjusted statistics of one feature (or an insufficient row)."""
    n_with = int(x.sum())
    n_without = len(x) - n_with
    with_, without = y[x == 1], y[x == 0]
    base = Driver(
        tag=name,
        status=OK,
        n_with=n_with,
        n_without=n_without,
        prevalence=n_with / len(x) if len(x) else None,
        mean_with=float(with_.mean()) if n_with else None,
        mean_without=float(without.mean()) if n_without else None,
    )
    if min(n_with, n_without) < min_n:
        side = "with" if n_with < min_n else "without"
        return replace(
            base, status=INSUFFICIENT, note=f"fewer than {min_n} calls {side} it: not tested"
        )
    if binary:
        effect, low, high, p = rate_difference(
            int(with_.sum()), n_with, int(without.sum()), n_without, confidence
        )
    else:
        effect, low, high, p = mean_difference(with_, without, confidence)
    return replace(base, effect=effect, ci_low=low, ci_high=high, p_value=p)


def _describe_weighted(
    x: pd.Series, y: pd.Series, w: pd.Series, *, name: str, min_n: int, confidence: float
) -> Driver:
    """``_describe`` with row weights: weighted means, and the difference's interval and
    p-value from a weighted regression of ``y`` on the feature alone (WLS, HC3)."""
    import numpy as np
    import statsmodels.api as sm

    n_with = int(x.sum())
    n_without = len(x) - n_with
    has = x == 1
    base = Driver(
        tag=name,
        status=OK,
        n_with=n_with,
        n_without=n_without,
        prevalence=float(w[has].sum() / w.sum()) if len(x) else None,
        mean_with=float(np.average(y[has], weights=w[has])) if n_with else None,
        mean_without=float(np.average(y[~has], weights=w[~has])) if n_without else None,
    )
    if min(n_with, n_without) < min_n:
        side = "with" if n_with < min_n else "without"
        return replace(
            base, status=INSUFFICIENT, note=f"fewer than {min_n} calls {side} it: not tested"
        )
    exog = np.column_stack([np.ones(len(x)), x.to_numpy(dtype=float)])
    fit = sm.WLS(y.to_numpy(dtype=float), exog, weights=w.to_numpy(dtype=float)).fit(cov_type="HC3")
    low, high = fit.conf_int(1 - confidence)[1]
    return replace(
        base, effect=float(fit.params[1]), ci_low=_finite(low), ci_high=_finite(high),
        p_value=_finite(fit.pvalues[1]),
    )  # fmt: skip


def _mean(y: pd.Series, w: pd.Series | None) -> float:
    return float(y.mean()) if w is None else float((y * w).sum() / w.sum())


def _sort_key(driver: Driver, lower_is_better: bool) -> tuple:
    impact = driver.impact
    harm = 0.0 if impact is None else (impact if lower_is_better else -impact)
    return (driver.status != OK, impact is None, -harm, driver.tag)


def analyse_frame(
    frame: pd.DataFrame,
    *,
    outcome: str,
    features: Sequence[str],
    controls: Sequence[str] = DEFAULT_CONTROLS,
    min_n: int = DEFAULT_MIN_N,
    confidence: float = 0.95,
    kinds: Mapping[str, str] | None = None,
    weight: str | None = None,
) -> DriverAnalysis:
    """Drivers of ``outcome`` (column ``y``) over ``frame``: one ``Driver`` per feature.

    ``features`` are 0/1 columns of ``frame``; ``controls`` are names from ``CONTROLS``
    (columns ``queue``, ``team``, ``agent_id`` for ``agent``, ``call_seconds``); ``kinds``:
    feature -> ``Driver.kind`` (default: ``feature_kind``). ``weight``: a column of row
    weights (``qa.why.weighting``: survey answers weighted for who answers): means,
    prevalences, effects and the adjusted regression are then weighted, so they describe
    all callers rather than respondents.
    """
    from qa.why.twins import fit_by_twins

    check_outcome(outcome)
    if min_n < 1:
        raise ValueError(f"min_n must be at least 1, got {min_n}")
    unknown = [c for c in controls if c not in CONTROLS]
    if unknown:
        raise ValueError(f"unknown control(s) {unknown}; choose from: {', '.join(CONTROLS)}")
    binary = outcome in BINARY_OUTCOMES
    y = frame["y"].astype(float)
    w = None if weight is None else frame[weight].astype(float)
    rows = [
        replace(
            _describe(frame[name], y, name=name, binary=binary, min_n=min_n, confidence=confidence)
            if w is None
            else _describe_weighted(
                frame[name], y, w, name=name, min_n=min_n, confidence=confidence
            ),
            kind=feature_kind(name, kinds),
        )
        for name in features
    ]
    tested = [r.tag for r in rows if r.status == OK]
    q_values = bh_qvalues([r.p_value for r in rows if r.status == OK])
    q_by_tag = dict(zip(tested, q_values, strict=True))
    fits = fit_by_twins(
        frame, features=tested, controls=controls, binary=binary, min_n=min_n,
        confidence=confidence, weight=weight,
    )  # fmt: skip
    drivers = []
    for row in rows:
        if row.status != OK:
            drivers.append(row)
            continue
        est = fits.by_feature[row.tag].effects.get(row.tag)
        note = fits.feature_note(row.tag)
        if est is None:
            drivers.append(replace(row, q_value=q_by_tag[row.tag], note=note))
            continue
        effect, low, high, p = est
        drivers.append(
            replace(
                row,
                q_value=q_by_tag[row.tag],
                adjusted_effect=_finite(effect),
                adjusted_ci_low=_finite(low),
                adjusted_ci_high=_finite(high),
                adjusted_p_value=_finite(p),
                impact=_finite((row.prevalence or 0.0) * effect),
                note=note,
            )
        )
    lower = outcome in LOWER_IS_BETTER
    drivers.sort(key=lambda d: _sort_key(d, lower))
    return DriverAnalysis(
        outcome=outcome,
        n=len(frame),
        mean=_mean(y, w) if len(frame) else None,
        drivers=tuple(drivers),
        model=fits.full.model,
        controls=fits.full.controls,
        min_n=min_n,
        notes=fits.notes() if w is None else (*fits.notes(), WEIGHTED_NOTE),
    )

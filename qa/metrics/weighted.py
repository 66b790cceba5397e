"""Response-weighted survey KPIs: CSAT mean, CSAT %, NPS and CES as if every caller answered.

Given the respondents' weights (``qa.metrics.response.ResponseWeights``), each KPI is the
weighted mean of one value per answer: the CSAT score; 1 for a CSAT of 4-5 else 0; the NPS
points of the answer (+100 promoter, 0 passive, -100 detractor); the CES score. Over the
respondents ``i`` of a set of calls, with weights ``w`` and values ``y``:

* estimate ``m = sum(w y) / sum(w)`` (the Hajek estimator);
* 95 % interval ``m +- 1.96 se``, with the design-based (sandwich, linearised) variance
  ``se^2 = sum(w^2 (y - m)^2) / sum(w)^2``. It treats the weights as known: estimating them
  from the data usually makes the true interval narrower, so this one errs on the wide side;
* ``survey_ess``, Kish's effective sample size ``sum(w)^2 / sum(w^2)``: how many unweighted
  answers the weighted ones are worth (never more than the respondents).

Only handled calls have weights: a survey on an abandoned call (which the raw KPIs count)
is left out. A KPI is ``None`` when nothing was modelled or fewer than two answers carry a
weight. The raw and the weighted figure *differ* when the raw one is outside the weighted
one's interval (``Comparison.differs``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qa.metrics.base import CallFact, SurveyFact

if TYPE_CHECKING:
    from qa.metrics.response import ResponseWeights

Z95 = 1.959963984540054


def nps_points(score: int) -> float:
    """One NPS answer as its contribution to NPS: promoter +100, passive 0, detractor -100."""
    return 100.0 if score >= 9 else (-100.0 if score <= 6 else 0.0)


# weighted key -> (raw key, survey field, the value of one answer, label)
SCORES: dict[str, tuple[str, str, Callable[[int], float], str]] = {
    "csat_mean_weighted": ("csat_mean", "csat", float, "CSAT mean"),
    "csat_pct_weighted": ("csat_pct", "csat", lambda s: float(s >= 4), "CSAT 4-5"),
    "nps_weighted": ("nps", "nps", nps_points, "NPS"),
    "ces_mean_weighted": ("ces_mean", "ces", float, "CES mean"),
}
WEIGHTED_KEYS: tuple[str, ...] = (
    *SCORES,
    *(f"{key}_ci_{end}" for key in SCORES for end in ("low", "high")),
    "survey_ess",
)
"""The keys ``weighted_kpis`` adds to a KPI row (``qa kpis --format json``)."""


def weighted_mean(
    values: Sequence[float], weights: Sequence[float]
) -> tuple[float, float, float] | None:
    """(estimate, ci_low, ci_high) of the module docstring; None below two values."""
    if len(values) < 2 or len(values) != len(weights):
        return None
    total = math.fsum(weights)
    if total <= 0:
        return None
    m = math.fsum(w * y for w, y in zip(weights, values, strict=True)) / total
    var = math.fsum(w * w * (y - m) ** 2 for w, y in zip(weights, values, strict=True))
    se = math.sqrt(var) / total
    return m, m - Z95 * se, m + Z95 * se


def weighted_kpis(
    calls: Iterable[CallFact], surveys: Iterable[SurveyFact], response: ResponseWeights
) -> dict[str, float | None]:
    """The ``WEIGHTED_KEYS`` of ``calls`` (every key present; ``None`` where not computed)."""
    out: dict[str, float | None] = dict.fromkeys(WEIGHTED_KEYS)
    ids = {call.external_id for call in calls}
    answered = [
        (s, response.weights[s.call_external_id])
        for s in surveys
        if s.call_external_id in ids and s.call_external_id in response.weights
    ]
    for key, (_, name, value, _) in SCORES.items():
        pairs = [(value(getattr(s, name)), w) for s, w in answered if getattr(s, name) is not None]
        result = weighted_mean([y for y, _ in pairs], [w for _, w in pairs])
        if result is not None:
            out[key], out[f"{key}_ci_low"], out[f"{key}_ci_high"] = result
    weights = [w for _, w in answered]
    if weights:
        out["survey_ess"] = math.fsum(weights) ** 2 / math.fsum(w * w for w in weights)
    return out


def weighted_kpis_by(
    calls: Iterable[CallFact],
    surveys: Sequence[SurveyFact],
    response: ResponseWeights,
    key: Callable[[CallFact], str],
) -> dict[str, dict[str, float | None]]:
    """``weighted_kpis`` per group of ``calls`` (``key``: a call's group), by group key."""
    groups: dict[str, list[CallFact]] = defaultdict(list)
    for call in calls:
        groups[key(call)].append(call)
    return {group: weighted_kpis(members, surveys, response) for group, members in groups.items()}


@dataclass(frozen=True)
class Comparison:
    """One survey KPI raw (respondents) and weighted (all callers), side by side."""

    key: str  # the raw KPI key (csat_mean, csat_pct, nps, ces_mean)
    label: str
    raw: float | None
    weighted: float | None
    ci_low: float | None
    ci_high: float | None

    @property
    def differs(self) -> bool:
        """The raw figure lies outside the weighted one's 95 % interval."""
        if None in (self.raw, self.ci_low, self.ci_high):
            return False
        return not self.ci_low <= self.raw <= self.ci_high  # type: ignore[operator]


def compare(raw: Mapping[str, object], weighted: Mapping[str, float | None]) -> list[Comparison]:
    """Raw vs weighted for each survey KPI (``raw``: a ``compute_kpis`` row)."""
    rows = []
    for key, (raw_key, _, _, label) in SCORES.items():
        value = raw.get(raw_key)
        rows.append(
            Comparison(
                raw_key,
                label,
                float(value) if isinstance(value, int | float) else None,
                weighted.get(key),
                weighted.get(f"{key}_ci_low"),
                weighted.get(f"{key}_ci_high"),
            )
        )
    return rows


@dataclass(frozen=True)
class SurveyWeighting:
    """The response model of a period, its weighted KPIs and the raw-vs-weighted rows."""

    response: ResponseWeights
    kpis: dict[str, float | None]
    comparisons: tuple[Comparison, ...]

    @property
    def differing(self) -> tuple[Comparison, ...]:
        """The KPIs whose raw figure lies outside the weighted one's interval."""
        return tuple(c for c in self.comparisons if c.differs)


def weigh_survey_kpis(
    calls: Sequence[CallFact],
    surveys: Sequence[SurveyFact],
    tags: Mapping[str, set[str]],
    raw: Mapping[str, object],
) -> SurveyWeighting:
    """Fit the response model on ``calls`` (``tags``: transcript tags only) and compare the
    weighted survey KPIs with ``raw`` (the same calls' ``compute_kpis`` row)."""
    from qa.metrics.response import response_weights

    response = response_weights(calls, surveys, tags)
    kpis = weighted_kpis(calls, surveys, response)
    return SurveyWeighting(response, kpis, tuple(compare(raw, kpis)))

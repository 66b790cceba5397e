"""Twins: a comment tag and a structured driver that measure the same event.

``transfer`` (the customer said they were passed around) and ``call:transferred`` (the phone
system recorded a transfer) are one event seen twice. Their coefficients in one regression
split the event's effect between them (most of it lands on the better measurement), so a
twin's coefficient alone is not its effect. And leaving the twin out instead lets every
other driver that travels with the event (long waits travel with transfers) soak up the
effect of the events the tag missed: the tag's effect then shrinks with each miss.

The rule: every feature sits in ONE regression with all the others and the controls. A
feature with twins in it gets as its adjusted effect its own coefficient plus, for each
twin, the twin's coefficient times how much more often the twin is present on the rows
that have the feature than on the rows that do not (``share``):

    effect(transfer) = b(transfer) + [P(call:transferred | transfer) -
                                      P(call:transferred | no transfer)] x b(call:transferred)

i.e. the effect of the event the feature marks, as far as it marks it. Its interval is the
normal interval of that sum with the regression's covariances (the shares held fixed). A
feature without twins keeps its coefficient. When a twin was dropped from the regression
(collinear: a tag that is exactly the recorded flag), the feature's effect comes from a
regression without its twins instead, and its note says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING

from qa.why.models import Adjusted, Estimate, fit_adjusted

if TYPE_CHECKING:
    import pandas as pd

TWINS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "transfer": ("call:transferred",),
    "long-wait": ("call:wait>", "call:hold>"),
})  # fmt: skip
"""Comment tag -> name prefixes of the structured drivers (``qa.why.structured``) that
measure the same event. The one place the pairing is defined."""


def twins_of(name: str, features: Sequence[str]) -> frozenset[str]:
    """The twins of ``name`` among ``features`` (either direction; empty when none)."""
    prefixes = TWINS.get(name)
    if prefixes is not None:
        return frozenset(f for f in features if f.startswith(prefixes))
    tags = [tag for tag, prefixes in TWINS.items() if name.startswith(prefixes)]
    return frozenset(f for f in features if f in tags)


@dataclass(frozen=True)
class TwinFits:
    """The full model (every feature) and, per feature, the model its effect comes from."""

    full: Adjusted
    by_feature: dict[str, Adjusted]
    pairs: tuple[tuple[str, tuple[str, ...]], ...]
    """(tag, its structured twins) for each comment tag with twins among the features."""
    how: Mapping[str, str] = field(default_factory=dict)
    """feature -> how its twins entered its effect (for its note)."""

    def notes(self) -> tuple[str, ...]:
        """The full model's notes, and which twins were read together."""
        if not self.pairs:
            return self.full.notes
        pairs = "; ".join(f"{tag} ~ {', '.join(twins)}" for tag, twins in self.pairs)
        return (*self.full.notes, f"twins (one event, said and recorded): {pairs}; each "
                "one's effect includes the share of its twin it carries")  # fmt: skip

    def feature_note(self, name: str) -> str:
        """The note of ``name``'s own fit, and how its twins entered its effect."""
        fit = self.by_feature[name]
        notes = [fit.feature_notes.get(name, ""), self.how.get(name, "")]
        if fit.model != self.full.model:
            notes.append(f"adjusted by {fit.model} (model without its twins)")
        return "; ".join(n for n in notes if n)


def share(frame: pd.DataFrame, name: str, twin: str) -> float:
    """P(twin | name) - P(twin | not name) over the rows of ``frame``."""
    has = frame[name] == 1
    if has.all() or not has.any():
        return 0.0
    return float(frame.loc[has, twin].mean() - frame.loc[~has, twin].mean())


def combined(
    full: Adjusted, name: str, weights: Mapping[str, float], confidence: float
) -> Estimate | None:
    """``b(name) + sum(weight x b(twin))`` with its normal interval; None when a needed
    coefficient or covariance is missing."""
    from scipy.stats import norm

    terms = {name: 1.0, **weights}
    if any(t not in full.effects for t in terms):
        return None
    effect = sum(w * full.effects[t][0] for t, w in terms.items())
    variance = 0.0
    for a, wa in terms.items():
        for b, wb in terms.items():
            cov = full.cov.get((a, b))
            if cov is None:
                return None
            variance += wa * wb * cov
    if not math.isfinite(variance) or variance < 0:
        return None
    se = math.sqrt(variance)
    z = norm.ppf(0.5 + confidence / 2)
    p = float(2 * norm.sf(abs(effect) / se)) if se > 0 else (0.0 if effect else 1.0)
    return (effect, effect - z * se, effect + z * se, p)


def fit_by_twins(
    frame: pd.DataFrame,
    *,
    features: Sequence[str],
    controls: Sequence[str],
    binary: bool,
    min_n: int,
    confidence: float = 0.95,
    weight: str | None = None,
) -> TwinFits:
    """``fit_adjusted`` once on every feature; each feature with twins gets the combined
    effect of the module docstring (or, failing that, the fit without its twins).
    ``weight``: a column of row weights (``fit_adjusted``)."""
    options = {"controls": controls, "binary": binary, "min_n": min_n, "confidence": confidence,
               "weight": weight}  # fmt: skip
    full = fit_adjusted(frame, features=features, **options)
    by_feature: dict[str, Adjusted] = {}
    how: dict[str, str] = {}
    without: dict[frozenset[str], Adjusted] = {}
    for name in features:
        twins = twins_of(name, features)
        if not twins:
            by_feature[name] = full
            continue
        weights = {t: share(frame, name, t) for t in sorted(twins)}
        estimate = combined(full, name, weights, confidence)
        if estimate is not None:
            by_feature[name] = replace(full, effects={**full.effects, name: estimate})
            how[name] = "includes " + ", ".join(
                f"{w:.2f} x the effect of {t}" for t, w in weights.items()
            )
            continue
        if twins not in without:  # a twin fell out of the full model: fit without them
            kept = [f for f in features if f not in twins]
            without[twins] = fit_adjusted(frame, features=kept, **options)
        by_feature[name] = without[twins]
        how[name] = "adjusted without its twins (" + ", ".join(sorted(twins)) + ")"
    pairs = []
    for tag in (t for t in TWINS if t in features):
        twins = twins_of(tag, features)
        if twins:
            pairs.append((tag, tuple(f for f in features if f in twins)))
    return TwinFits(full, by_feature, tuple(pairs), how)

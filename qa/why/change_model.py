"""Change-over-time results (``qa why --compare``): the periods compared and the
decomposition of the outcome's change into feature terms (``qa.why.change`` computes them,
``qa.why.text`` renders them).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from qa.metrics.base import Kpis


def share(part: float | None, delta: float | None) -> float | None:
    """``part`` as a fraction of ``delta`` (None when either is missing or delta is 0)."""
    if part is None or not delta:
        return None
    return part / delta


@dataclass(frozen=True)
class Period:
    """Calls with ``since <= started_at < until``."""

    since: datetime
    until: datetime

    @property
    def label(self) -> str:
        return f"{self.since:%Y-%m-%d}..{self.until:%Y-%m-%d}"


@dataclass(frozen=True)
class ChangeTerm:
    """One feature's share of the change in the outcome mean."""

    tag: str
    prevalence_before: float
    prevalence_after: float
    effect_before: float
    effect_after: float
    prevalence_part: float
    """(p_after - p_before) * effect_before: the change from more / fewer such calls."""
    effect_part: float
    """p_after * (effect_after - effect_before): the change from the tag hurting more / less."""
    effect_change_p: float | None = None
    """Two-sided p-value of effect_after - effect_before (z test on the two HC3 errors)."""

    @property
    def total(self) -> float:
        return self.prevalence_part + self.effect_part


@dataclass(frozen=True)
class ChangeDecomposition:
    """The outcome's change between two periods, split into feature terms and a residual."""

    outcome: str
    before: Period
    after: Period
    n_before: int
    n_after: int
    mean_before: float | None
    mean_after: float | None
    terms: tuple[ChangeTerm, ...]
    """Largest absolute contribution first."""
    residual: float | None
    kpis_before: Kpis = field(default_factory=dict)
    kpis_after: Kpis = field(default_factory=dict)
    paradox: tuple[str, ...] = ()
    """Efficiency-up / experience-down warnings (empty: none)."""
    notes: tuple[str, ...] = ()
    summary: tuple[str, ...] = ()
    """Plain-English sentences, e.g. '67% of the change comes from more re-explain calls'."""

    @property
    def delta(self) -> float | None:
        if self.mean_before is None or self.mean_after is None:
            return None
        return self.mean_after - self.mean_before

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: periods as ISO strings, terms with their totals and shares."""
        delta = self.delta
        return {
            "outcome": self.outcome,
            "before": {
                "since": self.before.since.isoformat(),
                "until": self.before.until.isoformat(),
            },
            "after": {"since": self.after.since.isoformat(), "until": self.after.until.isoformat()},
            "n_before": self.n_before,
            "n_after": self.n_after,
            "mean_before": self.mean_before,
            "mean_after": self.mean_after,
            "delta": delta,
            "terms": [
                {**asdict(t), "total": t.total, "share": share(t.total, delta)} for t in self.terms
            ],
            "residual": self.residual,
            "residual_share": share(self.residual, delta),
            "kpis_before": self.kpis_before,
            "kpis_after": self.kpis_after,
            "paradox": list(self.paradox),
            "notes": list(self.notes),
            "summary": list(self.summary),
        }

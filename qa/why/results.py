"""Driver-analysis results: the outcome vocabulary and the frozen ``Driver`` /
``DriverAnalysis`` values that ``qa why``, the HTML report and the UI consume.

How every number is computed is documented in ``qa.why.stats``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

OUTCOMES: tuple[str, ...] = ("csat", "nps", "ces", "fcr", "repeat")
BINARY_OUTCOMES: frozenset[str] = frozenset({"fcr", "repeat"})
LOWER_IS_BETTER: frozenset[str] = frozenset({"ces", "repeat"})
DEFAULT_MIN_N = 10
DEFAULT_CONTROLS: tuple[str, ...] = ("queue", "team", "call_seconds")
CONTROLS: tuple[str, ...] = ("queue", "team", "agent", "call_seconds")
"""Valid controls: categorical queue / team / agent (dummies), numeric call length."""

OK = "ok"
INSUFFICIENT = "insufficient"

DRIVER_KEYS: tuple[str, ...] = (
    "tag", "status", "n_with", "n_without", "prevalence", "mean_with", "mean_without",
    "effect", "ci_low", "ci_high", "p_value", "q_value", "adjusted_effect",
    "adjusted_ci_low", "adjusted_ci_high", "adjusted_p_value", "impact", "note",
)  # fmt: skip
"""Keys of ``Driver.to_dict()`` (the JSON of ``qa why``), in order."""


def check_outcome(outcome: str) -> str:
    """``outcome`` if valid, else a ``ValueError`` naming the choices."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; choose one of: {', '.join(OUTCOMES)}")
    return outcome


@dataclass(frozen=True)
class Driver:
    """One feature's (tag's / theme's) association with an outcome."""

    tag: str
    status: str  # OK | INSUFFICIENT
    n_with: int
    n_without: int
    prevalence: float | None
    mean_with: float | None = None
    mean_without: float | None = None
    effect: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    q_value: float | None = None
    adjusted_effect: float | None = None
    adjusted_ci_low: float | None = None
    adjusted_ci_high: float | None = None
    adjusted_p_value: float | None = None
    impact: float | None = None
    note: str = ""

    @property
    def significant(self) -> bool:
        """Adjusted 95 % interval excludes zero (False when not estimated)."""
        lo, hi = self.adjusted_ci_low, self.adjusted_ci_high
        return lo is not None and hi is not None and (lo > 0 or hi < 0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``DRIVER_KEYS``); NaN never leaks out (it becomes ``None``)."""
        return {key: _clean(value) for key, value in asdict(self).items()}


@dataclass(frozen=True)
class DriverAnalysis:
    """All drivers of one outcome over one set of calls, sorted most harmful first."""

    outcome: str
    n: int
    """Rows analysed (calls / responses with the outcome observed)."""
    mean: float | None
    """Overall outcome mean (a rate for binary outcomes; the NPS for nps)."""
    drivers: tuple[Driver, ...]
    model: str
    """``ols-hc3``, ``logit-ame``, ``lpm-hc3`` (binary fallback) or ``none``."""
    controls: tuple[str, ...] = ()
    """Controls actually in the regression (after dropping constant / offending ones)."""
    min_n: int = DEFAULT_MIN_N
    notes: tuple[str, ...] = field(default_factory=tuple)
    """Model-level remarks: dropped controls, fallbacks, too little data."""

    @property
    def binary(self) -> bool:
        return self.outcome in BINARY_OUTCOMES

    @property
    def lower_is_better(self) -> bool:
        return self.outcome in LOWER_IS_BETTER

    def tested(self) -> tuple[Driver, ...]:
        return tuple(d for d in self.drivers if d.status == OK)

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "n": self.n,
            "mean": _clean(self.mean),
            "model": self.model,
            "controls": list(self.controls),
            "min_n": self.min_n,
            "notes": list(self.notes),
            "drivers": [d.to_dict() for d in self.drivers],
        }


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value

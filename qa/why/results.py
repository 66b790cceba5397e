"""Driver-analysis results: the outcome vocabulary and the frozen ``Driver`` /
``DriverAnalysis`` values that ``qa why``, the HTML report and the UI consume.

How every number is computed is documented in ``qa.why.stats``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

OUTCOMES: tuple[str, ...] = ("csat", "nps", "ces", "fcr", "repeat", "aht")
"""``aht``: a handled call's talk + hold + after-call work, in seconds (what the call cost in
agent time; ``qa.why.money`` prices it)."""
BINARY_OUTCOMES: frozenset[str] = frozenset({"fcr", "repeat"})
LOWER_IS_BETTER: frozenset[str] = frozenset({"ces", "repeat", "aht"})
DEFAULT_MIN_N = 10
DEFAULT_CONTROLS: tuple[str, ...] = ("queue", "team", "call_seconds")
CONTROLS: tuple[str, ...] = ("queue", "team", "agent", "call_seconds")
"""Valid controls: categorical queue / team / agent (dummies), numeric call length."""

OK = "ok"
INSUFFICIENT = "insufficient"

SAID = "said"
RECORDED = "recorded"
THEME = "theme"
KINDS: dict[str, str] = {
    SAID: "a tag on what the customer or agent said (survey comments, transcripts)",
    RECORDED: "the phone system recorded it (call:… features from the telephony export)",
    THEME: "a discovered theme (clustered comments and customer turns)",
}
"""``Driver.kind`` values and what each means (the legend of every driver table)."""
DEFAULT_ASSUME_RECALL = 0.7
"""Recall assumed for a tag's sensitivity line when no reviewer decision measured it."""

QUALITY_KEYS: tuple[str, ...] = (
    "precision", "precision_low", "precision_high", "precision_n",
    "recall", "recall_low", "recall_high", "recall_n", "decisions",
)  # fmt: skip
"""``Driver.to_dict()`` keys from ``TagQuality`` (all ``None`` without reviewer decisions)."""
SENSITIVITY_KEYS: tuple[str, ...] = (
    "recall_used", "precision_used", "quality_source", "correction_factor",
    "corrected_effect", "corrected_low", "corrected_high", "sensitivity",
)  # fmt: skip
"""``Driver.to_dict()`` keys from ``Sensitivity`` (all ``None`` but for tested "said" tags)."""
DRIVER_KEYS: tuple[str, ...] = (
    "tag", "kind", "status", "n_with", "n_without", "prevalence", "mean_with", "mean_without",
    "effect", "ci_low", "ci_high", "p_value", "q_value", "adjusted_effect",
    "adjusted_ci_low", "adjusted_ci_high", "adjusted_p_value", "impact", "note",
    *QUALITY_KEYS, *SENSITIVITY_KEYS,
)  # fmt: skip
"""Keys of ``Driver.to_dict()`` (the JSON of ``qa why``), in order."""


def check_outcome(outcome: str) -> str:
    """``outcome`` if valid, else a ``ValueError`` naming the choices."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; choose one of: {', '.join(OUTCOMES)}")
    return outcome


@dataclass(frozen=True)
class TagQuality:
    """A tag's precision and recall measured from reviewer decisions (``qa.why.quality``).

    ``confirmed``: machine-tagged calls a reviewer confirmed; ``rejected``: machine-tagged
    calls a reviewer rejected; ``added``: calls where a reviewer added the tag the machine
    missed. Rates are ``None`` when nothing measured them; intervals are Wilson 95 %.
    """

    tag: str
    confirmed: int
    rejected: int
    added: int
    precision: float | None = None
    precision_low: float | None = None
    precision_high: float | None = None
    recall: float | None = None
    recall_low: float | None = None
    recall_high: float | None = None

    @property
    def reviewed(self) -> int:
        """Machine-tagged calls a reviewer decided on: the precision denominator."""
        return self.confirmed + self.rejected

    @property
    def found(self) -> int:
        """Calls the tag truly has among the decided ones: the recall denominator."""
        return self.confirmed + self.added

    @property
    def decisions(self) -> int:
        """Decisions that measured something (a reviewer agreeing the tag is absent where
        the machine found nothing measures neither rate)."""
        return self.confirmed + self.rejected + self.added

    def to_dict(self) -> dict[str, Any]:
        """The ``QUALITY_KEYS`` of a driver's JSON."""
        return {
            "precision": self.precision, "precision_low": self.precision_low,
            "precision_high": self.precision_high, "precision_n": self.reviewed,
            "recall": self.recall, "recall_low": self.recall_low,
            "recall_high": self.recall_high, "recall_n": self.found,
            "decisions": self.decisions,
        }  # fmt: skip


@dataclass(frozen=True)
class Sensitivity:
    """A "said" driver's adjusted effect corrected for mis-tagging (``qa.why.sensitivity``).

    ``factor`` is ``None`` (and so are the corrected numbers) when the tag is too noisy to
    correct; ``line`` says so, or gives the corrected interval in words.
    """

    recall: float
    precision: float
    source: str  # "measured" (recall from reviewer decisions) | "assumed"
    factor: float | None
    effect: float | None
    low: float | None
    high: float | None
    line: str

    def to_dict(self) -> dict[str, Any]:
        """The ``SENSITIVITY_KEYS`` of a driver's JSON."""
        return {
            "recall_used": self.recall, "precision_used": self.precision,
            "quality_source": self.source, "correction_factor": self.factor,
            "corrected_effect": self.effect, "corrected_low": self.low,
            "corrected_high": self.high, "sensitivity": self.line,
        }  # fmt: skip


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
    kind: str = SAID
    """``SAID`` (a comment / transcript tag), ``RECORDED`` (a ``call:`` feature) or ``THEME``."""
    quality: TagQuality | None = None
    """Measured precision / recall of a "said" tag (``None``: no reviewer decisions)."""
    sensitivity: Sensitivity | None = None
    """The mis-tagging correction of a tested "said" tag's adjusted effect."""

    @property
    def significant(self) -> bool:
        """Adjusted 95 % interval excludes zero (False when not estimated)."""
        lo, hi = self.adjusted_ci_low, self.adjusted_ci_high
        return lo is not None and hi is not None and (lo > 0 or hi < 0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready flat dict (``DRIVER_KEYS``); NaN never leaks out (it becomes ``None``)."""
        flat = {f.name: getattr(self, f.name) for f in fields(self)}
        quality, sensitivity = flat.pop("quality"), flat.pop("sensitivity")
        flat.update(quality.to_dict() if quality else dict.fromkeys(QUALITY_KEYS))
        flat.update(sensitivity.to_dict() if sensitivity else dict.fromkeys(SENSITIVITY_KEYS))
        return {key: _clean(flat[key]) for key in DRIVER_KEYS}


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

"""Action-trigger types: the thresholds (``TriggerThresholds``) and a fired ``Trigger``.

Kept apart from the rules (``qa.metrics.trigger_rules``) and their evaluation
(``qa.metrics.triggers``) so both import these types instead of each other.
"""

from __future__ import annotations

from dataclasses import dataclass

SCOPES = ("overall", "team", "queue")
FCR_METRICS = ("fcr_rate", "fcr_survey_rate")


@dataclass(frozen=True)
class TriggerThresholds:
    """Trigger thresholds (defaults from DESIGN.md) and how much evidence a group needs."""

    csat_mean_min: float = 4.0
    review_calls: int = 20
    fcr_min: float = 0.70
    fcr_metrics: tuple[str, ...] = FCR_METRICS
    abandonment_max: float = 0.08
    nps_drop: float = 10.0
    paradox_aht_drop: float = 0.02  # AHT must fall by this fraction before a paradox counts
    min_responses: int = 5
    min_calls: int = 20
    scopes: tuple[str, ...] = SCOPES
    occupancy_max: float = 0.90  # above it agents burn out: staff the busy hours
    adherence_min: float = 0.90  # below it the schedule is not what happens
    cost_rise: float = 0.10  # cost per call up by this fraction vs the previous period

    def __post_init__(self) -> None:
        if not 1 <= self.csat_mean_min <= 5:
            raise ValueError(f"csat_mean_min must be on the 1-5 scale, got {self.csat_mean_min}")
        fractions = ("fcr_min", "abandonment_max", "paradox_aht_drop", "occupancy_max",
                     "adherence_min", "cost_rise")  # fmt: skip
        for name in fractions:
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} is a fraction 0-1, got {getattr(self, name)}")
        if not 0 < self.nps_drop <= 200:
            raise ValueError(f"nps_drop must be 0-200 points, got {self.nps_drop}")
        if self.review_calls < 1 or self.min_responses < 1 or self.min_calls < 1:
            raise ValueError("review_calls, min_responses and min_calls must be at least 1")
        for name, values, valid in (
            ("scope", self.scopes, SCOPES),
            ("FCR metric", self.fcr_metrics, FCR_METRICS),
        ):
            bad = [v for v in values if v not in valid]
            if bad:
                raise ValueError(f"unknown {name} {bad[0]!r}; choose from {', '.join(valid)}")


@dataclass(frozen=True)
class Trigger:
    """One fired trigger: what crossed which threshold where, what to do, which calls."""

    scope: str  # overall | team | queue
    group: str  # "all" for overall, else the team / queue name
    metric: str  # csat_mean, fcr_rate, fcr_survey_rate, abandonment_rate, nps, aht_seconds,
    # occupancy, schedule_adherence, cost_per_call
    value: float
    threshold: float
    action: str
    call_ids: tuple[str, ...]
    previous: float | None = None  # the previous period's value (change triggers)
    breakdown: tuple[tuple[str, float], ...] = ()  # reason counts, hour histogram, deltas
    message: str = ""

"""The base types every metrics module shares: call and survey facts, KPI options, the repeat
window and the KPI keys.

Kept apart (and free of database or heavy imports) so that ``qa.metrics.contacts``,
``qa.metrics.repeats``, ``qa.metrics.callbacks``, ``qa.metrics.kpis`` and the rest import
one module instead of each other: nothing here imports another ``qa.metrics`` module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

INBOUND = "inbound"
OUTBOUND = "outbound"
"""``CallFact.direction`` values: the customer calling in, the center calling out."""

DEFAULT_WINDOW_HOURS = 48.0
MIN_WINDOW_HOURS, MAX_WINDOW_HOURS = 24.0, 72.0
"""The repeat window ``W``: shorter windows inflate FCR, longer ones blame a contact for
unrelated later calls."""

KPI_KEYS: tuple[str, ...] = (
    "calls_offered",
    "calls_handled",
    "aht_seconds",
    "asa_seconds",
    "service_level",
    "abandonment_rate",
    "transfer_rate",
    "repeat_contact_rate",
    "fcr_rate",
    "fcr_survey_rate",
    "csat_pct",
    "csat_mean",
    "nps",
    "ces_mean",
    "occupancy",
    "utilization",
    "schedule_adherence",
    "cost",
    "cost_per_call",
)
"""The keys of ``qa.metrics.kpis.compute_kpis``' result, in order (the last five from the
agent states, schedule and costs: ``qa.metrics.workforce``)."""
WORKFORCE_KEYS: tuple[str, ...] = KPI_KEYS[-5:]

RATE_KEYS: frozenset[str] = frozenset(
    {
        "service_level",
        "abandonment_rate",
        "transfer_rate",
        "repeat_contact_rate",
        "fcr_rate",
        "fcr_survey_rate",
        "csat_pct",
        "csat_pct_weighted",
        "csat_pct_weighted_ci_low",
        "csat_pct_weighted_ci_high",
        "occupancy",
        "utilization",
        "schedule_adherence",
    }
)
"""KPIs that are fractions 0-1 (shown as percentages)."""

Kpis = dict[str, float | int | None]


def validate_window(hours: float) -> float:
    """``hours`` as a float when it is a valid repeat window (24-72 h), else ``ValueError``."""
    try:
        value = float(hours)
    except (TypeError, ValueError):
        value = math.nan
    if not MIN_WINDOW_HOURS <= value <= MAX_WINDOW_HOURS:  # also rejects NaN
        raise ValueError(
            f"repeat-contact window {hours!r} h is out of range: choose {MIN_WINDOW_HOURS:g}"
            f" to {MAX_WINDOW_HOURS:g} hours (default {DEFAULT_WINDOW_HOURS:g})"
        )
    return value


@dataclass(frozen=True)
class CallFact:
    """One call row, as the KPIs see it."""

    external_id: str
    started_at: datetime
    customer_id: str
    agent_id: str
    agent_name: str
    team: str
    queue: str
    wait_seconds: float
    talk_seconds: float
    hold_seconds: float
    acw_seconds: float
    abandoned: bool
    transferred: bool
    direction: str = INBOUND
    """``inbound`` or ``outbound``: outbound calls (the center calling) are not the customer
    coming back, so they never make a repeat contact (``qa.metrics.contacts``)."""


@dataclass(frozen=True)
class SurveyFact:
    """One survey answer; each score is ``None`` when the customer skipped it."""

    call_external_id: str
    csat: int | None
    nps: int | None
    ces: int | None
    fcr: bool | None


@dataclass(frozen=True)
class KpiOptions:
    """Tunable KPI parameters: repeat window ``W``, service-level threshold ``T``, and the
    two variants of the repeat-contact rule (``qa.metrics.contacts.link_contacts``)."""

    window_hours: float = DEFAULT_WINDOW_HOURS
    service_level_seconds: float = 20.0
    merge_transfer_legs: bool = True
    """Rows of one transferred call (transfer legs) are one contact, never a repeat."""
    outbound_repeats: bool = False
    """Count the center's outbound calls as contacts (so a kept callback is a repeat)."""

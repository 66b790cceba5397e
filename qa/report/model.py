"""The values the report shows: ``Insights`` (one period's numbers) and its parts.

Built by ``qa.report.insights.build_insights``; rendered by ``qa.report.html`` /
``qa.report.sections`` and the UI's Insights tab. Types only, so that the renderers and the
builder import this module instead of each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qa.metrics.bias import BiasReport
    from qa.metrics.repeats import RepeatReport
    from qa.metrics.triggers import Trigger
    from qa.metrics.weighted import SurveyWeighting
    from qa.why.results import DriverAnalysis


@dataclass(frozen=True)
class Theme:
    """A theme from the ``cluster`` table (theme discovery)."""

    label: str
    keywords: tuple[str, ...]
    size: int


@dataclass(frozen=True)
class DriverSection:
    """The driver analysis of one outcome, or why it could not be computed."""

    outcome: str
    analysis: DriverAnalysis | None
    error: str = ""


@dataclass(frozen=True)
class Insights:
    """Everything the report and the Insights tab show for one period."""

    since: datetime | None
    until: datetime | None
    data_start: datetime | None
    data_end: datetime | None
    kpis: dict[str, Any]
    previous_kpis: dict[str, Any] | None
    comparison: str  # what the deltas / change triggers compare, in words
    daily: tuple[dict[str, Any], ...]
    drivers: tuple[DriverSection, ...]
    themes: tuple[Theme, ...]
    triggers: tuple[Trigger, ...]
    bias: BiasReport
    repeats: RepeatReport
    call_ids: dict[str, int] = field(default_factory=dict)  # external id -> database id
    generated_at: datetime = field(default_factory=datetime.now)
    weighting: SurveyWeighting | None = None  # survey KPIs weighted for who answers

    @property
    def empty(self) -> bool:
        return not self.kpis.get("calls_offered")

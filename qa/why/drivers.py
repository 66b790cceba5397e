"""Driver analysis: which tags (and themes) move CSAT / NPS / CES / FCR / repeat, and how much.

The public entry points for the CLI (``qa why``), the HTML report and the UI:

* ``why(session, outcome=...)`` -> ``DriverAnalysis`` (all calls, or ``since``/``until``);
* ``why_by(session, by="team", ...)`` -> one ``GroupDrivers`` per team / queue / agent;
* ``analyse(data)`` -> the same from a ready ``DriverData`` frame (no database; pass
  ``quality`` from ``qa.why.quality.load_tag_quality`` for measured tag quality);
* ``format_analysis`` / ``driver_rows`` (display cells) / ``drivers_json`` for display
  (rendering lives in ``qa.why.text``; re-exported here).

Definitions of every number (effects, intervals, q-values, adjustment, impact, sort order)
are in ``qa.why.stats``. ``tag_drivers`` / ``format_drivers`` are the older descriptive
entry points, kept working on top of the new analysis.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from qa.metrics.base import KpiOptions
from qa.why.data import DriverData, load_driver_data
from qa.why.quality import load_tag_quality
from qa.why.results import (
    BINARY_OUTCOMES,
    CONTROLS,
    DEFAULT_ASSUME_RECALL,
    DEFAULT_CONTROLS,
    DEFAULT_MIN_N,
    DRIVER_KEYS,
    INSUFFICIENT,
    LOWER_IS_BETTER,
    OK,
    OUTCOMES,
    Driver,
    DriverAnalysis,
    TagQuality,
    check_outcome,
)
from qa.why.sensitivity import with_quality
from qa.why.stats import analyse_frame
from qa.why.structured import CallDriverOptions
from qa.why.text import (
    MODEL_LABELS,
    OUTCOME_LABELS,
    driver_rows,
    format_analysis,
    format_drivers,
)

if TYPE_CHECKING:
    from sqlmodel import Session

__all__ = [
    "BINARY_OUTCOMES",
    "BY_COLUMNS",
    "CONTROLS",
    "DEFAULT_ASSUME_RECALL",
    "DEFAULT_CONTROLS",
    "DEFAULT_MIN_N",
    "DRIVER_KEYS",
    "INSUFFICIENT",
    "LOWER_IS_BETTER",
    "MODEL_LABELS",
    "OK",
    "OUTCOMES",
    "OUTCOME_LABELS",
    "CallDriverOptions",
    "Driver",
    "DriverAnalysis",
    "DriverData",
    "GroupDrivers",
    "analyse",
    "analyse_by",
    "check_controls",
    "driver_rows",
    "drivers_json",
    "format_analysis",
    "format_drivers",
    "tag_drivers",
    "why",
    "why_by",
]

BY_COLUMNS: dict[str, str] = {"team": "team", "queue": "queue", "agent": "agent_id"}
"""``--by`` choices -> the frame column that defines the groups."""


@dataclass(frozen=True)
class GroupDrivers:
    """The driver analysis of one team / queue / agent."""

    group: str
    analysis: DriverAnalysis
    label: str = ""
    """Display name (the agent's name for ``by="agent"``; else empty)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            **({"label": self.label} if self.label else {}),
            "n": self.analysis.n,
            "mean": self.analysis.mean,
            "model": self.analysis.model,
            "notes": list(self.analysis.notes),
            "drivers": [d.to_dict() for d in self.analysis.drivers],
        }


def check_controls(controls: Sequence[str]) -> tuple[str, ...]:
    """Validated control names (``CONTROLS``); a ``ValueError`` names the valid ones."""
    unknown = [c for c in controls if c not in CONTROLS]
    if unknown:
        raise ValueError(f"unknown control(s) {unknown}; choose from: {', '.join(CONTROLS)}")
    return tuple(dict.fromkeys(controls))


def analyse(
    data: DriverData,
    *,
    controls: Sequence[str] = DEFAULT_CONTROLS,
    min_n: int = DEFAULT_MIN_N,
    quality: Mapping[str, TagQuality] | None = None,
    assume_recall: float = DEFAULT_ASSUME_RECALL,
    weighted: bool = False,
) -> DriverAnalysis:
    """Driver analysis of a ready frame (see ``qa.why.stats.analyse_frame``), with each
    "said" tag's measured ``quality`` and sensitivity line (``qa.why.sensitivity``; tags
    without decisions at ``assume_recall``). ``weighted``: rows weighted by the frame's
    response weights (``qa.why.weighting.with_weights``)."""
    from qa.why.weighting import WEIGHT_COLUMN

    controls = check_controls(controls)
    if data.outcome == "aht":  # call length is most of the outcome itself: no control
        controls = tuple(c for c in controls if c != "call_seconds")
    analysis = analyse_frame(
        data.frame,
        outcome=data.outcome,
        features=data.features,
        controls=controls,
        min_n=min_n,
        kinds=data.kinds,
        weight=WEIGHT_COLUMN if weighted else None,
    )
    return with_quality(analysis, quality, assume_recall)


def why(
    session: Session,
    *,
    outcome: str = "csat",
    since: datetime | None = None,
    until: datetime | None = None,
    controls: Sequence[str] = DEFAULT_CONTROLS,
    min_n: int = DEFAULT_MIN_N,
    window_hours: float = KpiOptions.window_hours,
    repeat_flags: Mapping[str, bool | None] | None = None,
    extra_features: Mapping[str, Collection[str]] | None = None,
    call_drivers: CallDriverOptions | None = CallDriverOptions(),
    assume_recall: float = DEFAULT_ASSUME_RECALL,
) -> DriverAnalysis:
    """Drivers of ``outcome`` over the calls starting in ``[since, until)``: tags, the
    structured ``call:`` drivers (``call_drivers=None``: none) and themes, with the tags'
    quality measured from the reviewer decisions in the database."""
    check_outcome(outcome)
    controls = check_controls(controls)
    data = load_driver_data(
        session, outcome=outcome, since=since, until=until, window_hours=window_hours,
        repeat_flags=repeat_flags, extra_features=extra_features, call_drivers=call_drivers,
    )  # fmt: skip
    quality = load_tag_quality(session)
    return analyse(
        data, controls=controls, min_n=min_n, quality=quality, assume_recall=assume_recall
    )


def analyse_by(
    data: DriverData,
    by: str,
    *,
    controls: Sequence[str] = DEFAULT_CONTROLS,
    min_n: int = DEFAULT_MIN_N,
    quality: Mapping[str, TagQuality] | None = None,
    assume_recall: float = DEFAULT_ASSUME_RECALL,
    weighted: bool = False,
) -> list[GroupDrivers]:
    """One analysis per group of ``by`` (``BY_COLUMNS``), sorted by group key (``weighted``:
    as in ``analyse``).

    The grouping variable itself is dropped from the controls (it is constant in a group).
    """
    column = BY_COLUMNS.get(by)
    if column is None:
        raise ValueError(f"unknown grouping {by!r}; choose one of: {', '.join(BY_COLUMNS)}")
    controls = tuple(c for c in check_controls(controls) if c != by)
    frame = data.frame
    out = []
    for key in sorted(frame[column].unique(), key=str):
        mask = frame[column] == key
        label = ""
        if by == "agent":
            names = frame.loc[mask, "agent_name"]
            label = str(names.iloc[-1]) if len(names) else ""
        analysis = analyse(
            data.subset(mask), controls=controls, min_n=min_n, quality=quality,
            assume_recall=assume_recall, weighted=weighted,
        )  # fmt: skip
        out.append(GroupDrivers(str(key), analysis, label))
    return out


def why_by(
    session: Session,
    *,
    by: str,
    outcome: str = "csat",
    since: datetime | None = None,
    until: datetime | None = None,
    controls: Sequence[str] = DEFAULT_CONTROLS,
    min_n: int = DEFAULT_MIN_N,
    window_hours: float = KpiOptions.window_hours,
    repeat_flags: Mapping[str, bool | None] | None = None,
    extra_features: Mapping[str, Collection[str]] | None = None,
    call_drivers: CallDriverOptions | None = CallDriverOptions(),
    assume_recall: float = DEFAULT_ASSUME_RECALL,
) -> list[GroupDrivers]:
    """``why`` per team / queue / agent."""
    check_outcome(outcome)
    data = load_driver_data(
        session, outcome=outcome, since=since, until=until, window_hours=window_hours,
        repeat_flags=repeat_flags, extra_features=extra_features, call_drivers=call_drivers,
    )  # fmt: skip
    return analyse_by(
        data, by, controls=controls, min_n=min_n, quality=load_tag_quality(session),
        assume_recall=assume_recall,
    )  # fmt: skip


# --- display ---------------------------------------------------------------------------------


def drivers_json(analysis: DriverAnalysis) -> list[dict[str, Any]]:
    """The ``qa why --format json`` list: one dict per driver (``DRIVER_KEYS``), by impact."""
    return [d.to_dict() for d in analysis.drivers]


# --- the older descriptive entry points (used by ``qa demo``) --------------------------------


def tag_drivers(*, session: Session, outcome: str = "csat") -> list[Driver]:
    """Drivers of ``outcome`` over all calls (``why(...).drivers``), most harmful first."""
    return list(why(session, outcome=outcome).drivers)

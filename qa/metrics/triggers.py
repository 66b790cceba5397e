"""Action triggers: when a KPI crosses its threshold, say what to do and which calls to open.

The defaults are DESIGN.md's (all configurable through ``TriggerThresholds``):

* CSAT mean < 4.0 -> review the last 20 handled calls (their ids are listed);
* FCR < 70 % -> analyse transfer reasons (the group's transferred calls and a count of their
  transfer-reason tags); evaluated for the repeat-based ``fcr_rate`` and the survey's
  ``fcr_survey_rate``;
* abandonment > 8 % -> check queue depth by hour (hour histogram of abandoned calls);
* NPS down 10+ points vs the previous period -> survey the detractors (listed);
* efficiency / experience paradox: AHT down (by at least ``paradox_aht_drop``, 2 %, so
  noise does not count) while FCR or CSAT is down vs the previous period;
* with agent states: occupancy > 90 % -> add staff in the busiest hours; with a schedule:
  adherence < 90 % -> review schedules; with costs: cost per call up 10 %+ vs the previous
  period -> check after-call work (the calls with the most ACW).

Triggers are evaluated overall and per team and per queue. A group is judged only with
enough evidence (``min_responses`` survey answers, ``min_calls`` calls), so one unhappy
customer in a small queue does not raise an alarm. Edges are strict as DESIGN.md words them:
CSAT exactly 4.0, FCR exactly 70 % or abandonment exactly 8 % do not fire; an NPS drop of
exactly 10 points does.

The KPIs come from ``qa.metrics.kpis`` (the FCR trigger reads its ``fcr_rate``, one definition
with ``qa kpis`` and the report); the rules live in ``qa.metrics.trigger_rules``, the types in
``qa.metrics.trigger_types``; this module evaluates them per scope and group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from qa.metrics.base import CallFact, KpiOptions, SurveyFact
from qa.metrics.kpis import compute_kpis, compute_kpis_by
from qa.metrics.trigger_rules import (
    CHANGE_RULES,
    LEVEL_RULES,
    TRANSFER_REASONS,
    Group,
    hour_histogram,
    newest,
    transfer_reason,
)
from qa.metrics.trigger_types import FCR_METRICS, SCOPES, Trigger, TriggerThresholds
from qa.metrics.workforce import Workforce

# Re-exported: the report (qa.report) and the tests import the trigger API from here.
__all__ = [
    "FCR_METRICS",
    "SCOPES",
    "TRANSFER_REASONS",
    "Trigger",
    "TriggerThresholds",
    "evaluate_triggers",
    "hour_histogram",
    "newest",
    "transfer_reason",
]


_KEY = {"overall": lambda c: "all", "team": lambda c: c.team, "queue": lambda c: c.queue}


def _groups(calls: Sequence[CallFact], scope: str) -> dict[str, list[CallFact]]:
    out: dict[str, list[CallFact]] = {}
    for call in calls:
        key = _KEY[scope](call)
        # Abandoned calls never reached a team: a blank group would fire "abandonment 100 %"
        # for nobody. They still count in the overall scope and in their queue.
        if key:
            out.setdefault(key, []).append(call)
    return out


def _kpis(
    calls: Sequence[CallFact],
    surveys: Sequence[SurveyFact],
    scope: str,
    options: KpiOptions,
    history: Sequence[CallFact] | None,
    workforce: Workforce | None,
) -> dict[str, dict[str, Any]]:
    """Group -> KPIs of ``calls`` for one scope; repeat flags over ``history``."""
    if not calls:
        return {}
    if scope == "overall":
        return {"all": compute_kpis(calls, surveys, options, history=history, workforce=workforce)}
    rows = compute_kpis_by(calls, surveys, scope, options, history=history, workforce=workforce)
    return {row["group"] or "(none)": row for row in rows}


def _scoped(
    calls: Sequence[CallFact],
    surveys: Sequence[SurveyFact],
    scope: str,
    history: Sequence[CallFact] | None,
    tags: Mapping[str, set[str]],
    th: TriggerThresholds,
    options: KpiOptions,
    workforce: Workforce | None = None,
) -> dict[str, Group]:
    kpis = _kpis(calls, surveys, scope, options, history, workforce)
    by_call = {s.call_external_id: s for s in surveys}
    return {
        name: Group(scope, name, members, kpis.get(name, {}), by_call, tags, th)
        for name, members in sorted(_groups(calls, scope).items())
    }


def evaluate_triggers(
    calls: Sequence[CallFact],
    surveys: Sequence[SurveyFact],
    *,
    previous: Sequence[CallFact] | None = None,
    history: Sequence[CallFact] | None = None,
    tags: Mapping[str, set[str]] | None = None,
    thresholds: TriggerThresholds = TriggerThresholds(),
    options: KpiOptions = KpiOptions(),
    workforce: Workforce | None = None,
) -> list[Trigger]:
    """Every trigger for the period ``calls``, overall then per team then per queue.

    Level triggers (CSAT, FCR, abandonment) look at ``calls``; change triggers (NPS drop,
    AHT/experience paradox) compare with ``previous`` (skipped when it is empty or None).
    Repeat flags use ``history`` (default: the calls themselves), as in ``qa.metrics.kpis``;
    ``workforce`` feeds the occupancy, adherence and cost triggers (over the calls' days).
    """
    tags = tags or {}
    if history is None:
        history = [*calls, *(previous or [])]
    fired: list[Trigger] = []
    for scope in thresholds.scopes:
        now = _scoped(calls, surveys, scope, history, tags, thresholds, options, workforce)
        before = _scoped(
            previous or [], surveys, scope, history, tags, thresholds, options, workforce
        )
        for name, g in now.items():
            for rule in LEVEL_RULES:
                fired += rule(g)
            if name in before:
                for change in CHANGE_RULES:
                    fired += change(g, before[name])
    return fired

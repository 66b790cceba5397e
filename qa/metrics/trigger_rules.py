"""Action-trigger rules: each looks at one group of calls (and the same group in the
previous period) and returns the triggers it fires (see ``qa.metrics.triggers`` for the
thresholds and the evaluation).

``LEVEL_RULES`` judge one period; ``CHANGE_RULES`` compare it with the previous one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from qa.metrics.base import CallFact, SurveyFact
from qa.metrics.trigger_types import Trigger, TriggerThresholds

TRANSFER_REASONS = ("billing", "technical", "cancellation", "supervisor", "sales", "other")
_REASON_PREFIXES = ("", "transfer:", "transfer-", "transfer-reason:", "transfer_reason:")


def newest(calls: Sequence[CallFact], n: int | None = None) -> tuple[str, ...]:
    """External ids of ``calls``, newest first, at most ``n``."""
    ordered = sorted(calls, key=lambda c: (c.started_at, c.external_id), reverse=True)
    return tuple(c.external_id for c in ordered[:n])


def transfer_reason(tags: set[str]) -> str:
    """The transfer reason among a call's tags (``billing``, ``transfer:billing``, ...)."""
    for reason in TRANSFER_REASONS:
        if any(prefix + reason in tags for prefix in _REASON_PREFIXES):
            return reason
    return "unknown"


def hour_histogram(calls: Sequence[CallFact]) -> tuple[tuple[str, float], ...]:
    """Abandoned calls per hour of day, over every hour in which the group had calls."""
    if not calls:
        return ()
    hours = [c.started_at.hour for c in calls]
    counts = Counter(c.started_at.hour for c in calls if c.abandoned)
    return tuple((f"{h:02d}:00", counts.get(h, 0)) for h in range(min(hours), max(hours) + 1))


@dataclass(frozen=True)
class Group:
    """One group of one scope in one period, with what the trigger rules look at."""

    scope: str
    name: str
    calls: Sequence[CallFact]
    kpis: Mapping[str, Any]
    surveys: Mapping[str, SurveyFact]
    tags: Mapping[str, set[str]]
    th: TriggerThresholds

    @property
    def where(self) -> str:
        return "overall" if self.scope == "overall" else f"for {self.scope} {self.name}"

    @property
    def handled(self) -> list[CallFact]:
        return [c for c in self.calls if not c.abandoned]

    def answered(self, key: str) -> int:
        return sum(1 for c in self.calls if self.answer(c, key) is not None)

    def answer(self, call: CallFact, key: str) -> Any:
        return getattr(self.surveys.get(call.external_id), key, None)

    def fire(self, *fields: Any, message: str, **extra: Any) -> Trigger:
        """A Trigger of this group: ``fields`` are metric, value, threshold, action, call ids;
        ``@`` in ``message`` becomes "overall" / "for team X"."""
        return Trigger(
            self.scope, self.name, *fields, message=message.replace("@", self.where), **extra
        )


def csat_rule(g: Group) -> list[Trigger]:
    csat, th = g.kpis.get("csat_mean"), g.th
    if csat is None or csat >= th.csat_mean_min or g.answered("csat") < th.min_responses:
        return []
    # The calls to review are the unhappy ones: answered CSAT below 4 (not top-2-box, as in
    # csat_pct), lowest first, then newest; calls without a survey say nothing about CSAT.
    unhappy = [c for c in g.handled if (g.answer(c, "csat") or 5) < 4]
    unhappy.sort(key=lambda c: (g.answer(c, "csat"), -c.started_at.timestamp(), c.external_id))
    ids = tuple(c.external_id for c in unhappy[: th.review_calls])
    msg = f"CSAT {csat:.2f} < {th.csat_mean_min:.2f} @: review these {len(ids)} calls"
    action = f"review the {len(ids)} lowest-CSAT calls"
    return [g.fire("csat_mean", csat, th.csat_mean_min, action, ids, message=msg)]


def fcr_rule(g: Group) -> list[Trigger]:
    out, th = [], g.th
    transferred = [c for c in g.handled if c.transferred]
    reasons = Counter(transfer_reason(set(g.tags.get(c.external_id, ()))) for c in transferred)
    breakdown = tuple(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
    for metric in th.fcr_metrics:
        value = g.kpis.get(metric)
        survey = metric == "fcr_survey_rate"
        enough = g.answered("fcr") >= th.min_responses if survey else len(g.handled) >= th.min_calls
        if value is None or value >= th.fcr_min or not enough:
            continue
        label = "FCR (survey)" if survey else "FCR"
        msg = (
            f"{label} {value:.0%} < {th.fcr_min:.0%} @: analyse the transfer reasons of "
            f"{len(transferred)} transferred calls"
        )
        out.append(
            g.fire(
                metric,
                value,
                th.fcr_min,
                "analyse transfer reasons",
                newest(transferred),
                message=msg,
                breakdown=breakdown,
            )
        )
    return out


def abandonment_rule(g: Group) -> list[Trigger]:
    rate, th = g.kpis.get("abandonment_rate"), g.th
    if rate is None or rate <= th.abandonment_max or len(g.calls) < th.min_calls:
        return []
    abandoned = newest([c for c in g.calls if c.abandoned])
    msg = f"abandonment {rate:.1%} > {th.abandonment_max:.0%} @: check queue depth by hour"
    return [
        g.fire(
            "abandonment_rate",
            rate,
            th.abandonment_max,
            "check queue depth by hour",
            abandoned,
            message=msg,
            breakdown=hour_histogram(g.calls),
        )
    ]


def nps_drop_rule(g: Group, before: Group) -> list[Trigger]:
    nps, old, th = g.kpis.get("nps"), before.kpis.get("nps"), g.th
    enough = min(g.answered("nps"), before.answered("nps")) >= th.min_responses
    if nps is None or old is None or not enough or old - nps < th.nps_drop:
        return []
    detractors = [c for c in g.calls if (score := g.answer(c, "nps")) is not None and score <= 6]
    msg = f"NPS {old:+.0f} -> {nps:+.0f} @: survey these {len(detractors)} detractors"
    return [
        g.fire(
            "nps",
            nps,
            old - th.nps_drop,
            "survey the detractors",
            newest(detractors),
            message=msg,
            previous=old,
        )
    ]


_EXPERIENCE = (("FCR", "fcr_rate"), ("FCR (survey)", "fcr_survey_rate"), ("CSAT", "csat_mean"))


def paradox_rule(g: Group, before: Group) -> list[Trigger]:
    """AHT fell while an experience metric (FCR, survey FCR, CSAT mean) fell too."""
    now, old = g.kpis, before.kpis
    aht, aht_before = now.get("aht_seconds"), old.get("aht_seconds")
    if aht is None or not aht_before or not aht < aht_before:
        return []
    if min(len(g.calls), len(before.calls)) < g.th.min_calls:  # too few calls to judge
        return []
    if (aht_before - aht) / aht_before < g.th.paradox_aht_drop:  # noise, not an efficiency gain
        return []
    worse = [
        (name, m, now[m] - old[m])
        for name, m in _EXPERIENCE
        if now.get(m) is not None and old.get(m) is not None and now[m] < old[m]
    ]
    if not worse:
        return []
    low = [c for c in g.calls if (score := g.answer(c, "csat")) is not None and score <= 3]
    spec = {"csat_mean": ".2f"}  # the FCRs are rates
    what = ", ".join(
        f"{name} {old[m]:{spec.get(m, '.0%')}} -> {now[m]:{spec.get(m, '.0%')}}"
        for name, m, _ in worse
    )
    msg = f"AHT down {aht_before:.0f} -> {aht:.0f} s while {what} @: efficiency up, experience down"
    return [
        g.fire(
            "aht_seconds",
            aht,
            aht_before,
            "check whether calls are being rushed",
            newest(low, g.th.review_calls),
            message=msg,
            previous=aht_before,
            breakdown=tuple((m, delta) for _, m, delta in worse),
        )
    ]


def occupancy_rule(g: Group) -> list[Trigger]:
    """Occupancy above ``occupancy_max``: agents go from call to call with no slack."""
    value, th = g.kpis.get("occupancy"), g.th
    if value is None or value <= th.occupancy_max or len(g.handled) < th.min_calls:
        return []
    msg = f"occupancy {value:.0%} > {th.occupancy_max:.0%} @: add staff in the busiest hours"
    action = "add staff in the busiest hours (burnout risk)"
    return [g.fire("occupancy", value, th.occupancy_max, action, (), message=msg)]


def adherence_rule(g: Group) -> list[Trigger]:
    """Schedule adherence below ``adherence_min``: the schedule is not what happens."""
    value, th = g.kpis.get("schedule_adherence"), g.th
    if value is None or value >= th.adherence_min:
        return []
    msg = f"schedule adherence {value:.0%} < {th.adherence_min:.0%} @: review schedules"
    action = "review schedules and breaks with the agents"
    return [g.fire("schedule_adherence", value, th.adherence_min, action, (), message=msg)]


def cost_rule(g: Group, before: Group) -> list[Trigger]:
    """Cost per call up by ``cost_rise`` or more: look at after-call work first."""
    now, old, th = g.kpis.get("cost_per_call"), before.kpis.get("cost_per_call"), g.th
    if now is None or not old or (now - old) / old < th.cost_rise:
        return []
    if min(len(g.handled), len(before.handled)) < th.min_calls:
        return []
    longest = sorted(g.handled, key=lambda c: (-c.acw_seconds, c.external_id))
    msg = f"cost per call {old:,.2f} -> {now:,.2f} @: check after-call work"
    return [
        g.fire(
            "cost_per_call",
            now,
            old * (1 + th.cost_rise),
            "check after-call work (the calls with the most ACW)",
            tuple(c.external_id for c in longest[: th.review_calls]),
            message=msg,
            previous=old,
        )
    ]


LEVEL_RULES: tuple[Callable[[Group], list[Trigger]], ...] = (
    csat_rule,
    fcr_rule,
    abandonment_rule,
    occupancy_rule,
    adherence_rule,
)
"""Rules on one period's group, in the order their triggers are listed."""
CHANGE_RULES: tuple[Callable[[Group, Group], list[Trigger]], ...] = (
    nps_drop_rule,
    paradox_rule,
    cost_rule,
)
"""Rules comparing a group with the same group in the previous period."""

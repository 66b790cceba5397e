"""Action triggers: when a KPI crosses its threshold, say what to do and which calls to open.

The defaults are DESIGN.md's (all configurable through ``TriggerThresholds``):

* CSAT mean < 4.0 -> review the last 20 handled calls (their ids are listed);
* FCR < 70 % -> analyse transfer reasons (the group's transferred calls and a count of their
  transfer-reason tags); evaluated for the repeat-based ``fcr_rate`` and the survey's
  ``fcr_survey_rate``;
* abandonment > 8 % -> check queue depth by hour (hour histogram of abandoned calls);
* NPS down 10+ points vs the previous period -> survey the detractors (listed);
* efficiency / experience paradox: AHT down (by at least ``paradox_aht_drop``, 2 %, so
  noise does not count) while FCR or CSAT is down vs the previous period.

Triggers are evaluated overall and per team and per queue. A group is judged only with
enough evidence (``min_responses`` survey answers, ``min_calls`` calls), so one unhappy
customer in a small queue does not raise an alarm. Edges are strict as DESIGN.md words them:
CSAT exactly 4.0, FCR exactly 70 % or abandonment exactly 8 % do not fire; an NPS drop of
exactly 10 points does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from qa.metrics.kpis import CallFact, KpiOptions, SurveyFact, compute_kpis, compute_kpis_by

SCOPES = ("overall", "team", "queue")
FCR_METRICS = ("fcr_rate", "fcr_survey_rate")
TRANSFER_REASONS = ("billing", "technical", "cancellation", "supervisor", "sales", "other")
_REASON_PREFIXES = ("", "transfer:", "transfer-", "transfer-reason:", "transfer_reason:")


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

    def __post_init__(self) -> None:
        if not 1 <= self.csat_mean_min <= 5:
            raise ValueError(f"csat_mean_min must be on the 1-5 scale, got {self.csat_mean_min}")
        for name in ("fcr_min", "abandonment_max", "paradox_aht_drop"):
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
    metric: str  # csat_mean, fcr_rate, fcr_survey_rate, abandonment_rate, nps, aht_seconds
    value: float
    threshold: float
    action: str
    call_ids: tuple[str, ...]
    previous: float | None = None  # the previous period's value (change triggers)
    breakdown: tuple[tuple[str, float], ...] = ()  # reason counts, hour histogram, deltas
    message: str = ""


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
) -> dict[str, dict[str, Any]]:
    """Group -> KPIs of ``calls`` for one scope; repeat flags over ``history``."""
    if not calls:
        return {}
    if scope == "overall":
        return {"all": compute_kpis(calls, surveys, options, history=history)}
    rows = compute_kpis_by(calls, surveys, scope, options, history=history)
    return {row["group"] or "(none)": row for row in rows}


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
class _Group:
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


def _csat(g: _Group) -> list[Trigger]:
    csat, th = g.kpis.get("csat_mean"), g.th
    if csat is None or csat >= th.csat_mean_min or g.answered("csat") < th.min_responses:
        return []
    ids = newest(g.handled, th.review_calls)
    msg = f"CSAT {csat:.2f} < {th.csat_mean_min:.2f} @: review these {len(ids)} calls"
    action = f"review the last {len(ids)} calls"
    return [g.fire("csat_mean", csat, th.csat_mean_min, action, ids, message=msg)]


def _fcr(g: _Group) -> list[Trigger]:
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


def _abandonment(g: _Group) -> list[Trigger]:
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


def _nps_drop(g: _Group, before: _Group) -> list[Trigger]:
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


def _paradox(g: _Group, before: _Group) -> list[Trigger]:
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


def _scoped(
    calls: Sequence[CallFact],
    surveys: Sequence[SurveyFact],
    scope: str,
    history: Sequence[CallFact] | None,
    tags: Mapping[str, set[str]],
    th: TriggerThresholds,
    options: KpiOptions,
) -> dict[str, _Group]:
    kpis = _kpis(calls, surveys, scope, options, history)
    by_call = {s.call_external_id: s for s in surveys}
    return {
        name: _Group(scope, name, members, kpis.get(name, {}), by_call, tags, th)
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
) -> list[Trigger]:
    """Every trigger for the period ``calls``, overall then per team then per queue.

    Level triggers (CSAT, FCR, abandonment) look at ``calls``; change triggers (NPS drop,
    AHT/experience paradox) compare with ``previous`` (skipped when it is empty or None).
    Repeat flags use ``history`` (default: the calls themselves), as in ``qa.metrics.kpis``.
    """
    tags = tags or {}
    if history is None:
        history = [*calls, *(previous or [])]
    fired: list[Trigger] = []
    for scope in thresholds.scopes:
        now = _scoped(calls, surveys, scope, history, tags, thresholds, options)
        before = _scoped(previous or [], surveys, scope, history, tags, thresholds, options)
        for name, g in now.items():
            fired += _csat(g) + _fcr(g) + _abandonment(g)
            if name in before:
                fired += _nps_drop(g, before[name]) + _paradox(g, before[name])
    return fired

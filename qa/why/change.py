"""Why did a KPI move? Period-vs-previous-period decomposition (``qa why --compare``).

For an outcome's mean in two periods (``before`` = the previous period of equal length,
``after`` = the period asked for), fit in each period one linear regression of the outcome
on all features at once (OLS; a linear probability model for binary outcomes, so the
identity below is exact), ``mean = a + sum_k b_k p_k``, where ``p_k`` is feature k's
prevalence and ``b_k`` its effect. Then (a shift-share / Oaxaca-Blinder decomposition)

    delta = sum_k (p_k,after - p_k,before) * b_k,before     # prevalence (mix) shifts
          + sum_k p_k,after * (b_k,after - b_k,before)       # effect shifts
          + residual                                         # baseline: calls without
                                                             # any of these features

so the answer reads "two thirds of the drop comes from more re-explain calls". Features
too rare in either period (``min_n``) are not decomposed; their part is in the residual.
The KPIs of both periods (``qa.metrics.kpis.compute_kpis``) come along, with the
efficiency/experience paradox flagged: AHT down while FCR or CSAT is down.

Periods: ``LAST_WEEK`` / ``LAST_MONTH`` are the 7 / 30 days ending at the end of the day of
the latest call (or at ``until``), against the 7 / 30 days before; ``START..END`` (ISO
dates, END exclusive) against the equally long span just before START.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, time, timedelta
from statistics import NormalDist
from typing import TYPE_CHECKING

from qa.metrics.base import CallFact, KpiOptions, Kpis, SurveyFact
from qa.metrics.kpis import compute_kpis, filter_calls
from qa.why.change_model import ChangeDecomposition, ChangeTerm, Period
from qa.why.results import DEFAULT_MIN_N, check_outcome
from qa.why.text import change_summary
from qa.why.text import format_change as format_change  # re-export for callers

if TYPE_CHECKING:
    from sqlmodel import Session

    from qa.why.data import DriverData

COMPARE_NAMES: dict[str, int] = {"LAST_WEEK": 7, "LAST_MONTH": 30}
"""Named ``--compare`` periods -> length in days."""


def resolve_periods(
    compare: str, *, data_end: datetime, until: datetime | None = None
) -> tuple[Period, Period]:
    """``(before, after)`` for a ``--compare`` value (see module docstring)."""
    days = COMPARE_NAMES.get(compare.strip().upper())
    if days is not None:
        end = until or datetime.combine(data_end.date() + timedelta(days=1), time())
        length = timedelta(days=days)
        return Period(end - 2 * length, end - length), Period(end - length, end)
    start_text, sep, stop_text = compare.partition("..")
    try:
        if not sep:
            raise ValueError("no '..'")
        start, stop = datetime.fromisoformat(start_text), datetime.fromisoformat(stop_text)
    except ValueError as exc:
        raise ValueError(
            f"--compare {compare!r} is not valid; use {' or '.join(COMPARE_NAMES)} "
            "or START..END (ISO dates, END exclusive), e.g. 2024-05-01..2024-05-08"
        ) from exc
    if stop <= start:
        raise ValueError(f"--compare {compare!r}: END must be after START")
    return Period(start - (stop - start), start), Period(start, stop)


def _effects(
    data: DriverData, features: Sequence[str], min_n: int
) -> tuple[dict[str, tuple[float, float]], list[str]]:
    """Tag -> (effect, standard error) from one OLS on all ``features`` (LPM for binary
    outcomes), no controls, so that mean = intercept + sum(effect x prevalence) exactly."""
    from qa.why.models import fit_adjusted

    fit = fit_adjusted(data.frame, features=features, controls=(), binary=False, min_n=min_n)
    notes = [*fit.notes, *(f"{t}: {n}" for t, n in fit.feature_notes.items())]
    z = NormalDist().inv_cdf(0.975)  # fit_adjusted's default 95 % interval
    return {t: (est[0], (est[2] - est[1]) / (2 * z)) for t, est in fit.effects.items()}, notes


def _change_p(before: tuple[float, float], after: tuple[float, float]) -> float | None:
    se = math.hypot(before[1], after[1])
    if not se or not math.isfinite(se):
        return None
    return 2 * (1 - NormalDist().cdf(abs(after[0] - before[0]) / se))


def decompose(
    before: DriverData,
    after: DriverData,
    *,
    min_n: int = DEFAULT_MIN_N,
) -> tuple[tuple[ChangeTerm, ...], float | None, tuple[str, ...]]:
    """``(terms, residual, notes)`` of the change in ``y``'s mean from ``before`` to ``after``."""
    fb, fa = before.frame, after.frame
    if fb.empty or fa.empty:
        return (), None, ("a period has no calls with this outcome: nothing to decompose",)

    def enough(frame, name: str) -> bool:  # type: ignore[no-untyped-def]
        n_with = int(frame[name].sum())
        return min(n_with, len(frame) - n_with) >= min_n

    common = [f for f in after.features if f in before.features]
    eligible = [f for f in common if enough(fb, f) and enough(fa, f)]
    skipped = sorted((set(before.features) | set(after.features)) - set(eligible))
    notes = [f"too rare in a period to decompose (in the residual): {', '.join(skipped)}"]
    notes = notes if skipped else []
    eff_b, notes_b = _effects(before, eligible, min_n)
    eff_a, notes_a = _effects(after, eligible, min_n)
    notes += [f"before: {n}" for n in notes_b] + [f"after: {n}" for n in notes_a]
    terms = []
    for name in eligible:
        if name not in eff_b or name not in eff_a:
            continue
        p_b, p_a = float(fb[name].mean()), float(fa[name].mean())
        (b_b, _), (b_a, _) = eff_b[name], eff_a[name]
        terms.append(
            ChangeTerm(
                name, p_b, p_a, b_b, b_a, (p_a - p_b) * b_b, p_a * (b_a - b_b),
                _change_p(eff_b[name], eff_a[name]),
            )
        )  # fmt: skip
    terms.sort(key=lambda t: -abs(t.total))
    delta = float(fa["y"].mean() - fb["y"].mean())
    return tuple(terms), delta - sum(t.total for t in terms), tuple(notes)


PARADOX_EXPERIENCE: tuple[tuple[str, str], ...] = (
    ("fcr_rate", "FCR (repeat-based)"),
    ("fcr_survey_rate", "FCR (survey)"),
    ("csat_mean", "CSAT mean"),
)


def paradox_warnings(before: Kpis, after: Kpis) -> tuple[str, ...]:
    """'AHT down while FCR / CSAT down' warnings (empty when AHT did not fall)."""
    aht_b, aht_a = before.get("aht_seconds"), after.get("aht_seconds")
    if aht_b is None or aht_a is None or aht_a >= aht_b:
        return ()
    down = []
    for key, label in PARADOX_EXPERIENCE:
        b, a = before.get(key), after.get(key)
        if b is not None and a is not None and a < b:
            down.append(f"{label} down {b:.3g} -> {a:.3g}")
    if not down:
        return ()
    return (
        f"efficiency/experience paradox: AHT down {aht_b:.0f} -> {aht_a:.0f} s "
        f"while {', '.join(down)}",
    )


def compare_facts(
    history: Sequence[CallFact],
    surveys: Sequence[SurveyFact],
    tags: Mapping[str, Collection[str]],
    *,
    outcome: str,
    compare: str,
    until: datetime | None = None,
    min_n: int = DEFAULT_MIN_N,
    options: KpiOptions = KpiOptions(),
    call_ids: Mapping[str, int] | None = None,
) -> ChangeDecomposition:
    """``compare_periods`` on facts (no database); ``history`` is every call."""
    from qa.why.data import frame_from_facts

    check_outcome(outcome)
    if not history:
        raise ValueError("no calls: nothing to compare")
    before, after = resolve_periods(
        compare, data_end=max(c.started_at for c in history), until=until
    )
    frames, kpis = [], []
    for period in (before, after):
        calls = filter_calls(history, period.since, period.until)
        # Tags only: twins (transfer ~ call:transferred) in the one decomposing OLS would split
        # one event's share of the change between them.
        frames.append(frame_from_facts(
            calls, surveys, tags, outcome=outcome, history=history,
            window_hours=options.window_hours, call_ids=call_ids, call_drivers=None,
        ))  # fmt: skip
        kpis.append(compute_kpis(calls, surveys, options, history=history))
    terms, residual, notes = decompose(frames[0], frames[1], min_n=min_n)
    means = [float(f.frame["y"].mean()) if len(f.frame) else None for f in frames]
    summary = () if None in means else change_summary(outcome, means[0], means[1], terms, residual)
    return ChangeDecomposition(
        outcome=outcome, before=before, after=after,
        n_before=len(frames[0].frame), n_after=len(frames[1].frame),
        mean_before=means[0], mean_after=means[1], terms=terms, residual=residual,
        kpis_before=kpis[0], kpis_after=kpis[1], paradox=paradox_warnings(kpis[0], kpis[1]),
        notes=notes, summary=summary,
    )  # fmt: skip


def compare_periods(
    session: Session,
    *,
    outcome: str,
    compare: str,
    until: datetime | None = None,
    min_n: int = DEFAULT_MIN_N,
    options: KpiOptions = KpiOptions(),
) -> ChangeDecomposition:
    """Load both periods from the database, decompose, and compute their KPIs."""
    from sqlmodel import select

    from qa.metrics.facts import load_facts
    from qa.store.schema import Call
    from qa.why.data import load_call_tags

    history, surveys = load_facts(session)
    call_ids = {eid: cid for eid, cid in session.exec(select(Call.external_id, Call.id))}
    return compare_facts(
        history, surveys, load_call_tags(session), outcome=outcome, compare=compare,
        until=until, min_n=min_n, options=options, call_ids=call_ids,
    )  # fmt: skip

"""The survey KPIs raw (respondents) and weighted for who answers (all callers), as HTML.

Part of the survey-bias section (``qa.report.sections.bias_html``), so the nightly report and
the UI's Insights tab show it alike. The numbers come from ``qa.metrics.weighted``.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from qa.report.fragments import pct, table

if TYPE_CHECKING:
    from qa.metrics.weighted import Comparison, SurveyWeighting
    from qa.report.model import Insights


def _value(key: str, value: float | None) -> str:
    if value is None:
        return "\u2013"
    if key == "csat_pct":
        return f"{value:.1%}"
    if key == "nps":
        return f"{value:+.1f}"
    return f"{value:.2f}"


def _row(c: Comparison) -> tuple[str, ...]:
    ci = "\u2013"
    if c.ci_low is not None and c.ci_high is not None:
        ci = f"{_value(c.key, c.ci_low)} to {_value(c.key, c.ci_high)}"
    return (escape(c.label), _value(c.key, c.raw), _value(c.key, c.weighted), ci)


def _summary(w: SurveyWeighting) -> str:
    r = w.response
    ess = w.kpis.get("survey_ess")
    calibration = (
        f"Hosmer-Lemeshow p {r.calibration_p:.2f}" if r.calibration_p is not None else "n/a"
    )
    gap = max((abs(b.predicted - b.observed) for b in r.calibration), default=0.0)
    return (
        f'<div class="muted">Response model: L2 logistic regression on the same features '
        f"({r.n_respondents} of {r.n_handled} handled calls answered, {pct(r.response_rate)}); "
        f"weights 1/p trimmed at {r.max_weight:.1f} ({r.trimmed} trimmed); effective sample "
        f"size {ess or 0:.0f} of {r.n_respondents}; calibration out of fold: largest gap "
        f"{gap:.1%} between predicted and observed response rate, {calibration}. Assumes "
        "answering depends only on what callqa sees.</div>"
    )


def weighting_html(insights: Insights) -> str:
    """Raw vs weighted CSAT mean, CSAT %, NPS and CES, with the one-line reason they differ."""
    w = insights.weighting
    if w is None:
        return '<p class="empty">Survey KPIs not weighted: the response model failed.</p>'
    if not w.response.modelled:
        return f'<p class="empty">Survey KPIs not weighted: {escape(w.response.note)}.</p>'
    differing = w.differing
    if differing:
        names = ", ".join(c.label for c in differing)
        head = (
            f'<div class="warn">Weighted for who answers, {escape(names)} '
            f"{'differs' if len(differing) == 1 else 'differ'} from the raw figure beyond its "
            f"95 % interval: {escape(w.response.reason)}.</div>"
        )
    else:
        head = (
            '<div class="ok">Raw and response-weighted survey KPIs agree within their 95 % '
            "intervals.</div>"
        )
    body = table(
        ("survey KPI", "raw (respondents)", "weighted (all callers)", "95 % interval"),
        [_row(c) for c in w.comparisons],
        {1, 2, 3},
        ["sig" if c.differs else "" for c in w.comparisons],
    )
    return f"<h3>Survey KPIs weighted for who answers</h3>{head}{body}{_summary(w)}"

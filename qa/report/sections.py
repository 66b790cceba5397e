"""Report sections as HTML fragments: actions, drivers, themes, survey bias (repeat contacts:
``qa.report.repeat_section``; shared links and tables: ``qa.report.fragments``).

Shared by the HTML report (``qa.report.html``) and the UI's Insights tab. Every fragment
takes the ``Insights`` value (and the review-UI address for call links) and escapes all
stored text.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING

from qa.report.fragments import call_links, pct, table

if TYPE_CHECKING:
    from qa.metrics.triggers import Trigger
    from qa.report.model import DriverSection, Insights
    from qa.why.results import DriverAnalysis

MAX_DRIVERS = 12


# --- actions (triggers) ----------------------------------------------------------------------


def _hours(breakdown: Sequence[tuple[str, float]]) -> str:
    top = max((v for _, v in breakdown), default=0) or 1
    bars = "".join(
        f'<div style="height:{max(2, round(48 * v / top))}px" title="{escape(h)}: {v:g} '
        f'abandoned"><span>{escape(h[:2])}</span></div>'
        for h, v in breakdown
    )
    return f'<div class="bars-wrap"><div class="bars">{bars}</div></div>'


def _breakdown(trigger: Trigger) -> str:
    if not trigger.breakdown:
        return ""
    if trigger.metric == "abandonment_rate":
        return '<div class="muted">Abandoned calls by hour of day:</div>' + _hours(
            trigger.breakdown
        )
    if trigger.metric == "aht_seconds":
        return ""  # the message already names what fell
    pills = "".join(f'<span class="pill">{escape(k)} {v:g}</span>' for k, v in trigger.breakdown)
    return f'<div class="muted">Transfer reasons: {pills}</div>'


def triggers_html(insights: Insights, ui_url: str) -> str:
    if not insights.triggers:
        return '<div class="ok">No trigger fired: every KPI is within its threshold.</div>'
    cards = []
    for t in insights.triggers:
        scope = "overall" if t.scope == "overall" else f"{t.scope}: {t.group}"
        links = call_links(ui_url, t.call_ids) if t.call_ids else ""
        when = ""
        if t.previous is not None and insights.comparison:
            when = f' <span class="muted">({escape(insights.comparison)})</span>'
        cards.append(
            f'<div class="card m-{escape(t.metric)}" data-metric="{escape(t.metric)}">'
            f'<div class="what"><span class="scope">{escape(scope)}</span>'
            f'{escape(t.message)}{when}</div><div class="todo">Action: {escape(t.action)}</div>'
            f"{_breakdown(t)}<div>{links}</div></div>"
        )
    return f'<div class="cards">{"".join(cards)}</div>'


# --- drivers ---------------------------------------------------------------------------------


def _quality_html(analysis: DriverAnalysis) -> str:
    """The legend (said / recorded / theme) and each tag's measured quality and
    mis-tagging sensitivity line (``qa.why.sensitivity``)."""
    from qa.why.text import LEGEND, quality_lines

    legend = f'<div class="muted legend">{escape(LEGEND)}</div>'
    lines = quality_lines(analysis.drivers)
    if not lines:
        return legend
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    return (
        f'{legend}<div class="muted">Tag quality and mis-tagging: the adjusted effect divided '
        "by the attenuation that a tag's recall and precision cause (assumes tagging errors "
        f'unrelated to the outcome and the controls).</div><ul class="muted sens">{items}</ul>'
    )


def _driver_section(section: DriverSection) -> str:
    from qa.report.charts import impact_chart
    from qa.why.drivers import OK, OUTCOME_LABELS, driver_rows
    from qa.why.results import RECORDED

    label = OUTCOME_LABELS.get(section.outcome, section.outcome)
    if section.analysis is None:
        return f'<h3>{escape(label)}</h3><p class="empty">Not computed: {escape(section.error)}</p>'
    a = section.analysis
    drivers = list(a.drivers[:MAX_DRIVERS])
    if not drivers:
        return f'<h3>{escape(label)}</h3><p class="empty">No tagged calls with this outcome.</p>'
    rows = driver_rows(drivers, a.outcome)
    headers = list(rows[0])
    numeric = {i for i, h in enumerate(headers) if h not in ("tag", "from", "note")}
    # a recorded (call:) row is styled apart from said tags, besides its "from" cell
    classes = [
        " ".join(
            c
            for c in (
                "insufficient" if d.status != OK else ("sig" if d.significant else ""),
                "recorded" if d.kind == RECORDED else "",
            )
            if c
        )
        for d in drivers
    ]
    body = table(headers, ([escape(r[h]) for h in headers] for r in rows), numeric, classes, True)
    chart = impact_chart(a)
    img = f'<img class="chart impact" alt="impact of each tag" src="{chart}">' if chart else ""
    mean = "\u2013" if a.mean is None else (f"{a.mean:.1%}" if a.binary else f"{a.mean:.2f}")
    notes = "".join(f'<div class="muted">{escape(n)}</div>' for n in a.notes)
    more = len(a.drivers) - len(drivers)
    more_html = f'<div class="muted">{more} more drivers not shown.</div>' if more > 0 else ""
    return (
        f"<h3>{escape(label)}: {mean} over {a.n} calls</h3>"
        f'<div class="muted">Adjusted for {escape(", ".join(a.controls) or "nothing")} '
        f"({escape(a.model)}); bold rows: adjusted 95 % interval excludes 0; tinted rows: "
        "recorded by the phone system, not said; grey rows: too few "
        f"calls (minimum {a.min_n}).</div>{body}{more_html}{_quality_html(a)}{notes}{img}"
    )


def drivers_html(insights: Insights, ui_url: str = "") -> str:
    if not insights.drivers:
        return '<p class="empty">No driver analysis requested.</p>'
    return "".join(_driver_section(s) for s in insights.drivers)


# --- themes, bias ---------------------------------------------------------------------------


def themes_html(insights: Insights) -> str:
    if not insights.themes:
        return (
            '<p class="empty">No themes yet: theme discovery (clustering of comments and '
            "customer turns) has not run on this database.</p>"
        )
    rows = [(escape(t.label), escape(", ".join(t.keywords)), str(t.size)) for t in insights.themes]
    return table(("theme", "keywords", "calls"), rows, {2})


def bias_html(insights: Insights) -> str:
    from qa.report.weighting_section import weighting_html

    b = insights.bias
    head = (
        f'<p class="muted">{b.n_surveyed} surveyed and {b.n_not_surveyed} not-surveyed '
        f"handled calls (response rate {pct(b.response_rate)}); BH-adjusted, "
        f"alpha {b.alpha:g}. Compared like with like, on what every call has: call fields "
        "(queue, team, transfer), call metrics (talk, hold, wait) and tags from transcripts "
        "(agent or customer turns) - never comment tags, which only respondents can have.</p>"
    )
    weighted = weighting_html(insights)
    if not b.rows:
        return head + f'<p class="empty">Not tested: {escape(b.note or "no data")}.</p>' + weighted
    if b.warnings:
        warn = "".join(f'<div class="warn">{escape(w)}</div>' for w in b.warnings)
    else:
        warn = '<div class="ok">No significant difference between respondents and the rest.</div>'

    def value(v: float | None, kind: str) -> str:
        if v is None:
            return "\u2013"
        return f"{v:.0f} s" if kind == "metric" else f"{v:.0%}"

    rows = [
        (
            escape(r.feature),
            escape(r.test),
            value(r.surveyed, r.kind),
            value(r.not_surveyed, r.kind),
            f"{r.p_value:.3f}",
            f"{r.q_value:.3f}",
        )
        for r in b.rows
    ]
    detail = table(
        ("compared", "test", "surveyed", "not surveyed", "p", "q"),
        rows,
        {2, 3, 4, 5},
        ["sig" if r.significant else "" for r in b.rows],
    )
    return f"{head}{warn}<details><summary>All comparisons</summary>{detail}</details>{weighted}"

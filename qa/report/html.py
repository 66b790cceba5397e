"""HTML for the nightly report and the Insights tab, from a ``qa.report.model.Insights``
value.

Pure functions returning HTML strings. Stored text always goes through ``html.escape``.
The page is self-contained: inline CSS, charts as ``data:`` PNGs, and the only links that
leave the page open a call in the review UI (``<ui_url>/?call=<external id>``; with an
empty ``ui_url`` the link is relative, which is what the Insights tab inside the UI uses).
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import TYPE_CHECKING, Any

from qa.report.fragments import call_link
from qa.report.repeat_section import repeats_html
from qa.report.sections import bias_html, drivers_html, themes_html, triggers_html

if TYPE_CHECKING:
    from qa.report.model import Insights

__all__ = [
    "CSS",
    "bias_html",
    "call_link",
    "drivers_html",
    "kpi_tiles_html",
    "render_report",
    "repeats_html",
    "themes_html",
    "trends_html",
    "triggers_html",
]


CSS = """
.qa-report { margin: 0; background: #f3f4f6; color: #1f2937;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
.qa-report .page { max-width: 1180px; margin: 0 auto; padding: 24px 28px 40px; }
.qa-report header.top { display: flex; justify-content: space-between; align-items: center;
  background: #111827; color: #f9fafb; border-radius: 12px; padding: 18px 24px; }
.qa-report header.top h1 { margin: 0; font-size: 22px; }
.qa-report header.top .sub { color: #cbd5e1; margin-top: 2px; }
.qa-report .button { background: #2563eb; color: #fff; padding: 8px 14px; border-radius: 8px;
  text-decoration: none; font-weight: 600; white-space: nowrap; }
.qa-report nav.toc { display: flex; gap: 16px; padding: 10px 4px 0; flex-wrap: wrap; }
.qa-report nav.toc a { color: #2563eb; text-decoration: none; font-weight: 500; }
.qa-report section { background: #fff; border: 1px solid #e5e7eb; border-radius: 12px;
  padding: 16px 20px; margin-top: 16px; }
.qa-report footer { color: #6b7280; font-size: 12px; margin-top: 18px; }
.qa-ins h2, .qa-report h2 { margin: 0 0 8px; font-size: 17px; }
.qa-ins h3, .qa-report h3 { margin: 14px 0 6px; font-size: 14.5px; }
.qa-ins .intro, .qa-report .intro { color: #4b5563; margin: 0 0 10px; }
.qa-ins .muted, .qa-report .muted { color: #6b7280; font-size: 12.5px; }
.qa-ins .empty, .qa-report .empty { color: #6b7280; font-style: italic; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr));
  gap: 10px; }
.tile { border: 1px solid #e5e7eb; border-radius: 10px; padding: 10px 12px;
  background: #f9fafb; }
.tile .v { font-size: 22px; font-weight: 700; color: #111827;
  font-variant-numeric: tabular-nums; }
.tile .k { font-size: 12px; color: #6b7280; }
.delta { font-size: 12px; font-weight: 600; }
.delta.good { color: #16a34a; } .delta.bad { color: #dc2626; } .delta.flat { color: #6b7280; }
.chart { width: 100%; height: auto; display: block; }
.chart.impact { width: auto; max-width: 100%; margin-top: 10px; }
table.qa td:first-child { white-space: nowrap; }
table.qa.wide { width: 100%; }
.cards { display: grid; gap: 10px; }
.card { border: 1px solid #e5e7eb; border-left: 4px solid #d97706; border-radius: 8px;
  padding: 10px 14px; background: #fffbeb; }
.card.m-csat_mean, .card.m-nps { border-left-color: #dc2626; background: #fef2f2; }
.card.m-aht_seconds { border-left-color: #7c3aed; background: #f5f3ff; }
.card .what { font-weight: 600; }
.card .scope { font-size: 11px; text-transform: uppercase; letter-spacing: 0.04em;
  color: #6b7280; margin-right: 6px; }
.card .todo { margin: 2px 0 6px; color: #374151; }
a.call { display: inline-block; font: 12px ui-monospace, SFMono-Regular, Menlo, monospace;
  background: #eef2ff; color: #1d4ed8; border: 1px solid #c7d2fe; border-radius: 6px;
  padding: 0 6px; margin: 2px 3px 2px 0; text-decoration: none; }
.bars { display: flex; align-items: flex-end; gap: 3px; height: 56px; margin-top: 6px; }
.bars div { width: 26px; background: #f87171; border-radius: 3px 3px 0 0; min-height: 1px;
  position: relative; }
.bars span { position: absolute; bottom: -16px; left: 0; font-size: 10px; color: #6b7280; }
.bars-wrap { padding-bottom: 16px; }
table.qa { border-collapse: collapse; min-width: 60%; font-size: 13px; margin-top: 4px; }
table.qa th { text-align: left; color: #4b5563; font-weight: 600; background: #f9fafb;
  border-bottom: 1px solid #e5e7eb; padding: 6px 8px; white-space: nowrap; }
table.qa, table.qa th, table.qa td { border: 0; }
table.qa td { border-bottom: 1px solid #f3f4f6; padding: 5px 8px;
  font-variant-numeric: tabular-nums; }
table.qa td.num, table.qa th.num { text-align: right; white-space: nowrap; }
table.qa tr.sig td { font-weight: 600; }
table.qa tr.insufficient td { color: #9ca3af; }
table.qa tr.recorded td { background: #f0f7ff; }
.split { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 16px;
  align-items: start; }
.pill { display: inline-block; border-radius: 999px; padding: 0 8px; font-size: 12px;
  background: #e5e7eb; margin-right: 4px; }
.warn { border-left: 4px solid #dc2626; background: #fef2f2; padding: 8px 12px;
  border-radius: 6px; margin: 4px 0; }
.ok { border-left: 4px solid #16a34a; background: #f0fdf4; padding: 8px 12px;
  border-radius: 6px; }
"""

# key, label, how to format it, which direction is good (+1 up, -1 down, 0 neither)
TILES: tuple[tuple[str, str, str, int], ...] = (
    ("calls_offered", "Calls offered", "int", 0),
    ("csat_mean", "CSAT mean (1-5)", "mean", 1),
    ("csat_pct", "CSAT 4-5", "pct", 1),
    ("nps", "NPS", "nps", 1),
    ("ces_mean", "CES (1-7, low = easy)", "mean", -1),
    ("fcr_rate", "FCR (no repeat)", "pct", 1),
    ("fcr_survey_rate", "FCR (survey)", "pct", 1),
    ("repeat_contact_rate", "Repeat contacts", "pct", -1),
    ("aht_seconds", "Avg handle time", "time", 0),
    ("asa_seconds", "Avg speed of answer", "time", -1),
    ("service_level", "Service level", "pct", 1),
    ("abandonment_rate", "Abandonment", "pct", -1),
    ("transfer_rate", "Transfers", "pct", -1),
    ("occupancy", "Occupancy", "pct", 0),
    ("utilization", "Utilization", "pct", 0),
    ("schedule_adherence", "Schedule adherence", "pct", 1),
    ("cost_per_call", "Cost per call", "money", -1),
)


def fmt(value: Any, kind: str) -> str:
    """A KPI for display: ``pct`` 73.3%, ``mean`` 4.12, ``nps`` +12, ``time`` 5:07,
    ``money`` 1,234.50."""
    if value is None:
        return "\u2013"
    if kind == "pct":
        return f"{value * 100:.1f}%"
    if kind == "mean":
        return f"{value:.2f}"
    if kind == "nps":
        return f"{value:+.0f}"
    if kind == "time":
        seconds = round(value)
        return f"{seconds // 60}:{seconds % 60:02d}"
    if kind == "money":
        return f"{value:,.2f}"
    return str(value)


def _delta(value: Any, previous: Any, kind: str, good: int) -> str:
    if value is None or previous is None:
        return ""
    diff = value - previous
    if kind == "pct":
        text = f"{diff * 100:+.1f} pp"
    elif kind == "time":
        text = f"{diff:+.0f} s"
    elif kind == "int":
        text = f"{diff:+d}"
    else:
        text = f"{diff:+.2f}" if kind in ("mean", "money") else f"{diff:+.0f}"
    tone = "flat" if diff == 0 or good == 0 else ("good" if diff * good > 0 else "bad")
    arrow = "\u25b2" if diff > 0 else ("\u25bc" if diff < 0 else "\u25c6")
    return f'<span class="delta {tone}">{arrow} {text}</span>'


def kpi_tiles_html(insights: Insights) -> str:
    """One tile per KPI, with the change against the previous period when there is one."""
    before = insights.previous_kpis or {}
    differing = {c.key: c for c in insights.weighting.differing} if insights.weighting else {}
    tiles = []
    for key, label, kind, good in TILES:
        value = insights.kpis.get(key)
        delta = _delta(value, before.get(key), kind, good) if before else ""
        weighted = ""
        if key in differing:  # raw outside the weighted 95 % interval: show both
            weighted = (
                f'<div class="k weighted">all callers: {fmt(differing[key].weighted, kind)} '
                "(weighted for who answers; see the survey-bias check)</div>"
            )
        tiles.append(
            f'<div class="tile" data-kpi="{key}"><div class="v">{fmt(value, kind)}</div>'
            f'<div class="k">{escape(label)}</div>{delta}{weighted}</div>'
        )
    note = f'<p class="muted">Changes: {escape(insights.comparison)}.</p>' if before else ""
    return f'<div class="tiles">{"".join(tiles)}</div>{note}'


def _day(value: datetime | None) -> str:
    return "open" if value is None else value.strftime("%Y-%m-%d")


def period_text(insights: Insights) -> str:
    """``2026-11-02 \u2013 2026-11-13`` (the requested range, else the data's)."""
    start = insights.since or insights.data_start
    end = insights.until or insights.data_end
    if start is None:
        return "no calls"
    return f"{_day(start)} \u2013 {_day(end)}"


def _section(anchor: str, title: str, body: str, intro: str = "") -> str:
    intro_html = f'<p class="intro">{intro}</p>' if intro else ""
    return f'<section id="{anchor}"><h2>{escape(title)}</h2>{intro_html}{body}</section>'


def trends_html(insights: Insights) -> str:
    from qa.report.charts import trend_chart

    uri = trend_chart(insights.daily)
    if uri is None:
        return '<p class="empty">No calls in this period.</p>'
    return f'<img class="chart" alt="Daily CSAT, AHT, volume and abandonment" src="{uri}">'


def render_report(insights: Insights, *, ui_url: str, title: str = "callqa report") -> str:
    """The whole report page."""
    ui = escape(ui_url.rstrip("/") + "/", quote=True)
    n_actions = len(insights.triggers)
    sections = [
        _section("kpis", "Key numbers", kpi_tiles_html(insights)),
        _section(
            "actions",
            f"Actions ({n_actions})",
            triggers_html(insights, ui_url),
            "Thresholds crossed overall, per team and per queue, with the calls to open.",
        ),
        _section("trends", "Daily trends", trends_html(insights)),
        _section(
            "drivers",
            "What drives the scores",
            drivers_html(insights, ui_url),
            "How much each tag moves each outcome, with 95 % intervals, BH q-values and an "
            "effect adjusted for the other tags, queue, team and call length.",
        ),
        _section("themes", "Top themes", themes_html(insights)),
        _section(
            "repeats", "Repeat contacts and callback promises", repeats_html(insights, ui_url)
        ),
        _section(
            "bias",
            "Survey bias check",
            bias_html(insights),
            "Are the calls with a survey answer like the others? If not, survey-based "
            "numbers describe respondents rather than callers.",
        ),
    ]
    toc = "".join(
        f'<a href="#{a}">{escape(t)}</a>'
        for a, t in (
            ("kpis", "Numbers"),
            ("actions", "Actions"),
            ("trends", "Trends"),
            ("drivers", "Drivers"),
            ("themes", "Themes"),
            ("repeats", "Repeats"),
            ("bias", "Survey bias"),
        )
    )
    calls = insights.kpis.get("calls_offered") or 0
    generated = insights.generated_at.strftime("%Y-%m-%d %H:%M")
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} \u00b7 {period_text(insights)}</title>"
        f'<style>{CSS}</style></head><body class="qa-report"><div class="page">'
        f'<header class="top"><div><h1>{escape(title)}</h1><div class="sub">'
        f"{period_text(insights)} \u00b7 {calls} calls \u00b7 generated {generated}</div>"
        f'</div><a class="button" href="{ui}">Open the review UI</a></header>'
        f'<nav class="toc">{toc}</nav>{"".join(sections)}'
        "<footer>Definitions: FCR (no repeat) = first contacts not followed by another "
        "contact of the same customer within the repeat window; contacts whose window has "
        "not ended yet are left out. Survey FCR, CSAT, NPS and CES are over answered "
        "surveys only. Call links open the review UI.</footer></div></body></html>"
    )

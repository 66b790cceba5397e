"""The Insights tab's sections as HTML, computed from every call and served from a stored
result while nothing they read has changed (``qa.store.snapshots``).

    served = served_sections(engine, since=None, until=None)
    status, parts = served.payload     # parts: section name -> HTML; None with no calls

``review_ui.insights`` shows them (adding the reviewers' scores and rules, read live);
``qa nightly`` calls :func:`served_sections` for the all-data view once the night's data is
in, so the tab opens without computing. At a million calls computing takes minutes.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from qa.store.snapshots import Served

KIND = "insights"
COMPUTED = ("kpis", "actions", "drivers", "repeats", "trends", "themes", "bias")
"""The sections computed from every call (the rest of the tab comes from reviews)."""


def computed_sections(
    engine: Engine, since: datetime | None, until: datetime | None
) -> tuple[str, dict[str, str] | None]:
    """(status line, HTML per :data:`COMPUTED` section) for ``[since, until)``; the sections
    are None when the period has no calls. What the snapshot stores."""
    from qa.report.html import kpi_tiles_html, period_text, trends_html
    from qa.report.insights import build_insights
    from qa.report.repeat_section import repeats_html
    from qa.report.sections import bias_html, drivers_html, themes_html, triggers_html

    insights = build_insights(engine, since=since, until=until)
    if insights.empty:
        return "**No calls** in this period.", None
    status = (
        f"**{period_text(insights)}** · {insights.kpis['calls_offered']} calls · "
        f"{len(insights.triggers)} actions · "
        f"{len(insights.repeats.broken_promises)} broken callback promises · "
        f"{len(insights.bias.warnings)} survey-bias warnings"
    )
    here = ""  # no UI address: relative ?call= links, which reopen the app on that call
    return status, {
        "kpis": kpi_tiles_html(insights),
        "actions": triggers_html(insights, here),
        "drivers": drivers_html(insights, here),
        "repeats": repeats_html(insights, here),
        "trends": trends_html(insights),
        "themes": themes_html(insights),
        "bias": bias_html(insights),
    }


def served_sections(
    engine: Engine, *, since: datetime | None = None, until: datetime | None = None
) -> Served:
    """:func:`computed_sections`, or its stored result when nothing it reads has changed."""
    from qa.store.snapshots import serve

    return serve(
        engine,
        kind=KIND,
        params={"since": since, "until": until},
        compute=lambda: computed_sections(engine, since, until),
    )

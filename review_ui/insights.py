"""The review UI's Insights tab, and ``?call=ID`` deep links into the review screen.

``build_insights_tab(engine)`` is called inside ``build_app``'s ``gr.Tabs()``: it adds an
"Insights" tab with the same sections as the nightly HTML report (``qa.report.insights``): KPI
tiles, actions (triggers) with the calls to review, the driver tables (each row marked "said"
- a tag on what the customer or agent said - or "recorded" - a ``call:`` feature the phone
system recorded - with a legend, and each tag's measured precision / recall and mis-tagging
sensitivity line), repeat contacts and broken callback promises, daily trends, themes and the
survey-bias check; then, from reviewers' work (``review_ui.review_insights``), scorecard
scores per agent and team by week and the rule patterns below the precision floor. The
numbers are
computed when the tab is opened or refreshed (``api_name="insights"``), not at page load.

Call ids in the tab link to ``?call=<external id>``; ``call_from_query`` opens such a link
in the review screen (the report links to the UI the same way).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import gradio as gr

from qa.store.api import transact

if TYPE_CHECKING:
    from qa.store.api import Engine

SECTIONS = ("kpis", "actions", "drivers", "repeats", "trends", "themes", "bias", "scores", "rules")
_EMPTY = '<p class="empty">No calls in this period.</p>'


def _wrap(body: str) -> str:
    return f'<div class="qa-ins">{body}</div>'


def render_insights(engine: Engine, since: str | None, until: str | None) -> list[str]:
    """Status line + one HTML fragment per ``SECTIONS`` entry for ``[since, until)``.

    The sections computed from every call (all but the reviewers' scores and rules) are
    served from the stored result while nothing they read has changed
    (``qa.store.snapshots``): at a million calls computing them takes minutes, serving them
    a fraction of a second. The status line says which it was."""
    from qa.ingest.records import RowError, parse_timestamp
    from qa.report.insights_view import served_sections
    from review_ui.review_insights import rules_html, scores_html

    try:
        start = parse_timestamp(since.strip(), "since") if since and since.strip() else None
        end = parse_timestamp(until.strip(), "until") if until and until.strip() else None
        served = served_sections(engine, since=start, until=end)
    except (ValueError, RowError) as exc:
        return [f"**Not computed:** {exc}"] + [""] * len(SECTIONS)
    status, parts = served.payload
    if parts is None:  # no calls in the period
        return [status] + [_wrap(_EMPTY)] * len(SECTIONS)
    # From reviewers' work, over all periods (weeks are columns): small tables, read live.
    parts.update(scores=scores_html(engine), rules=rules_html(engine))
    status += f" · <small>{served.describe()}</small>"
    return [status] + [_wrap(parts[name]) for name in SECTIONS]


def build_insights_tab(engine: Engine) -> gr.Tab:
    """Add the Insights tab (call inside ``gr.Tabs()`` in a ``gr.Blocks``); returns the tab."""
    from qa.report.html import CSS

    def refresh(since, until):  # type: ignore[no-untyped-def]
        return render_insights(engine, since, until)

    with gr.Tab("Insights", id="insights", elem_id="insights-tab") as tab:
        with gr.Row(equal_height=True):
            since = gr.Textbox(
                label="Since (ISO date, inclusive)",
                placeholder="all data",
                elem_id="insights-since",
                scale=2,
            )
            until = gr.Textbox(
                label="Until (ISO date, exclusive)",
                placeholder="open",
                elem_id="insights-until",
                scale=2,
            )
            button = gr.Button(
                "Refresh", variant="primary", elem_id="insights-refresh", scale=0, min_width=120
            )
        status = gr.Markdown(
            "Open this tab or press Refresh to compute the insights.", elem_id="insights-status"
        )
        html: dict[str, gr.HTML] = {}
        titles = {
            "kpis": "Key numbers",
            "actions": "Actions",
            "drivers": "What drives the scores (what was said, what was recorded)",
            "repeats": "Repeat contacts and callback promises",
            "trends": "Daily trends",
            "themes": "Top themes",
            "bias": "Survey bias check",
            "scores": "Scorecard scores per agent and team, by week",
            "rules": "Rules reviewers reject (precision from decisions)",
        }
        for name in SECTIONS:
            open_ = name in ("kpis", "actions", "drivers")
            with gr.Accordion(titles[name], open=open_, elem_id=f"insights-{name}-box"):
                html[name] = gr.HTML(css_template=CSS, elem_id=f"insights-{name}")
    outputs = [status, *(html[name] for name in SECTIONS)]
    button.click(refresh, [since, until], outputs, api_name="insights")
    since.submit(refresh, [since, until], outputs, api_visibility="private")
    until.submit(refresh, [since, until], outputs, api_visibility="private")
    tab.select(refresh, [since, until], outputs, api_visibility="private")
    return tab


def call_from_query(
    engine: Engine,
    show: Callable[..., tuple[Any, ...]],
    n_outputs: int,
    *,
    viewer: Callable[[gr.Request], Any] | None = None,
) -> Callable[..., Any]:
    """A ``demo.load`` handler: open the call named by ``?call=`` (external or database id).

    ``show(call_id)`` is the review screen's renderer with ``n_outputs`` outputs (the last
    one the status line); the handler's outputs are the call-id box followed by those.
    ``viewer(request)``: the signed-in identity, passed to ``show`` as ``who``. Without
    ``?call=`` nothing changes.
    """
    from qa.report.insights import resolve_call_ref

    def open_linked(request: gr.Request):  # type: ignore[no-untyped-def]
        ref = (request.query_params.get("call") or "").strip() if request else ""
        if not ref:
            return tuple(gr.update() for _ in range(n_outputs + 1))
        cid = transact(engine, resolve_call_ref, ref=ref)
        if cid is None:
            unchanged = (gr.update() for _ in range(n_outputs - 1))
            return (gr.update(), *unchanged, f"**Not found:** no call {ref!r} (from the link)")
        if viewer is None:
            return (cid, *show(cid))
        return (cid, *show(cid, who=viewer(request)))

    return open_linked

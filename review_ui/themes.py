"""The review UI's Themes tab: see the discovered themes, rename one, promote one to a tag.

``build_themes_tab(engine, access)`` is called inside ``build_app``'s ``gr.Tabs()``. It
lists the live themes (size > 0, largest first) with their names, keywords and examples, and
the member texts of the chosen theme with ``?call=`` links into the review screen. A theme
no reviewer has named shows its suggested name ("… (suggested)", ``classify.naming``); a lead
accepts it as it is or types another. Below, the k-selection curve of the last re-cluster
(``k_choice``). Reads go through ``qa.store.api``; writes (``qa.stages.theme_review``) run
in a transaction of their own (``qa.store.api.transact``) and their errors become a
"**Not saved:**" status. Endpoints ``themes`` (refresh), ``rename_theme``,
``accept_theme_name``, ``promote_theme`` take the theme (id or ``"id: name"``) first and
return ``(table, theme, members HTML, status)``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from html import escape
from typing import TYPE_CHECKING, Any

import gradio as gr
import pandas as pd

from qa.auth import Identity, Permission
from qa.store import api as store
from qa.store.themes import ThemeView
from review_ui.access import Access

if TYPE_CHECKING:
    from qa.store.api import Engine

COLUMNS = ["id", "theme", "size", "keywords", "promoted tag", "examples"]
EMPTY = "No themes yet: run `qa tag` or `qa nightly` to discover themes."
SUGGESTED = " (suggested)"
MAX_KEYWORDS = 5
MAX_EXAMPLES = 2
MAX_MEMBERS = 50
Outputs = tuple[pd.DataFrame, Any, str, str]


def themes_table(rows: list[ThemeView]) -> pd.DataFrame:
    """One row per theme: id, name (a reviewer's, or the suggested one marked so), size,
    keywords, tag, examples."""
    data = [
        [
            r.id,
            r.label or f"{r.name}{SUGGESTED}",
            r.size,
            ", ".join(r.keywords[:MAX_KEYWORDS]),
            r.promoted_tag or "",
            " | ".join(r.examples[:MAX_EXAMPLES]),
        ]
        for r in rows
    ]
    return pd.DataFrame(data, columns=COLUMNS)


def parse_theme(value: Any) -> int | None:
    """The theme id in a dropdown value: an int, ``"7"`` or ``"7: billing"``; else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return int(value) if value == value else None  # NaN: nothing chosen
    head = str(value).split(":", 1)[0].strip()
    return int(head) if head.isdigit() else None


def members_html(engine: Engine, selected: Any) -> str:
    """The chosen theme's member texts (closest first) with ``?call=`` links."""
    from qa.report.fragments import call_link, table

    cluster_id = parse_theme(selected)
    if cluster_id is None:
        return '<div class="qa-ins"><p class="empty">Choose a theme to see its texts.</p></div>'
    found = store.theme_members(engine, cluster_id, MAX_MEMBERS)
    rows, total = found.members, found.total
    if not rows:
        return '<div class="qa-ins"><p class="empty">This theme has no member texts.</p></div>'
    # Relative ?call= links reopen this app on that call (``call_from_query``).
    cells = [(call_link("", m.call_external_id),
              m.source if m.turn_index is None else f"turn {m.turn_index}",
              escape(m.text), f"{m.similarity:.2f}") for m in rows]  # fmt: skip
    more = f" (closest {len(rows)} shown)" if total > len(rows) else ""
    head = f"<h3>Theme #{cluster_id}: {total} text{'' if total == 1 else 's'}{more}</h3>"
    body = table(("call", "where", "text", "similarity"), cells, {3}, wide=True)
    return f'<div class="qa-ins">{head}{body}</div>'


def render_themes(engine: Engine, selected: Any, message: str | None = None) -> Outputs:
    """Table, dropdown update, members HTML and status; keeps ``selected`` while it lives."""
    rows = store.live_themes(engine)
    choices = [(f"{r.id}: {r.name}", r.id) for r in rows]
    ids = [r.id for r in rows]
    current = parse_theme(selected)
    current = current if current in ids else next(iter(ids), None)
    summary = f"**{len(rows)} themes** ({sum(r.size for r in rows)} texts)." if rows else EMPTY
    dropdown = gr.update(choices=choices, value=current)
    return themes_table(rows), dropdown, members_html(engine, current), message or summary


def _save(engine: Engine, selected: Any, write: Callable[[int], str]) -> Outputs:
    """Run ``write(theme id)`` (one transaction); its errors become "Not saved"."""
    cid = parse_theme(selected)
    if cid is None:
        return render_themes(engine, selected, "**Not saved:** choose a theme first.")
    try:
        done = write(cid)
    except (ValueError, LookupError) as exc:  # bad name / unknown theme: nothing was written
        return render_themes(engine, selected, f"**Not saved:** {exc}")
    return render_themes(engine, cid, f"**Saved.** {done}")


def rename(engine: Engine, selected: Any, label: str | None) -> Outputs:
    """Rename the chosen theme; a bad label or unknown theme gives a "Not saved" status."""
    from qa.stages.theme_review import rename_theme

    def write(cid: int) -> str:
        row = store.transact(engine, rename_theme, cluster_id=cid, label=label or "")
        return f"Theme #{cid} is now “{escape(row.label)}”."

    return _save(engine, selected, write)


def accept_name(engine: Engine, selected: Any) -> Outputs:
    """Keep the chosen theme's suggested name as its name (a reviewer's label from now on)."""
    cid = parse_theme(selected)
    found = next((r for r in store.live_themes(engine) if r.id == cid), None)
    if cid is not None and found is None:
        return render_themes(engine, selected, f"**Not saved:** no theme with id {cid}.")
    return rename(engine, selected, found.suggested if found else None)


def k_choice_html(engine: Engine) -> str:
    """The last re-cluster's k-selection curve (criterion value per k, chosen k marked)."""
    from qa.report.charts import k_curve_chart

    choice = store.latest_k_choice(engine)
    if choice is None:
        return '<div class="qa-ins"><p class="empty">No re-cluster yet.</p></div>'
    if not choice.chosen:
        text = f"The last re-cluster used k = {choice.k}, as given (--k); no curve."
        return f'<div class="qa-ins"><p>{escape(text)}</p></div>'
    bounds = f"{choice.min_k or 2}-{choice.max_k}" if choice.max_k else "the default range"
    why = (
        f"k = {choice.k} themes for {choice.texts} texts: the number of eigenvalues of the "
        f"texts' neighbour graph at or above {choice.floor:g} (groups that keep about three "
        f"quarters of their nearest-neighbour links inside), within {bounds}."
        if choice.criterion == "eigen-floor"
        else f"k = {choice.k} themes for {choice.texts} texts, by {choice.criterion}, "
        f"within {bounds}."
    )
    chart = k_curve_chart(choice.curve, choice.k, choice.criterion, choice.floor)
    img = f'<img alt="k-selection curve" src="{chart}" style="max-width:100%">' if chart else ""
    return f'<div class="qa-ins"><p>{escape(why)} Bound it with --min-k / --max-k.</p>{img}</div>'


def promote(engine: Engine, reviewer: str, selected: Any, tag_name: str | None) -> Outputs:
    """Promote the chosen theme to a human tag on its calls (``reviewer`` recorded on each);
    reports how many were tagged."""
    from qa.stages.theme_review import promote_theme

    tag = (tag_name or "").strip()

    def write(cid: int) -> str:
        n = store.transact(engine, promote_theme, cluster_id=cid, tag_name=tag, reviewer=reviewer)
        note = "" if n else " (every member call already had a reviewer's decision on it)"
        calls = "1 call" if n == 1 else f"{n} calls"
        return f"Theme #{cid} promoted to tag “{tag}”: {calls} tagged{note}."

    return _save(engine, selected, write)


def build_themes_tab(engine: Engine, access: Access) -> gr.Tab:
    """Add the Themes tab (call inside ``gr.Tabs()`` in a ``gr.Blocks``); returns the tab.

    Renames and promotions need the ``manage_themes`` permission (a lead); the signed-in
    name is recorded on the tags a promotion creates.
    """
    from qa.report.html import CSS

    def pick_row(evt: gr.SelectData):  # type: ignore[no-untyped-def]
        row = evt.row_value or []
        return parse_theme(row[0]) if row else gr.update()

    small: dict[str, Any] = {"scale": 0, "min_width": 140}
    with gr.Tab("Themes", id="themes", elem_id="themes-tab") as tab:
        status = gr.Markdown("Open this tab or press Refresh to list the themes.",
                             elem_id="themes-status")  # fmt: skip
        # Fixed widths: left to itself the grid squeezed "promoted tag" to a letter a line.
        table = gr.Dataframe(headers=COLUMNS, interactive=False, max_height=360, wrap=True,
                             label="Themes (largest first) — select a row to choose it",
                             column_widths=["6%", "20%", "7%", "22%", "12%", "33%"],
                             elem_id="themes-table")  # fmt: skip
        with gr.Row(equal_height=True):
            # Custom values: a client may pass an id the (possibly stale) choices lack.
            theme = gr.Dropdown([], label="Theme", allow_custom_value=True,
                                elem_id="theme-choice", scale=2)  # fmt: skip
            refresh_btn = gr.Button("Refresh", elem_id="themes-refresh", **small)
        with gr.Row(equal_height=True):
            label = gr.Textbox(label="New name", placeholder="e.g. billing errors",
                               elem_id="theme-label", scale=2)  # fmt: skip
            rename_btn = gr.Button("Rename", variant="primary", elem_id="rename-theme", **small)
            accept_btn = gr.Button("Accept suggested name", elem_id="accept-theme-name", **small)
            tag_name = gr.Textbox(label="Tag name", placeholder="e.g. billing-error",
                                  elem_id="theme-tag", scale=2)  # fmt: skip
            promote_btn = gr.Button("Promote to tag", elem_id="promote-theme", **small)
        members = gr.HTML(css_template=CSS, elem_id="theme-members")
        with gr.Accordion("How many themes: the k-selection curve", open=False):
            k_curve = gr.HTML(css_template=CSS, elem_id="theme-k-curve")
    outputs = [table, theme, members, status]
    private: dict[str, Any] = {"api_visibility": "private"}
    refresh, show = partial(render_themes, engine), partial(members_html, engine)

    @access.needs(Permission.manage_themes)
    def rename_theme(selected, label_text, request: gr.Request, *, who: Identity):  # type: ignore[no-untyped-def]
        return rename(engine, selected, label_text)

    @access.needs(Permission.manage_themes)
    def accept_theme_name(selected, request: gr.Request, *, who: Identity):  # type: ignore[no-untyped-def]
        return accept_name(engine, selected)

    @access.needs(Permission.manage_themes)
    def promote_theme(selected, tag_text, request: gr.Request, *, who: Identity):  # type: ignore[no-untyped-def]
        return promote(engine, who.name, selected, tag_text)

    curve = partial(k_choice_html, engine)
    refresh_btn.click(refresh, [theme], outputs, api_name="themes").then(
        curve, None, k_curve, api_name="k_choice"
    )
    tab.select(refresh, [theme], outputs, **private).then(curve, None, k_curve, **private)
    accept_btn.click(accept_theme_name, [theme], outputs, api_name="accept_theme_name")
    rename_btn.click(rename_theme, [theme, label], outputs, api_name="rename_theme")
    label.submit(rename_theme, [theme, label], outputs, **private)
    promote_btn.click(promote_theme, [theme, tag_name], outputs, api_name="promote_theme")
    theme.input(show, [theme], members, **private)
    table.select(pick_row, None, theme, **private).then(show, [theme], members, **private)
    return tab

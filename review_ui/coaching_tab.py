"""The Coaching tab's layout and events (the handlers and renderers are in
``review_ui.coaching``). Endpoints: ``pack`` (show one), ``create_pack``, ``export_pack``,
``agent_profile``; ``?pack=ID`` opens the tab on that pack."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import gradio as gr

from qa.auth import Identity, Permission
from qa.store.api import transact
from review_ui.coaching import (
    CALL_COLUMNS,
    PRIVATE,
    add_to_pack,
    calls_frame,
    export_file,
    pack_choices,
    pack_html,
    parse_pack,
    profile_html,
)
from review_ui.exports import ExportFolder, UiAddress

if TYPE_CHECKING:
    from qa.review.playback import Playback
    from qa.store.api import Engine
    from review_ui.access import Access


def show_pack(engine: Engine, choice: Any) -> tuple[Any, str, str]:
    """(pack choices, pack HTML, status) for the chosen pack."""
    from qa.review.packs import PackNotFound, pack_detail

    choices = gr.update(choices=pack_choices(engine))
    ref = parse_pack(choice)
    if ref is None:
        return choices, "", "Choose a pack, or create one below."
    try:
        view = transact(engine, pack_detail, pack=ref)
    except PackNotFound as exc:
        return choices, "", f"**Not found:** {exc}"
    return (gr.update(choices=pack_choices(engine), value=str(view.id)), pack_html(view),
            f"Pack #{view.id}: {len(view.items)} items.")  # fmt: skip


def show_profile(engine: Engine, agent: Any) -> tuple[str, Any, Any, str]:
    """(profile HTML, worst calls, best calls, status) of an agent."""
    from qa.report.agent_profile import agent_profile
    from qa.store.reads import CallNotFound

    if not agent:
        return "", None, None, "Choose an agent."
    try:
        profile = transact(engine, agent_profile, agent=str(agent))
    except CallNotFound as exc:
        return "", None, None, f"**Not found:** {exc}"
    return (profile_html(profile), calls_frame(profile.worst), calls_frame(profile.best),
            f"Profile of {profile.agent_name or profile.agent_id}: select a call below to add "
            "it to the chosen pack.")  # fmt: skip


def build_coaching_tab(
    demo: gr.Blocks,
    tabs: gr.Tabs,
    engine: Engine,
    access: Access,
    *,
    playback: Playback | None = None,
    list_query: Any = None,
    exports: ExportFolder | None = None,
    address: UiAddress | None = None,
) -> gr.Tab:
    """Add the Coaching tab inside ``tabs``. ``list_query``: the Review tab's hidden URL query
    of its call list (a new pack can save it as its filter)."""
    from qa.report.html import CSS
    from qa.store import api as store

    exports = exports or ExportFolder()
    address = address or UiAddress()

    with gr.Tab("Coaching", id="coaching", elem_id="coaching-tab") as tab:
        with gr.Row(equal_height=True):
            pack = gr.Dropdown([], label="Coaching pack", allow_custom_value=True,
                               elem_id="pack-choice", scale=3)  # fmt: skip
            refresh_btn = gr.Button("Refresh", elem_id="packs-refresh", scale=0, min_width=110)
            html_btn = gr.Button("Export HTML (with clips)", variant="primary",
                                 elem_id="pack-export-html", scale=0, min_width=170)  # fmt: skip
            csv_btn = gr.Button("Export CSV", elem_id="pack-export-csv", scale=0, min_width=120)
        status = gr.Markdown("Choose a pack.", elem_id="pack-status")
        download = gr.File(label="Export", interactive=False, height=90, elem_id="pack-file")
        view = gr.HTML(css_template=CSS, elem_id="pack-view")
        with gr.Accordion("New pack", open=False, elem_id="pack-new-box"):
            with gr.Row(equal_height=True):
                name = gr.Textbox(label="Name", elem_id="pack-name", scale=2)
                agent = gr.Dropdown([], label="For agent", allow_custom_value=True,
                                    elem_id="pack-agent", scale=2)  # fmt: skip
                due = gr.Textbox(label="Due (YYYY-MM-DD)", elem_id="pack-due", scale=1)
            note = gr.Textbox(label="Note", elem_id="pack-note")
            use_list = gr.Checkbox(label="Save the Review tab's current call-list filter as "
                                   "the pack's calls", elem_id="pack-use-filter")  # fmt: skip
            create_btn = gr.Button("Create pack", elem_id="pack-create")
        gr.Markdown("### Agent profile")
        profile_agent = gr.Dropdown([], label="Agent", allow_custom_value=True,
                                    elem_id="profile-agent")  # fmt: skip
        profile_status = gr.Markdown("", elem_id="profile-status")
        profile = gr.HTML(css_template=CSS, elem_id="profile-view")
        with gr.Row():
            worst = gr.Dataframe(headers=CALL_COLUMNS, interactive=False,
                                 label="Worst calls (lowest CSAT): select to add to the pack",
                                 elem_id="profile-worst")  # fmt: skip
            best = gr.Dataframe(headers=CALL_COLUMNS, interactive=False,
                                label="Best calls (highest CSAT): select to add to the pack",
                                elem_id="profile-best")  # fmt: skip

    def agents():  # type: ignore[no-untyped-def]
        return [(f"{a.agent_name or a.agent_id} ({a.calls})", a.agent_id)
                for a in store.list_agents(engine)]  # fmt: skip

    def people():  # type: ignore[no-untyped-def]
        found = agents()
        return gr.update(choices=found), gr.update(choices=found)

    def open_tab(request: gr.Request):  # type: ignore[no-untyped-def]
        # Only a ?pack= link opens this tab at page load; otherwise its choices are read
        # when the tab is opened, not on every page load (the agents are a GROUP BY over
        # every call).
        ref = (request.query_params.get("pack") or "").strip() if request else ""
        if not ref:
            return tuple(gr.update() for _ in range(6))
        return (*show_pack(engine, ref), *people(), gr.update(selected="coaching"))

    @access.needs(Permission.build_packs)
    def create_pack(name_text, agent_id, due_text, note_text, with_filter, query,  # type: ignore[no-untyped-def]
                    request: gr.Request, *, who: Identity):  # fmt: skip
        from datetime import date

        from qa.review.packs import create_pack as create

        try:
            day = date.fromisoformat(due_text.strip()) if (due_text or "").strip() else None
            row = transact(engine, create, name=name_text or "", created_by=who.name,
                           note=note_text or "", agent=agent_id or None, due=day,
                           filter_query=(query or "") if with_filter else "")  # fmt: skip
        except ValueError as exc:
            return gr.update(), gr.update(), f"**Not created:** {exc}"
        return show_pack(engine, row.id)

    def export(fmt: str):  # type: ignore[no-untyped-def]
        @access.needs(Permission.read)
        def handler(choice, request: gr.Request, *, who: Identity):  # type: ignore[no-untyped-def]
            return export_file(engine, playback, choice, fmt, address.for_request(request),
                               exports)  # fmt: skip

        return handler

    @access.needs(Permission.build_packs)
    def add_selected(choice, evt: gr.SelectData, request: gr.Request, *, who: Identity):  # type: ignore[no-untyped-def]
        row = evt.row_value or []
        if not row:
            return gr.update(), gr.update(), "Select a call."
        _, line = add_to_pack(engine, who, row[0], "", choice, "")
        shown = show_pack(engine, choice)
        return shown[0], shown[1], line

    query = list_query if list_query is not None else gr.Textbox(visible=False)
    pack_out = [pack, view, status]
    demo.load(open_tab, None, [*pack_out, agent, profile_agent, tabs], **PRIVATE)
    refresh_btn.click(lambda c: show_pack(engine, c), [pack], pack_out, api_name="pack")
    pack.input(lambda c: show_pack(engine, c), [pack], pack_out, **PRIVATE)
    tab.select(lambda c: show_pack(engine, c), [pack], pack_out, **PRIVATE).then(
        people, None, [agent, profile_agent], **PRIVATE
    )
    create_btn.click(create_pack, [name, agent, due, note, use_list, query], pack_out,
                     api_name="create_pack")  # fmt: skip
    html_btn.click(export("html"), [pack], [download, status], api_name="export_pack")
    csv_btn.click(export("csv"), [pack], [download, status], api_name="export_pack_csv")
    profile_out = [profile, worst, best, profile_status]
    profile_agent.input(lambda a: show_profile(engine, a), [profile_agent], profile_out,
                        api_name="agent_profile")  # fmt: skip
    for table in (worst, best):
        table.select(add_selected, [pack], pack_out, **PRIVATE)
    return tab

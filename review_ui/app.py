"""Gradio review app: filter calls, open one, read the tagged transcript, decide on tags.

``build_app(engine)`` returns the ``gr.Blocks``; ``serve(engine)`` builds and launches it.
Reads go through ``qa.queries``, writes through ``qa.crud``; HTML comes from ``render``.
Every event that a client may call has an ``api_name`` (``list_calls``, ``open_call``,
``confirm_tag``, ``reject_tag``, ``add_tag``, ``save_review``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd
from sqlalchemy.engine import Engine

from qa import crud, queries
from qa.db import session_scope
from review_ui import render
from review_ui.insights import build_insights_tab, call_from_query
from review_ui.themes import build_themes_tab

DEFAULT_TAGS = (
    "re-explain",
    "transfer",
    "long-wait",
    "broken-callback",
    "unresolved",
    "agent-rude",
    "agent-praise",
    "rushed",
)
DEFAULT_SCORECARD = (
    "Greeted and verified the customer",
    "Understood the issue without making them repeat it",
    "Resolved the issue or set a clear next step",
    "Polite and empathetic throughout",
)
REVIEWED_CHOICES = ("all", "unreviewed", "reviewed")
TABLE_COLUMNS = ["id", "call", "started", "agent", "team", "queue", "status", "CSAT", "tags",
                 "reviewed"]  # fmt: skip
ALL = ""  # dropdown value meaning "no filter"
ANY = "any"
CSAT_CHOICES = [ANY, "1", "2", "3", "4", "5"]


def _int_or_none(value: Any) -> int | None:
    if value is None or value in ("", ANY) or (isinstance(value, float) and value != value):
        return None
    return int(value)


def _playable(path: str | None) -> str | None:
    """A path Gradio may serve for the recording, or None when the file is missing.

    Gradio serves only files under the working directory or the temp directory (or
    ``allowed_paths``), so recordings elsewhere are linked / copied into the temp dir.
    """
    if not path:
        return None
    src = Path(path).expanduser().resolve()
    if not src.is_file():
        return None
    for root in (Path.cwd(), Path(tempfile.gettempdir())):
        if src.is_relative_to(root.resolve()):
            return str(src)
    stat = src.stat()
    cache = Path(tempfile.gettempdir()) / "callqa-audio"
    dest = cache / f"{stat.st_size}-{int(stat.st_mtime)}-{src.name}"
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(src, dest)
        except OSError:
            shutil.copyfile(src, dest)
    return str(dest)


def _dropdown(
    label: str, elem_id: str, choices: Sequence[Any] = (), value: Any = None, **kw: Any
) -> gr.Dropdown:
    """A dropdown that also accepts values outside its (possibly stale) choices."""
    return gr.Dropdown(list(choices), value=value, label=label, elem_id=elem_id,
                       allow_custom_value=True, **kw)  # fmt: skip


def calls_table(rows: Sequence[queries.CallRow]) -> pd.DataFrame:
    data = [
        [
            r.id,
            r.external_id,
            r.started_at.strftime("%Y-%m-%d %H:%M"),
            r.agent_name or r.agent_id,
            r.team,
            r.queue,
            r.status,
            "" if r.csat is None else str(r.csat),
            ", ".join(r.tags),
            "✓" if r.reviewed else "",
        ]
        for r in rows
    ]
    return pd.DataFrame(data, columns=TABLE_COLUMNS)


def build_app(
    engine: Engine,
    *,
    tag_names: Sequence[str] | None = None,
    reviewer: str = "reviewer",
    scorecard_items: Sequence[str] = DEFAULT_SCORECARD,
    title: str = "callqa review",
) -> gr.Blocks:
    """The review UI over the database behind ``engine``."""
    taxonomy = list(tag_names) if tag_names else list(DEFAULT_TAGS)

    def filter_choices() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        with session_scope(engine) as s:
            agents = queries.list_agents(session=s)
            stored = queries.list_tag_names(session=s)
        agent_choices = [("All agents", ALL)] + [
            (f"{a.agent_name or a.agent_id} ({a.calls})", a.agent_id) for a in agents
        ]
        names = sorted(set(taxonomy) | set(stored))
        return agent_choices, [("All tags", ALL)] + [(n, n) for n in names]

    def list_calls(agent, tag, csat_min, csat_max, reviewed):  # type: ignore[no-untyped-def]
        flag = {"reviewed": True, "unreviewed": False}.get(reviewed or "all")
        with session_scope(engine) as s:
            rows = queries.list_calls(
                session=s,
                agent=agent or None,
                tag=tag or None,
                csat_min=_int_or_none(csat_min),
                csat_max=_int_or_none(csat_max),
                reviewed=flag,
            )
        return calls_table(rows)

    def load_page():  # type: ignore[no-untyped-def]
        agents, tags = filter_choices()
        table = list_calls(ALL, ALL, ANY, ANY, "all")
        return gr.update(choices=agents, value=ALL), gr.update(choices=tags, value=ALL), table

    def show(call_id, message: str | None = None, keep: str | None = None):  # type: ignore[no-untyped-def]
        cid = _int_or_none(call_id)
        try:
            if cid is None:
                raise queries.CallNotFound("type a call id (the first column of the table)")
            with session_scope(engine) as s:
                d = queries.call_detail(session=s, call_id=cid)
        except queries.CallNotFound as exc:
            empty = '<div class="qa-empty">No call open.</div>'
            no_audio = gr.update(value=None, visible=False)
            no_tags = gr.update(choices=[], value=None)
            return empty, no_audio, "", "", "", no_tags, f"**Not found:** {exc}"
        audio = _playable(d.recording_path)
        names = list(dict.fromkeys(t.tag for t in d.tags))
        live = [n for n in names if n in d.effective_tags]
        current = keep if keep in names else (live or names or [None])[0]
        return (
            render.render_header(d),
            gr.update(value=audio, visible=audio is not None),
            render.render_survey(d.survey, d.tags),
            render.render_transcript(d.turns, d.tags),
            render.render_tags(d.tags),
            gr.update(choices=names, value=current),
            message or f"Opened call #{d.id} ({d.external_id}).",
        )

    def decide(call_id, tag, who, present: bool, verb: str):  # type: ignore[no-untyped-def]
        cid = _int_or_none(call_id)
        if cid is None or not tag:
            return (*show(cid)[:-1], "**Not saved:** open a call and choose a tag first.")
        try:
            with session_scope(engine) as s:
                crud.record_tag_decision(
                    session=s, call_id=cid, tag=tag, present=present, reviewer=who or reviewer
                )
        except (queries.CallNotFound, ValueError) as exc:
            return (*show(cid)[:-1], f"**Not saved:** {exc}")
        return show(cid, f"**Saved.** {verb} tag “{tag}” on call #{cid}.", keep=tag)

    def open_call(call_id):  # type: ignore[no-untyped-def]
        return show(call_id)

    def confirm_tag(call_id, tag, who):  # type: ignore[no-untyped-def]
        return decide(call_id, tag, who, True, "Confirmed")

    def reject_tag(call_id, tag, who):  # type: ignore[no-untyped-def]
        return decide(call_id, tag, who, False, "Rejected")

    def add_tag(call_id, tag, who):  # type: ignore[no-untyped-def]
        return decide(call_id, tag, who, True, "Added")

    def save_review(call_id, checked, notes, who):  # type: ignore[no-untyped-def]
        cid = _int_or_none(call_id)
        if cid is None:
            return "**Not saved:** open a call first."
        answers = {item: item in (checked or []) for item in scorecard_items}
        try:
            with session_scope(engine) as s:
                crud.add_review(session=s, call_id=cid, reviewer=who or reviewer,
                                scorecard=answers, notes=notes or "")  # fmt: skip
        except queries.CallNotFound as exc:
            return f"**Not saved:** {exc}"
        return f"**Saved.** Review of call #{cid} ({sum(answers.values())}/{len(answers)} items)."

    def pick_row(evt: gr.SelectData):  # type: ignore[no-untyped-def]
        row = evt.row_value or []
        return _int_or_none(row[0]) if row else None

    small: dict[str, Any] = {"scale": 0, "min_width": 120}
    with gr.Blocks(title=title, analytics_enabled=False) as demo:
        gr.Markdown(f"# {title}")
        with gr.Tabs(elem_id="tabs"):
            with gr.Tab("Review", id="review", elem_id="review-tab"):
                with gr.Row():
                    agent_dd = _dropdown("Agent", "filter-agent", [("All agents", ALL)], ALL)
                    tag_dd = _dropdown("Tag", "filter-tag", [("All tags", ALL)], ALL)
                    csat_min = _dropdown(
                        "CSAT min", "filter-csat-min", CSAT_CHOICES, ANY, min_width=100
                    )
                    csat_max = _dropdown(
                        "CSAT max", "filter-csat-max", CSAT_CHOICES, ANY, min_width=100
                    )
                    reviewed_radio = gr.Radio(
                        list(REVIEWED_CHOICES),
                        value="all",
                        label="Reviewed",
                        elem_id="filter-reviewed",
                    )
                filters = [agent_dd, tag_dd, csat_min, csat_max, reviewed_radio]
                table = gr.Dataframe(
                    headers=TABLE_COLUMNS,
                    interactive=False,
                    max_height=320,
                    label="Calls (newest first) — select a row to open it",
                    elem_id="calls-table",
                )
                with gr.Row(equal_height=True):
                    call_id = gr.Number(label="Call id", precision=0, elem_id="call-id", **small)
                    open_btn = gr.Button(
                        "Open call", variant="primary", elem_id="open-call", **small
                    )
                    apply_btn = gr.Button("Refresh list", elem_id="apply-filters", **small)
                    status = gr.Markdown(
                        "Select a call to review.", label="Status", elem_id="status"
                    )
                header = gr.HTML(css_template=render.CSS, label="Call", elem_id="call-header")
                with gr.Row():
                    with gr.Column(scale=3):
                        transcript = gr.HTML(
                            css_template=render.CSS, label="Transcript", elem_id="transcript"
                        )
                    with gr.Column(scale=2):
                        audio = gr.Audio(label="Recording", type="filepath", interactive=False,
                                         visible=False, elem_id="recording")  # fmt: skip
                        survey = gr.HTML(css_template=render.CSS, label="Survey", elem_id="survey")
                        tags_html = gr.HTML(css_template=render.CSS, label="Tags", elem_id="tags")
                        who = gr.Textbox(value=reviewer, label="Reviewer", elem_id="reviewer")
                        tag_choice = _dropdown("Tag on this call", "tag-choice")
                        with gr.Row():
                            confirm_btn = gr.Button("Confirm tag", elem_id="confirm-tag")
                            reject_btn = gr.Button(
                                "Reject tag", variant="stop", elem_id="reject-tag"
                            )
                        with gr.Row():
                            first = taxonomy[0] if taxonomy else None
                            add_choice = _dropdown("Add a tag the machine missed", "add-tag-choice",
                                                   taxonomy, first)  # fmt: skip
                            add_btn = gr.Button("Add tag", elem_id="add-tag", **small)
                        with gr.Accordion("Scorecard", open=False):
                            checks = gr.CheckboxGroup(list(scorecard_items), label="Scorecard",
                                                      elem_id="scorecard")  # fmt: skip
                            notes = gr.Textbox(label="Notes", lines=2, elem_id="review-notes")
                            review_btn = gr.Button("Save review", elem_id="save-review")
            build_insights_tab(engine)
            build_themes_tab(engine, reviewer)

        detail = [header, audio, survey, transcript, tags_html, tag_choice, status]
        private: dict[str, Any] = {"api_visibility": "private"}
        demo.load(load_page, None, [agent_dd, tag_dd, table], **private)
        # ?call=ID (external or database id) opens that call: the report's links land here.
        linked = call_from_query(engine, show, len(detail))
        demo.load(linked, None, [call_id, *detail], **private)
        apply_btn.click(list_calls, filters, table, api_name="list_calls")
        for f in filters:
            f.input(list_calls, filters, table, **private)
        open_btn.click(open_call, [call_id], detail, api_name="open_call")
        call_id.submit(open_call, [call_id], detail, **private)
        table.select(pick_row, None, call_id, **private).then(
            open_call, [call_id], detail, **private
        )
        for btn, fn in ((confirm_btn, confirm_tag), (reject_btn, reject_tag)):
            btn.click(fn, [call_id, tag_choice, who], detail, api_name=fn.__name__).then(
                list_calls, filters, table, **private
            )
        add_btn.click(add_tag, [call_id, add_choice, who], detail, api_name="add_tag").then(
            list_calls, filters, table, **private
        )
        review_btn.click(
            save_review, [call_id, checks, notes, who], status, api_name="save_review"
        ).then(list_calls, filters, table, **private)
    return demo


def serve(
    engine: Engine,
    host: str = "127.0.0.1",
    port: int = 7860,
    *,
    tag_names: Sequence[str] | None = None,
    reviewer: str = "reviewer",
    prevent_thread_lock: bool = False,
    **launch_kwargs: Any,
) -> gr.Blocks:
    """Build and launch the app locally (no share link, no telemetry); returns the Blocks."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    demo = build_app(engine, tag_names=tag_names, reviewer=reviewer)
    launch_kwargs.setdefault("quiet", True)
    launch_kwargs.setdefault("show_error", True)
    demo.launch(
        server_name=host,
        server_port=port,
        share=False,
        prevent_thread_lock=prevent_thread_lock,
        **launch_kwargs,
    )
    return demo

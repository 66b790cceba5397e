"""Gradio review app: filter calls, open one, read the tagged transcript, decide on tags.

``build_app(engine)`` returns the ``gr.Blocks``; ``serve(engine)`` builds and launches it.
Reads go through ``qa.store.reads``, writes through ``qa.store.writes``; HTML comes from ``render``.
Every event that a client may call has an ``api_name`` (``list_calls``, ``open_call``,
``confirm_tag``, ``reject_tag``, ``add_tag``, ``save_review``, ``play_original``). Every
write takes the signed-in user as its reviewer and needs a role that grants it
(``review_ui.access``); recordings play through ``qa.review.playback`` (confined, redacted).
"""

from __future__ import annotations

import atexit
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr
import pandas as pd
from sqlalchemy.engine import Engine
from starlette.middleware import Middleware

from qa.auth import Identity, Permission, has_users
from qa.review.playback import Playback, PlaybackError
from qa.store import reads as queries
from qa.store import writes as crud
from qa.store.engine import session_scope
from review_ui import render
from review_ui.access import Access, RoleGate
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


def _audio(engine: Engine, playback: Playback | None, call_id: int, *, original: bool = False):  # type: ignore[no-untyped-def]
    """The audio player's update for a call, and a note when it cannot play."""
    if playback is None:
        return gr.update(value=None, visible=False), " Audio off: no recordings root given."
    try:
        with session_scope(engine) as s:
            clip = playback.clip(session=s, call_id=call_id, original=original)
    except PlaybackError as exc:
        return gr.update(value=None, visible=False), f" Audio not played: {exc}."
    if clip is None:
        return gr.update(value=None, visible=False), ""
    label = "Recording (redacted)" if clip.redacted else "Recording (original)"
    return gr.update(value=str(clip.path), visible=True, label=label), ""


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


@dataclass
class ReviewTab:
    """The Review tab's components (built by :func:`_review_layout`)."""

    filters: list[Any]
    agent_dd: Any
    tag_dd: Any
    table: Any
    call_id: Any
    open_btn: Any
    apply_btn: Any
    status: Any
    header: Any
    audio: Any
    original_btn: Any
    survey: Any
    transcript: Any
    tags_html: Any
    tag_choice: Any
    confirm_btn: Any
    reject_btn: Any
    add_choice: Any
    add_btn: Any
    checks: Any
    notes: Any
    review_btn: Any

    @property
    def detail(self) -> list[Any]:
        """The outputs of opening a call (the status line last)."""
        return [self.header, self.audio, self.survey, self.transcript, self.tags_html,
                self.tag_choice, self.status]  # fmt: skip


def _review_layout(
    taxonomy: list[str], scorecard_items: Sequence[str], *, original_audio: bool
) -> ReviewTab:
    small: dict[str, Any] = {"scale": 0, "min_width": 120}
    with gr.Row():
        agent_dd = _dropdown("Agent", "filter-agent", [("All agents", ALL)], ALL)
        tag_dd = _dropdown("Tag", "filter-tag", [("All tags", ALL)], ALL)
        csat_min = _dropdown("CSAT min", "filter-csat-min", CSAT_CHOICES, ANY, min_width=100)
        csat_max = _dropdown("CSAT max", "filter-csat-max", CSAT_CHOICES, ANY, min_width=100)
        reviewed = gr.Radio(list(REVIEWED_CHOICES), value="all", label="Reviewed",
                            elem_id="filter-reviewed")  # fmt: skip
    table = gr.Dataframe(headers=TABLE_COLUMNS, interactive=False, max_height=320,
                         label="Calls (newest first) — select a row to open it",
                         elem_id="calls-table")  # fmt: skip
    with gr.Row(equal_height=True):
        call_id = gr.Number(label="Call id", precision=0, elem_id="call-id", **small)
        open_btn = gr.Button("Open call", variant="primary", elem_id="open-call", **small)
        apply_btn = gr.Button("Refresh list", elem_id="apply-filters", **small)
        status = gr.Markdown("Select a call to review.", label="Status", elem_id="status")
    header = gr.HTML(css_template=render.CSS, label="Call", elem_id="call-header")
    with gr.Row():
        with gr.Column(scale=3):
            transcript = gr.HTML(css_template=render.CSS, label="Transcript", elem_id="transcript")
        with gr.Column(scale=2):
            audio = gr.Audio(label="Recording", type="filepath", interactive=False,
                             visible=False, elem_id="recording")  # fmt: skip
            original_btn = gr.Button("Play the original (lead)", elem_id="play-original",
                                     visible=original_audio, size="sm")  # fmt: skip
            survey = gr.HTML(css_template=render.CSS, label="Survey", elem_id="survey")
            tags_html = gr.HTML(css_template=render.CSS, label="Tags", elem_id="tags")
            tag_choice = _dropdown("Tag on this call", "tag-choice")
            with gr.Row():
                confirm_btn = gr.Button("Confirm tag", elem_id="confirm-tag")
                reject_btn = gr.Button("Reject tag", variant="stop", elem_id="reject-tag")
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
    return ReviewTab(
        [agent_dd, tag_dd, csat_min, csat_max, reviewed], agent_dd, tag_dd, table, call_id,
        open_btn, apply_btn, status, header, audio, original_btn, survey, transcript,
        tags_html, tag_choice, confirm_btn, reject_btn, add_choice, add_btn, checks, notes,
        review_btn,
    )  # fmt: skip


def _signed_in_line(access: Access, request: gr.Request | None) -> str:
    who = access.identity(getattr(request, "username", None))
    if who is not None:
        return f"Signed in as **{who.name}** ({who.role}) · [Sign out](/logout)"
    return "Read-only: no user exists yet (`qa users add NAME --role reviewer`)."


def build_app(
    engine: Engine,
    *,
    tag_names: Sequence[str] | None = None,
    access: Access | None = None,
    playback: Playback | None = None,
    scorecard_items: Sequence[str] = DEFAULT_SCORECARD,
    title: str = "callqa review",
) -> gr.Blocks:
    """The review UI over the database behind ``engine``.

    ``access`` decides who may write (default: sign-in on whenever a user exists);
    ``playback`` serves the recordings (None: no audio).
    """
    taxonomy = list(tag_names) if tag_names else list(DEFAULT_TAGS)
    if access is None:
        with session_scope(engine) as s:
            access = Access(engine, sign_in=has_users(session=s))
    if playback is not None:
        # Gradio copies every file it serves into its cache: keep that cache private too.
        os.environ["GRADIO_TEMP_DIR"] = str(playback.gradio_cache)
    original_audio = playback is not None and playback.redaction == "redacted+original"

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

    def load_page(request: gr.Request):  # type: ignore[no-untyped-def]
        agents, tags = filter_choices()
        table = list_calls(ALL, ALL, ANY, ANY, "all")
        return (gr.update(choices=agents, value=ALL), gr.update(choices=tags, value=ALL), table,
                _signed_in_line(access, request))  # fmt: skip

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
        audio, audio_note = _audio(engine, playback, d.id)
        names = list(dict.fromkeys(t.tag for t in d.tags))
        live = [n for n in names if n in d.effective_tags]
        current = keep if keep in names else (live or names or [None])[0]
        return (
            render.render_header(d),
            audio,
            render.render_survey(d.survey, d.tags),
            render.render_transcript(d.turns, d.tags),
            render.render_tags(d.tags),
            gr.update(choices=names, value=current),
            (message or f"Opened call #{d.id} ({d.external_id}).") + audio_note,
        )

    def decide(call_id, tag, who: Identity, present: bool, verb: str):  # type: ignore[no-untyped-def]
        cid = _int_or_none(call_id)
        if cid is None or not tag:
            return (*show(cid)[:-1], "**Not saved:** open a call and choose a tag first.")
        try:
            with session_scope(engine) as s:
                crud.record_tag_decision(
                    session=s, call_id=cid, tag=tag, present=present, reviewer=who.name
                )
        except (queries.CallNotFound, ValueError) as exc:
            return (*show(cid)[:-1], f"**Not saved:** {exc}")
        return show(cid, f"**Saved.** {verb} tag “{tag}” on call #{cid} as {who.name}.", keep=tag)

    def open_call(call_id):  # type: ignore[no-untyped-def]
        return show(call_id)

    @access.needs(Permission.decide_tags)
    def confirm_tag(call_id, tag, request: gr.Request, *, who: Identity):  # type: ignore[no-untyped-def]
        return decide(call_id, tag, who, True, "Confirmed")

    @access.needs(Permission.decide_tags)
    def reject_tag(call_id, tag, request: gr.Request, *, who: Identity):  # type: ignore[no-untyped-def]
        return decide(call_id, tag, who, False, "Rejected")

    @access.needs(Permission.decide_tags)
    def add_tag(call_id, tag, request: gr.Request, *, who: Identity):  # type: ignore[no-untyped-def]
        return decide(call_id, tag, who, True, "Added")

    @access.needs(Permission.review)
    def save_review(call_id, checked, notes, request: gr.Request, *, who: Identity):  # type: ignore[no-untyped-def]
        cid = _int_or_none(call_id)
        if cid is None:
            return "**Not saved:** open a call first."
        answers = {item: item in (checked or []) for item in scorecard_items}
        try:
            with session_scope(engine) as s:
                crud.add_review(session=s, call_id=cid, reviewer=who.name,
                                scorecard=answers, notes=notes or "")  # fmt: skip
        except queries.CallNotFound as exc:
            return f"**Not saved:** {exc}"
        return f"**Saved.** Review of call #{cid} ({sum(answers.values())}/{len(answers)} items)."

    @access.needs(Permission.play_original)
    def play_original(call_id, request: gr.Request, *, who: Identity):  # type: ignore[no-untyped-def]
        cid = _int_or_none(call_id)
        if cid is None:
            return gr.update(), "Open a call first."
        audio, note = _audio(engine, playback, cid, original=True)
        return audio, f"Playing the original recording of call #{cid} ({who.name}).{note}"

    def pick_row(evt: gr.SelectData):  # type: ignore[no-untyped-def]
        row = evt.row_value or []
        return _int_or_none(row[0]) if row else None

    with gr.Blocks(title=title, analytics_enabled=False) as demo:
        with gr.Row(equal_height=True):
            gr.Markdown(f"# {title}")
            signed_in = gr.Markdown("", elem_id="signed-in")
        with gr.Tabs(elem_id="tabs"):
            with gr.Tab("Review", id="review", elem_id="review-tab"):
                ui = _review_layout(taxonomy, scorecard_items, original_audio=original_audio)
            build_insights_tab(engine)
            build_themes_tab(engine, access)

        private: dict[str, Any] = {"api_visibility": "private"}
        demo.load(load_page, None, [ui.agent_dd, ui.tag_dd, ui.table, signed_in], **private)
        # ?call=ID (external or database id) opens that call: the report's links land here.
        linked = call_from_query(engine, show, len(ui.detail))
        demo.load(linked, None, [ui.call_id, *ui.detail], **private)
        ui.apply_btn.click(list_calls, ui.filters, ui.table, api_name="list_calls")
        for f in ui.filters:
            f.input(list_calls, ui.filters, ui.table, **private)
        ui.open_btn.click(open_call, [ui.call_id], ui.detail, api_name="open_call")
        ui.call_id.submit(open_call, [ui.call_id], ui.detail, **private)
        ui.table.select(pick_row, None, ui.call_id, **private).then(
            open_call, [ui.call_id], ui.detail, **private
        )
        for btn, fn, choice in ((ui.confirm_btn, confirm_tag, ui.tag_choice),
                                (ui.reject_btn, reject_tag, ui.tag_choice),
                                (ui.add_btn, add_tag, ui.add_choice)):  # fmt: skip
            btn.click(fn, [ui.call_id, choice], ui.detail, api_name=fn.__name__).then(
                list_calls, ui.filters, ui.table, **private
            )
        ui.review_btn.click(
            save_review, [ui.call_id, ui.checks, ui.notes], ui.status, api_name="save_review"
        ).then(list_calls, ui.filters, ui.table, **private)
        ui.original_btn.click(
            play_original, [ui.call_id], [ui.audio, ui.status], api_name="play_original"
        )
    return demo


def serve(
    engine: Engine,
    host: str = "127.0.0.1",
    port: int = 7860,
    *,
    tag_names: Sequence[str] | None = None,
    playback: Playback | None = None,
    prevent_thread_lock: bool = False,
    **launch_kwargs: Any,
) -> gr.Blocks:
    """Build and launch the app (no share link, no telemetry); returns the Blocks.

    Sign-in is required whenever a user exists; with none, the app is read-only and only
    a loopback ``host`` is allowed (``qa serve`` says how to add a user).
    """
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    with session_scope(engine) as s:
        access = Access(engine, sign_in=has_users(session=s))
    if not access.sign_in and not is_loopback(host):
        raise ValueError(refuse_open_host(host))
    demo = build_app(engine, tag_names=tag_names, access=access, playback=playback)
    launch_kwargs.setdefault("quiet", True)
    launch_kwargs.setdefault("show_error", True)
    if access.sign_in:
        launch_kwargs.setdefault("auth", access.check_password)
        launch_kwargs.setdefault("auth_message", "Sign in with your callqa user name.")
    app_kwargs = dict(launch_kwargs.pop("app_kwargs", None) or {})
    gate = Middleware(RoleGate, access=access)  # 401 before queueing, per event and role
    app_kwargs["middleware"] = [*app_kwargs.get("middleware", []), gate]
    if playback is not None:
        atexit.register(playback.close)
        if not prevent_thread_lock:  # launch() blocks this thread until the server stops
            _exit_on_sigterm()
    demo.launch(
        server_name=host,
        server_port=port,
        share=False,
        prevent_thread_lock=prevent_thread_lock,
        app_kwargs=app_kwargs,
        **launch_kwargs,
    )
    return demo


def _exit_on_sigterm() -> None:
    """Turn SIGTERM (systemd, docker stop, kill) into a normal exit, so the private media
    folder is removed as on Ctrl+C; only possible from the main thread."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))


def is_loopback(host: str) -> bool:
    """Whether ``host`` binds only this machine (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refuse_open_host(host: str) -> str:
    """Why an open ``--host`` is refused while no user exists, and what to do."""
    return (
        f"refusing to serve on {host} without sign-in: no user exists, so anyone who reaches "
        "the port could read every call. Add one first:  qa users add NAME --role lead  "
        "(then qa serve asks everyone to sign in), or serve on 127.0.0.1"
    )

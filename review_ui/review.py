"""The review UI's Review tab: filter calls, open one, read the tagged transcript, decide.

``build_review_tab(demo, engine, access, ...)`` is called inside ``build_app``'s
``gr.Tabs()``. Endpoints: ``list_calls`` (the filters), ``open_call``, ``confirm_tag``,
``reject_tag``, ``add_tag``, ``save_review``, ``play_original``. Reads and writes go through
``qa.store.api``; every write takes the signed-in user as its reviewer and needs a role that
grants it (``review_ui.access``); recordings play through ``qa.review.playback`` (confined,
redacted). On page load the filters and the table fill in, and ``?call=ID`` opens that call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import gradio as gr

from qa.auth import Identity, Permission
from qa.review.playback import Playback, PlaybackError
from qa.store import api as store
from qa.store.reads import CallNotFound
from review_ui import render
from review_ui.insights import call_from_query
from review_ui.review_layout import ALL, ANY, calls_table, review_layout

if TYPE_CHECKING:
    from qa.store.api import Engine
    from review_ui.access import Access

DEFAULT_SCORECARD = (
    "Greeted and verified the customer",
    "Understood the issue without making them repeat it",
    "Resolved the issue or set a clear next step",
    "Polite and empathetic throughout",
)
PRIVATE: dict[str, Any] = {"api_visibility": "private"}


def _int_or_none(value: Any) -> int | None:
    if value is None or value in ("", ANY) or (isinstance(value, float) and value != value):
        return None
    return int(value)


def _audio(engine: Engine, playback: Playback | None, call_id: int, *, original: bool = False):  # type: ignore[no-untyped-def]
    """The audio player's update for a call, and a note when it cannot play."""
    if playback is None:
        return gr.update(value=None, visible=False), " Audio off: no recordings root given."
    try:
        clip = store.transact(engine, playback.clip, call_id=call_id, original=original)
    except PlaybackError as exc:
        return gr.update(value=None, visible=False), f" Audio not played: {exc}."
    if clip is None:
        return gr.update(value=None, visible=False), ""
    label = "Recording (redacted)" if clip.redacted else "Recording (original)"
    return gr.update(value=str(clip.path), visible=True, label=label), ""


class _Screen:
    """The Review tab's handlers over one database (the tab's events call these)."""

    def __init__(
        self,
        engine: Engine,
        playback: Playback | None,
        tag_names: Sequence[str],
        scorecard_items: Sequence[str],
    ) -> None:
        self.engine, self.playback = engine, playback
        self.tag_names, self.scorecard_items = list(tag_names), tuple(scorecard_items)

    def list_calls(self, agent, tag, csat_min, csat_max, reviewed):  # type: ignore[no-untyped-def]
        flag = {"reviewed": True, "unreviewed": False}.get(reviewed or "all")
        rows = store.list_calls(
            self.engine,
            agent=agent or None,
            tag=tag or None,
            csat_min=_int_or_none(csat_min),
            csat_max=_int_or_none(csat_max),
            reviewed=flag,
        )
        return calls_table(rows)

    def load_page(self):  # type: ignore[no-untyped-def]
        """The filters' choices (agents with their call counts, every known tag), the table."""
        agents = [("All agents", ALL)] + [
            (f"{a.agent_name or a.agent_id} ({a.calls})", a.agent_id)
            for a in store.list_agents(self.engine)
        ]
        names = sorted(set(self.tag_names) | set(store.list_tag_names(self.engine)))
        tags = [("All tags", ALL)] + [(n, n) for n in names]
        return (gr.update(choices=agents, value=ALL), gr.update(choices=tags, value=ALL),
                self.list_calls(ALL, ALL, ANY, ANY, "all"))  # fmt: skip

    def open_call(self, call_id):  # type: ignore[no-untyped-def]
        return self.show(call_id)

    def show(self, call_id, message: str | None = None, keep: str | None = None):  # type: ignore[no-untyped-def]
        cid = _int_or_none(call_id)
        try:
            if cid is None:
                raise CallNotFound("type a call id (the first column of the table)")
            d = store.call_detail(self.engine, cid)
        except CallNotFound as exc:
            empty = '<div class="qa-empty">No call open.</div>'
            no_audio = gr.update(value=None, visible=False)
            no_tags = gr.update(choices=[], value=None)
            return empty, no_audio, "", "", "", no_tags, f"**Not found:** {exc}"
        audio, audio_note = _audio(self.engine, self.playback, d.id)
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

    def decide(self, call_id, tag, who: Identity, present: bool, verb: str):  # type: ignore[no-untyped-def]
        cid = _int_or_none(call_id)
        if cid is None or not tag:
            return (*self.show(cid)[:-1], "**Not saved:** open a call and choose a tag first.")
        try:
            store.record_tag_decision(
                self.engine, call_id=cid, tag=tag, present=present, reviewer=who.name
            )
        except (CallNotFound, ValueError) as exc:
            return (*self.show(cid)[:-1], f"**Not saved:** {exc}")
        saved = f"**Saved.** {verb} tag “{tag}” on call #{cid} as {who.name}."
        return self.show(cid, saved, keep=tag)

    def save_review(self, call_id, checked, notes, who: Identity) -> str:  # type: ignore[no-untyped-def]
        cid = _int_or_none(call_id)
        if cid is None:
            return "**Not saved:** open a call first."
        answers = {item: item in (checked or []) for item in self.scorecard_items}
        try:
            store.add_review(self.engine, call_id=cid, reviewer=who.name, scorecard=answers,
                             notes=notes or "")  # fmt: skip
        except CallNotFound as exc:
            return f"**Not saved:** {exc}"
        return f"**Saved.** Review of call #{cid} ({sum(answers.values())}/{len(answers)} items)."

    def play_original(self, call_id, who: Identity):  # type: ignore[no-untyped-def]
        cid = _int_or_none(call_id)
        if cid is None:
            return gr.update(), "Open a call first."
        audio, note = _audio(self.engine, self.playback, cid, original=True)
        return audio, f"Playing the original recording of call #{cid} ({who.name}).{note}"


def _pick_row(evt: gr.SelectData):  # type: ignore[no-untyped-def]
    row = evt.row_value or []
    return _int_or_none(row[0]) if row else None


def build_review_tab(
    demo: gr.Blocks,
    engine: Engine,
    access: Access,
    *,
    tag_names: Sequence[str] = (),
    scorecard_items: Sequence[str] = DEFAULT_SCORECARD,
    playback: Playback | None = None,
) -> gr.Tab:
    """Add the Review tab (call inside ``gr.Tabs()`` in the ``demo`` Blocks); returns the tab.

    ``tag_names`` (the taxonomy's) are offered for "add a tag" and, with every stored tag, in
    the tag filter. Decisions need ``decide_tags``, a review ``review``, the original
    recording ``play_original`` (and a ``redacted+original`` deployment).
    """
    screen = _Screen(engine, playback, tag_names, scorecard_items)
    original_audio = playback is not None and playback.redaction == "redacted+original"
    with gr.Tab("Review", id="review", elem_id="review-tab") as tab:
        ui = review_layout(screen.tag_names, scorecard_items, original_audio=original_audio)

    @access.needs(Permission.decide_tags)
    def confirm_tag(call_id, tag, request: gr.Request, *, who: Identity):  # type: ignore[no-untyped-def]
        return screen.decide(call_id, tag, who, True, "Confirmed")

    @access.needs(Permission.decide_tags)
    def reject_tag(call_id, tag, request: gr.Request, *, who: Identity):  # type: ignore[no-untyped-def]
        return screen.decide(call_id, tag, who, False, "Rejected")

    @access.needs(Permission.decide_tags)
    def add_tag(call_id, tag, request: gr.Request, *, who: Identity):  # type: ignore[no-untyped-def]
        return screen.decide(call_id, tag, who, True, "Added")

    @access.needs(Permission.review)
    def save_review(call_id, checked, notes, request: gr.Request, *, who: Identity):  # type: ignore[no-untyped-def]
        return screen.save_review(call_id, checked, notes, who)

    @access.needs(Permission.play_original)
    def play_original(call_id, request: gr.Request, *, who: Identity):  # type: ignore[no-untyped-def]
        return screen.play_original(call_id, who)

    demo.load(screen.load_page, None, [ui.agent_dd, ui.tag_dd, ui.table], **PRIVATE)
    # ?call=ID (external or database id) opens that call: the report's links land here.
    linked = call_from_query(engine, screen.show, len(ui.detail))
    demo.load(linked, None, [ui.call_id, *ui.detail], **PRIVATE)
    refresh = (screen.list_calls, ui.filters, ui.table)
    ui.apply_btn.click(*refresh, api_name="list_calls")
    for f in ui.filters:
        f.input(*refresh, **PRIVATE)
    ui.open_btn.click(screen.open_call, [ui.call_id], ui.detail, api_name="open_call")
    ui.call_id.submit(screen.open_call, [ui.call_id], ui.detail, **PRIVATE)
    ui.table.select(_pick_row, None, ui.call_id, **PRIVATE).then(
        screen.open_call, [ui.call_id], ui.detail, **PRIVATE
    )
    for btn, fn, choice in ((ui.confirm_btn, confirm_tag, ui.tag_choice),
                            (ui.reject_btn, reject_tag, ui.tag_choice),
                            (ui.add_btn, add_tag, ui.add_choice)):  # fmt: skip
        btn.click(fn, [ui.call_id, choice], ui.detail, api_name=fn.__name__).then(
            *refresh, **PRIVATE
        )
    ui.review_btn.click(
        save_review, [ui.call_id, ui.checks, ui.notes], ui.status, api_name="save_review"
    ).then(*refresh, **PRIVATE)
    ui.original_btn.click(
        play_original, [ui.call_id], [ui.audio, ui.status], api_name="play_original"
    )
    return tab

"""The review UI's Review tab: filter calls or take the next from a queue, open one, read
the tagged transcript, decide, fill the scorecard.

``build_review_tab(demo, engine, access, ...)`` is called inside ``build_app``'s
``gr.Tabs()``. Endpoints: ``list_calls`` (the filters), ``open_call``, ``next_call`` (the
review queue, ``qa.review.queue``), ``confirm_tag``, ``reject_tag``, ``add_tag`` (each
appends a decision, for the whole call or one piece of evidence), ``save_review`` (the
scorecard, ``qa.review.scorecard``), ``play_original``. Reads and writes go through
``qa.store.api``; every write takes the signed-in user as its reviewer and needs a role that
grants it (``review_ui.access``); recordings play through ``qa.review.playback`` (confined,
redacted). A call in an open calibration round is shown blind to reviewers (only their own
decisions and reviews), and what they save there belongs to the round. On page load the
filters and the table fill in from the URL (``?agent=..&tag=..&p=3``), and ``?call=ID``
opens that call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import gradio as gr

from qa.auth import Identity, Permission
from qa.review.calibration import open_round_of
from qa.review.playback import Playback, PlaybackError
from qa.review.queue import next_call
from qa.review.reviews import save_review
from qa.review.scorecard import Scorecard, prefill, score
from qa.store import api as store
from qa.store.callfilter import CallFilter
from qa.store.effective import LEAD_ROLES
from qa.store.reads import CallDetail, CallNotFound
from review_ui import render
from review_ui.call_list import (
    CALL_URL_JS,
    INPUT_FIELDS,
    URL_JS,
    export_list,
    filter_choices,
    inputs_from_filter,
    list_page,
    period_bounds,
)
from review_ui.coaching import wire_pack_adder
from review_ui.exports import ExportFolder, UiAddress
from review_ui.history import decision_targets, parse_target, render_history
from review_ui.insights import call_from_query
from review_ui.review_layout import ReviewTab, review_layout

if TYPE_CHECKING:
    from qa.store.api import Engine
    from review_ui.access import Access

PRIVATE: dict[str, Any] = {"api_visibility": "private"}


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "" or (isinstance(value, float) and value != value):
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


def _answer_value(value: Any) -> str | None:
    return None if value is None else str(value)


class _Screen:
    """The Review tab's handlers over one database (the tab's events call these)."""

    def __init__(
        self,
        engine: Engine,
        access: Access,
        playback: Playback | None,
        tag_names: Sequence[str],
        card: Scorecard | None,
    ) -> None:
        self.engine, self.access, self.playback = engine, access, playback
        self.tag_names, self.card = list(tag_names), card

    def list_calls(self, *values):  # type: ignore[no-untyped-def]
        """One page of the call list for the inputs (``call_list.INPUT_FIELDS`` order):
        (table, count line, page, URL query)."""
        return list_page(self.engine, dict(zip(INPUT_FIELDS, values, strict=True)))

    def list_first_page(self, *values):  # type: ignore[no-untyped-def]
        """As :meth:`list_calls` from page 1 (a filter changed)."""
        return self.list_calls(*values[:-1], 1)

    def list_step(self, step: int):  # type: ignore[no-untyped-def]
        def handler(*values):  # type: ignore[no-untyped-def]
            page = max(1, (_int_or_none(values[-1]) or 1) + step)
            return self.list_calls(*values[:-1], page)

        return handler

    def load_page(self, request: gr.Request):  # type: ignore[no-untyped-def]
        """The filters' choices, their values from the URL (``?agent=..&tag=..&p=3``;
        a bad value is reported and ignored), and that page of the list."""
        choices = filter_choices(self.engine, self.tag_names)
        params = dict(request.query_params) if request is not None else {}
        try:
            flt = CallFilter.from_query(params)
            note = ""
        except ValueError as exc:
            flt, note = CallFilter(), f"**Link filter ignored:** {exc}"
        values = inputs_from_filter(flt)
        updates = []
        for name in INPUT_FIELDS:
            key = "tags" if name.startswith("tags_") else name
            if key in choices:
                updates.append(gr.update(choices=choices[key], value=values[name]))
            else:
                updates.append(gr.update(value=values[name]))
        table, count, _, query = self.list_calls(*(values[n] for n in INPUT_FIELDS))
        return (*updates, table, f"{note} {count}".strip(), query)

    def viewer(self, request: gr.Request | None) -> Identity | None:
        return self.access.identity(getattr(request, "username", None))

    def round_for(self, call_id: int, who: Identity | None) -> int | None:
        """The open calibration round a reviewer answers this call in (leads see all)."""
        if who is None or who.role in LEAD_ROLES:
            return None
        return store.transact(self.engine, open_round_of, call_id=call_id)

    def open_call(self, call_id, request: gr.Request):  # type: ignore[no-untyped-def]
        return self.show(call_id, who=self.viewer(request))

    def open_found(self, call_id, search, request: gr.Request):  # type: ignore[no-untyped-def]
        """Open a call from the list, marking where the list's search matched."""
        return self.show(call_id, who=self.viewer(request), search=search or "")

    def found(self, call_id: int, search: str) -> tuple[dict[int, Any], tuple[Any, ...]]:
        """Where the list's search matched in a call: turn index -> spans, comment spans."""
        if not search.strip():
            return {}, ()
        try:
            matches = store.search_matches(self.engine, call_id, search)
        except ValueError:
            return {}, ()
        turns = {m.turn_index: m.spans for m in matches if m.turn_index is not None}
        comment = next((m.spans for m in matches if m.turn_index is None), ())
        return turns, comment

    def _answers(self, d: CallDetail, who: Identity | None) -> tuple[list[Any], str, str]:
        """The scorecard as this viewer left it (their latest review of the call), else
        pre-filled from the call's tags; the notes; the score line."""
        if self.card is None:
            return [], "", ""
        mine = [r for r in d.reviews if who is not None and r.reviewer == who.name]
        if mine:
            given, notes = mine[-1].scorecard, mine[-1].notes
            origin = f"Your review of {mine[-1].created_at:%Y-%m-%d %H:%M}"
        else:
            given, notes = prefill(self.card, d.present_tags), ""
            origin = "Pre-filled from the call's tags" if given else "Not reviewed yet"
        values = [_answer_value(given.get(q.id)) for q in self.card.questions()]
        return values, notes, f"{origin} · {self._score_line(given)}"

    def _score_line(self, answers: dict[str, Any]) -> str:
        result = score(self.card, answers) if self.card else None  # type: ignore[arg-type]
        if result is None or result.score is None:
            return "score —"
        failed = " (auto-fail)" if result.auto_failed else ""
        return f"score **{result.score:.1f}**/100{failed}"

    def show(self, call_id, message: str | None = None, keep: str | None = None,  # type: ignore[no-untyped-def]
             who: Identity | None = None, search: str = ""):  # fmt: skip
        cid = _int_or_none(call_id)
        n_answers = len(self.card.questions()) if self.card else 0
        try:
            if cid is None:
                raise CallNotFound("type a call id (the first column of the table)")
            round_id = self.round_for(cid, who)
            blind = who.name if round_id is not None and who is not None else None
            d = store.call_detail(self.engine, cid, blind_for=blind)
        except CallNotFound as exc:
            empty = '<div class="qa-empty">No call open.</div>'
            no_audio = gr.update(value=None, visible=False)
            no_tags = gr.update(choices=[], value=None)
            blanks = [None] * n_answers
            return (empty, no_audio, "", "", "", no_tags, "", *blanks, "", "",
                    f"**Not found:** {exc}")  # fmt: skip
        audio, audio_note = _audio(self.engine, self.playback, d.id)
        targets = decision_targets(d)
        values = [v for _, v in targets]
        live = [v for v in values if v in d.present_tags]
        current = keep if keep in values else (live or values or [None])[0]
        answers, notes, score_line = self._answers(d, who)
        in_turns, in_comment = self.found(d.id, search)
        found_note = f" Search “{search.strip()}” is marked." if in_turns or in_comment else ""
        blind_note = (f" Calibration round {round_id}: you see only your own answers."
                      if blind else "")  # fmt: skip
        return (
            render.render_header(d),
            audio,
            render.render_survey(d.survey, d.tags, in_comment),
            render.render_transcript(d.turns, d.tags, in_turns),
            render.render_tags(d.tags, turns=d.turns),
            gr.update(choices=targets, value=current),
            render_history(d),
            *answers,
            notes,
            score_line,
            (message or f"Opened call #{d.id} ({d.external_id}).")
            + blind_note
            + audio_note
            + found_note,
        )

    def decide(self, call_id, target, comment, who: Identity, present: bool, verb: str):  # type: ignore[no-untyped-def]
        cid = _int_or_none(call_id)
        if cid is None or not target:
            return (*self.show(cid, who=who)[:-1],
                    "**Not saved:** open a call and choose a tag first.")  # fmt: skip
        try:
            name, evidence = parse_target(target)
            store.record_tag_decision(
                self.engine, call_id=cid, tag=name, present=present, reviewer=who.name,
                role=who.role, evidence=evidence, comment=(comment or "").strip(),
                round_id=self.round_for(cid, who),
            )  # fmt: skip
        except (CallNotFound, ValueError) as exc:
            return (*self.show(cid, who=who)[:-1], f"**Not saved:** {exc}")
        scope = "the whole call" if evidence is None else "this evidence"
        saved = f"**Saved.** {verb} “{name}” for {scope} on call #{cid} as {who.name}."
        return self.show(cid, saved, keep=target, who=who)

    def save_review(self, call_id, answers, notes, who: Identity):  # type: ignore[no-untyped-def]
        cid = _int_or_none(call_id)
        if cid is None:
            return "**Not saved:** open a call first.", ""
        if self.card is None:
            return "**Not saved:** no scorecard is set up (models/scorecards/).", ""
        given = {q.id: a for q, a in zip(self.card.questions(), answers, strict=True)
                 if a not in (None, "")}  # fmt: skip
        try:
            review = store.transact(
                self.engine, save_review, call_id=cid, reviewer=who.name, card=self.card,
                answers=given, notes=notes or "", round_id=self.round_for(cid, who),
            )  # fmt: skip
        except (CallNotFound, ValueError) as exc:
            return f"**Not saved:** {exc}", ""
        shown = "—" if review.score is None else f"{review.score:.1f}/100"
        failed = " (auto-fail)" if review.auto_failed else ""
        done = f"**Saved** review of call #{cid}: score {shown}{failed}, {len(given)} answers."
        return done, self._score_line(given)

    def next_call(self, queue, current, who: Identity):  # type: ignore[no-untyped-def]
        exclude = (cid,) if (cid := _int_or_none(current)) is not None else ()
        try:
            item = store.transact(self.engine, next_call, queue=queue or "uncertain",
                                  reviewer=who.name, exclude=exclude)  # fmt: skip
        except ValueError as exc:
            return (gr.update(), *self.show(current, who=who)[:-1], f"**Queue:** {exc}")
        if item is None:
            return (gr.update(), *self.show(current, who=who)[:-1],
                    f"**Queue “{queue}” is empty** for you right now.")  # fmt: skip
        shown = self.show(item.call_id, who=who)
        return (item.call_id, *shown[:-1], f"{shown[-1]} **Queue “{queue}”:** {item.reason}.")

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
    scorecard: Scorecard | None = None,
    playback: Playback | None = None,
    exports: ExportFolder | None = None,
    address: UiAddress | None = None,
) -> ReviewTab:
    """Add the Review tab (call inside ``gr.Tabs()`` in the ``demo`` Blocks); returns its
    components (the Coaching tab reads the call list's URL query).

    ``tag_names`` (the taxonomy's) are offered for "add a tag" and, with every stored tag, in
    the tag filter. ``scorecard``: the scorecard reviewers fill (None: none). Decisions need
    ``decide_tags``; a review and the queue ``review``; the original recording
    ``play_original`` (and a ``redacted+original`` deployment). ``exports``: where the list's
    CSV is written; ``address``: the base of the links in it.
    """
    screen = _Screen(engine, access, playback, tag_names, scorecard)
    exports = exports or ExportFolder()
    address = address or UiAddress()
    original_audio = playback is not None and playback.redaction == "redacted+original"
    with gr.Tab("Review", id="review", elem_id="review-tab"):
        ui = review_layout(screen.tag_names, scorecard, original_audio=original_audio)

    @access.needs(Permission.decide_tags)
    def confirm_tag(call_id, tag, comment, request: gr.Request, *, who: Identity):  # type: ignore[no-untyped-def]
        return screen.decide(call_id, tag, comment, who, True, "Confirmed")

    @access.needs(Permission.decide_tags)
    def reject_tag(call_id, tag, comment, request: gr.Request, *, who: Identity):  # type: ignore[no-untyped-def]
        return screen.decide(call_id, tag, comment, who, False, "Rejected")

    @access.needs(Permission.decide_tags)
    def add_tag(call_id, tag, comment, request: gr.Request, *, who: Identity):  # type: ignore[no-untyped-def]
        return screen.decide(call_id, tag, comment, who, True, "Added")

    @access.needs(Permission.review)
    def save_review(request: gr.Request, call_id, *values, who: Identity):  # type: ignore[no-untyped-def]
        # The request comes first: Gradio passes it by position, and the answers (one per
        # scorecard question) are variadic.
        *answers, notes = values
        return screen.save_review(call_id, answers, notes, who)

    @access.needs(Permission.review)
    def next_call(queue, current, request: gr.Request, *, who: Identity):  # type: ignore[no-untyped-def]
        return screen.next_call(queue, current, who)

    @access.needs(Permission.play_original)
    def play_original(call_id, request: gr.Request, *, who: Identity):  # type: ignore[no-untyped-def]
        return screen.play_original(call_id, who)

    calls = ui.calls
    listed = [calls.table, calls.count, calls.page, calls.query]
    remember = {"fn": None, "inputs": [calls.query], "outputs": None, "js": URL_JS, **PRIVATE}
    demo.load(screen.load_page, None, [*calls.inputs, calls.table, calls.count, calls.query],
              **PRIVATE)  # fmt: skip
    # ?call=ID (external or database id) opens that call: the report's links land here.
    linked = call_from_query(engine, screen.show, len(ui.detail), viewer=screen.viewer)
    demo.load(linked, None, [ui.call_id, *ui.detail], **PRIVATE)
    refresh = (screen.list_calls, calls.inputs, listed)
    ui.apply_btn.click(*refresh, api_name="list_calls").then(**remember)
    first_page = (screen.list_first_page, calls.inputs, listed)
    for f in calls.inputs:
        if f is calls.page:
            f.submit(*refresh, **PRIVATE).then(**remember)
        elif f is calls.search or f is calls.since or f is calls.until:
            f.submit(*first_page, **PRIVATE).then(**remember)
        else:
            f.input(*first_page, **PRIVATE).then(**remember)
    calls.prev_btn.click(screen.list_step(-1), calls.inputs, listed, **PRIVATE).then(**remember)
    calls.next_btn.click(screen.list_step(+1), calls.inputs, listed, **PRIVATE).then(**remember)

    @access.needs(Permission.read)
    def download(request: gr.Request, *values, who: Identity):  # type: ignore[no-untyped-def]
        return export_list(engine, dict(zip(INPUT_FIELDS, values, strict=True)),
                           address.for_request(request), exports)  # fmt: skip

    calls.download_btn.click(download, calls.inputs, [calls.download, calls.count],
                             api_name="export_calls")  # fmt: skip
    calls.period.input(period_bounds, [calls.period], [calls.since, calls.until],
                       **PRIVATE).then(*first_page, **PRIVATE).then(**remember)  # fmt: skip
    opened = {"fn": None, "inputs": [ui.call_id], "outputs": None, "js": CALL_URL_JS, **PRIVATE}
    ui.open_btn.click(screen.open_call, [ui.call_id], ui.detail, api_name="open_call").then(
        **opened
    )
    ui.call_id.submit(screen.open_found, [ui.call_id, calls.search], ui.detail,
                      **PRIVATE).then(**opened)  # fmt: skip
    ui.table.select(_pick_row, None, ui.call_id, **PRIVATE).then(
        screen.open_found, [ui.call_id, calls.search], ui.detail, **PRIVATE
    ).then(**opened)
    ui.next_btn.click(next_call, [ui.queue_choice, ui.call_id], [ui.call_id, *ui.detail],
                      api_name="next_call").then(**opened)  # fmt: skip
    for btn, fn, choice in ((ui.confirm_btn, confirm_tag, ui.tag_choice),
                            (ui.reject_btn, reject_tag, ui.tag_choice),
                            (ui.add_btn, add_tag, ui.add_choice)):  # fmt: skip
        btn.click(fn, [ui.call_id, choice, ui.comment], ui.detail, api_name=fn.__name__).then(
            *refresh, **PRIVATE
        )
    ui.review_btn.click(
        save_review, [ui.call_id, *ui.answers, ui.notes], [ui.review_status, ui.score_md],
        api_name="save_review",
    ).then(*refresh, **PRIVATE)  # fmt: skip
    ui.original_btn.click(
        play_original, [ui.call_id], [ui.audio, ui.status], api_name="play_original"
    )
    wire_pack_adder(ui, engine, access)
    return ui

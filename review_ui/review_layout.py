"""The Review tab's components: the call list (``review_ui.call_list``), the call view and
the decision controls, each with the ``elem_id`` the browser tests and the CSS rely on.

``review_layout`` places them (inside the tab) and returns them as a ``ReviewTab``; the tab's
events are wired in ``review_ui.review``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from qa.review.queue import QUEUES
from qa.review.scorecard import Scorecard
from review_ui import render
from review_ui.call_list import CallListUI, call_list_layout


def _dropdown(
    label: str, elem_id: str, choices: Sequence[Any] = (), value: Any = None, **kw: Any
) -> gr.Dropdown:
    """A dropdown that also accepts values outside its (possibly stale) choices."""
    return gr.Dropdown(list(choices), value=value, label=label, elem_id=elem_id,
                       allow_custom_value=True, **kw)  # fmt: skip


@dataclass
class ReviewTab:
    """The Review tab's components (built by :func:`review_layout`)."""

    calls: CallListUI
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
    answers: list[Any]
    notes: Any
    review_btn: Any
    queue_choice: Any
    next_btn: Any
    comment: Any
    history: Any
    score_md: Any
    review_status: Any
    pack_choice: Any
    pack_note: Any
    pack_btn: Any
    pack_status: Any

    @property
    def detail(self) -> list[Any]:
        """The outputs of opening a call (the status line last)."""
        return [self.header, self.audio, self.survey, self.transcript, self.tags_html,
                self.tag_choice, self.history, *self.answers, self.notes, self.score_md,
                self.status]  # fmt: skip


QUEUE_LABELS = {
    "uncertain": "Uncertain model tags",
    "worst": "Worst first (lowest CSAT)",
    "coverage": "Coverage (calls per agent per week)",
    "calibration": "Calibration round",
}


def _scorecard(card: Scorecard | None) -> list[Any]:
    """One radio per question, under its section's title; [] without a scorecard."""
    if card is None:
        gr.Markdown("No scorecard: add one under models/scorecards/.")
        return []
    radios = []
    gr.Markdown(f"**{card.title}** · v{card.version}", elem_id="scorecard-title")
    for section in card.sections:
        gr.Markdown(f"#### {section.title}")
        for q in section.questions:
            label = q.text + (" · auto-fail" if q.auto_fail else "")
            choices = [("N/A" if c == "na" else str(c), str(c)) for c in q.choices()]
            radios.append(gr.Radio(choices, label=label, elem_id=f"sc-{q.id}",
                                   elem_classes="qa-question"))  # fmt: skip
    return radios


def review_layout(
    tag_names: list[str], card: Scorecard | None, *, original_audio: bool
) -> ReviewTab:
    small: dict[str, Any] = {"scale": 0, "min_width": 120}
    calls = call_list_layout(tag_names)
    with gr.Row(equal_height=True):
        call_id = gr.Number(label="Call id", precision=0, elem_id="call-id", **small)
        open_btn = gr.Button("Open call", variant="primary", elem_id="open-call", **small)
        apply_btn = gr.Button("Refresh list", elem_id="apply-filters", **small)
        queues = [(QUEUE_LABELS[q], q) for q in QUEUES]
        queue_choice = gr.Dropdown(queues, value=QUEUES[0], label="Review queue",
                                   elem_id="queue-choice", scale=1)  # fmt: skip
        next_btn = gr.Button("Next call ( ] )", variant="primary", elem_id="next-call", **small)
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
            tag_choice = _dropdown("Decide on (tag for the whole call, or one piece of evidence)",
                                   "tag-choice")  # fmt: skip
            comment = gr.Textbox(label="Comment (optional, kept with the decision)", lines=1,
                                 elem_id="decision-comment")  # fmt: skip
            with gr.Row():
                confirm_btn = gr.Button("Confirm ( y )", elem_id="confirm-tag")
                reject_btn = gr.Button("Reject ( n )", variant="stop", elem_id="reject-tag")
            with gr.Row():
                first = tag_names[0] if tag_names else None
                add_choice = _dropdown("Add a tag the machine missed", "add-tag-choice",
                                       tag_names, first)  # fmt: skip
                add_btn = gr.Button("Add tag", elem_id="add-tag", **small)
            with gr.Row(equal_height=True):
                # What "Decide on" names (a piece of evidence, or the whole call) goes to a
                # coaching pack; a new name makes a new pack (review_ui.coaching).
                pack_choice = _dropdown("Coaching pack (pick, or type a new name)",
                                        "add-pack-choice", [], None, scale=2)  # fmt: skip
                pack_note = gr.Textbox(label="Note for the agent", lines=1,
                                       elem_id="add-pack-note", scale=2)  # fmt: skip
                pack_btn = gr.Button("Add to pack", elem_id="add-to-pack", **small)
            pack_status = gr.Markdown("", elem_id="add-pack-status")
            with gr.Accordion("Scorecard", open=True, elem_id="scorecard-box"):
                answers = _scorecard(card)
                notes = gr.Textbox(label="Notes", lines=2, elem_id="review-notes")
                review_btn = gr.Button("Save review", elem_id="save-review")
                score_md = gr.Markdown("", elem_id="scorecard-score")
                review_status = gr.Markdown("", elem_id="review-status")
            with gr.Accordion("History (decisions and reviews)", open=False):
                history = gr.HTML(css_template=render.CSS, elem_id="history")
    return ReviewTab(
        calls, calls.table, call_id,
        open_btn, apply_btn, status, header, audio, original_btn, survey, transcript,
        tags_html, tag_choice, confirm_btn, reject_btn, add_choice, add_btn, answers, notes,
        review_btn, queue_choice, next_btn, comment, history, score_md, review_status,
        pack_choice, pack_note, pack_btn, pack_status,
    )  # fmt: skip

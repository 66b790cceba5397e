"""The review UI's Calibration tab: rounds, agreement, and where reviewers disagree.

``build_calibration_tab(engine, access)`` is called inside ``build_app``'s ``gr.Tabs()``. A
lead picks the calls of a round (``create_round``: a name and call ids) and closes it when
done (``close_round``); reviewers answer a round's calls blind in the Review tab (the
*calibration* queue serves them). Everyone sees the agreement table of a round, or of all
decisions and reviews: per tag and per scorecard question, Krippendorff's alpha, Cohen's or
Fleiss' kappa, the observed agreement and the numbers of items and raters
(``qa.review.calibration.agreement_report``, the same numbers as ``qa agreement``). Below it,
"where reviewers disagree": each call on which raters differ, with every rater's answer and
a ``?call=`` link. While a round is open, what was said in it is shown to leads only (in the
round's view and in "all"), so the round stays blind. Endpoints: ``calibration`` (refresh:
round -> table, disagreements, status, rounds), ``create_round`` and ``close_round`` (lead
only).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING, Any

import gradio as gr
import pandas as pd

from qa.auth import Identity, Permission, can
from qa.store.api import transact
from qa.store.callfilter import call_url
from review_ui.access import Access

if TYPE_CHECKING:
    from qa.review.agreement import Agreement
    from qa.review.calibration import Disagreement, RoundView
    from qa.store.api import Engine

ALL = "all"
COLUMNS = ["kind", "subject", "items", "raters", "alpha", "kappa", "observed", "disagree on"]
EMPTY = "No decisions or reviews to compare yet."
MAX_DISAGREEMENTS = 200


def round_label(rnd: RoundView) -> str:
    """``R3 · March week 2 · open · 4 calls · rita 2, lena 4`` (the dropdown's text)."""
    state = "closed" if rnd.closed else "open"
    answered = ", ".join(f"{who} {n}" for who, n in rnd.answered.items()) or "no answers yet"
    return f"R{rnd.id} · {rnd.name} · {state} · {len(rnd.calls)} calls · {answered}"


def round_choices(engine: Engine) -> list[tuple[str, str]]:
    """Dropdown choices: every decision and review, then each round, newest first."""
    from qa.review.calibration import list_rounds

    rounds = transact(engine, list_rounds)
    return [("All decisions and reviews", ALL)] + [(round_label(r), str(r.id)) for r in rounds]


def parse_round(value: Any) -> int | None:
    """The round id in a dropdown value (``"3"``, ``"R3 · …"``); None for all."""
    text = str(value or "").strip().removeprefix("R").split(" ", 1)[0]
    return int(text) if text.isdigit() else None


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def agreement_table(rows: Sequence[Agreement]) -> pd.DataFrame:
    """One row per tag or question: its measures and the calls it is disagreed on."""
    data = [
        [
            r.kind,
            r.subject,
            r.items,
            r.raters,
            _num(r.alpha),
            f"{_num(r.kappa)} ({r.kappa_kind})" if r.kappa is not None else "",
            _num(r.observed),
            ", ".join(r.disagreements),
        ]
        for r in rows
    ]
    return pd.DataFrame(data, columns=COLUMNS)


def _answer(value: object) -> str:
    if value is True:
        return "present"
    if value is False:
        return "absent"
    return str(value)


def disagreements_html(rows: Sequence[Disagreement]) -> str:
    """A table: tag or question, call (a ``?call=`` link), and each rater's answer."""
    if not rows:
        return '<p class="empty">Reviewers agree on every call here.</p>'
    body = []
    for d in rows[:MAX_DISAGREEMENTS]:
        answers = "; ".join(
            f"<b>{escape(who)}</b>: {escape(_answer(v))}" for who, v in d.answers.items()
        )
        link = f'<a href="{escape(call_url("", d.item))}">{escape(d.item)}</a>'
        body.append(
            f"<tr><td>{escape(d.kind)}</td><td>{escape(d.subject)}</td>"
            f"<td>{link}</td><td>{answers}</td></tr>"
        )
    more = len(rows) - MAX_DISAGREEMENTS
    tail = f'<p class="empty">… and {more} more.</p>' if more > 0 else ""
    return (
        '<table class="qa-disagree"><thead><tr><th>kind</th><th>tag or question</th>'
        f"<th>call</th><th>answers</th></tr></thead><tbody>{''.join(body)}</tbody></table>{tail}"
    )


def render_calibration(
    engine: Engine, choice: Any, who: Identity | None
) -> tuple[pd.DataFrame, str, str]:
    """(agreement table, disagreements HTML, status) for a round (or all); an open round's
    answers are shown only to a role that may calibrate."""
    from qa.review.calibration import agreement_report, disagreements, list_rounds

    round_id = parse_round(choice)
    rounds = {r.id: r for r in transact(engine, list_rounds)}
    if round_id is not None and round_id not in rounds:
        empty = agreement_table([])
        return empty, "", f"**Not found:** no calibration round {round_id}"
    lead = who is not None and can(who.role, Permission.calibrate)
    if round_id is not None and not rounds[round_id].closed and not lead:
        hidden = ('<p class="empty">This round is open: reviewers\' answers stay hidden until '
                  "a lead closes it.</p>")  # fmt: skip
        return agreement_table([]), hidden, f"**{round_label(rounds[round_id])}**: open."
    # Everyone but a lead sees only what was said outside rounds that are still blind.
    closed_only = not lead
    rows = transact(engine, agreement_report, round_id=round_id, closed_only=closed_only)
    table = agreement_table(rows)
    scope = "all decisions and reviews" if round_id is None else round_label(rounds[round_id])
    if closed_only and round_id is None:
        scope += " (open rounds left out)"
    if not rows:
        return table, f'<p class="empty">{EMPTY}</p>', f"**{scope}**: {EMPTY}"
    found = transact(engine, disagreements, round_id=round_id, closed_only=closed_only)
    status = (
        f"**{scope}**: {len(rows)} tags and questions compared; "
        f"{len(found)} disagreements on {len({d.item for d in found})} calls."
    )
    return table, disagreements_html(found), status


def create(engine: Engine, who: Identity, name: str, calls_text: str) -> tuple[Any, str]:
    """Create a round over comma- or space-separated call ids; (rounds update, status)."""
    from qa.review.calibration import create_round
    from qa.store.reads import CallNotFound

    calls = [c for c in (calls_text or "").replace(",", " ").split() if c]
    try:
        rnd = transact(engine, create_round, name=name or "", calls=calls, created_by=who.name)
    except (ValueError, CallNotFound) as exc:
        return gr.update(), f"**Not created:** {exc}"
    choices = round_choices(engine)
    return (
        gr.update(choices=choices, value=str(rnd.id)),
        f"Created calibration round R{rnd.id} ({len(rnd.call_ids)} calls) as {who.name}: "
        "reviewers get its calls from the *calibration* queue.",
    )


def close(engine: Engine, who: Identity, choice: Any) -> tuple[Any, str]:
    """Close the chosen round; (rounds update, status)."""
    from qa.review.calibration import close_round

    round_id = parse_round(choice)
    if round_id is None:
        return gr.update(), "**Not closed:** choose a round first."
    try:
        transact(engine, close_round, round_id=round_id)
    except LookupError as exc:
        return gr.update(), f"**Not closed:** {exc}"
    choices = round_choices(engine)
    return gr.update(choices=choices, value=str(round_id)), f"Closed R{round_id} as {who.name}."


def build_calibration_tab(engine: Engine, access: Access) -> gr.Tab:
    """Add the Calibration tab (call inside ``gr.Tabs()`` in a ``gr.Blocks``)."""
    from qa.report.html import CSS

    private: dict[str, Any] = {"api_visibility": "private"}
    with gr.Tab("Calibration", id="calibration", elem_id="calibration-tab") as tab:
        with gr.Row(equal_height=True):
            choice = gr.Dropdown([("All decisions and reviews", ALL)], value=ALL,
                                 label="Round", allow_custom_value=True,
                                 elem_id="calibration-round", scale=3)  # fmt: skip
            refresh_btn = gr.Button("Refresh", variant="primary", elem_id="calibration-refresh",
                                    scale=0, min_width=120)  # fmt: skip
        status = gr.Markdown("Open this tab or press Refresh.", elem_id="calibration-status")
        table = gr.Dataframe(headers=COLUMNS, interactive=False, wrap=True, max_height=360,
                             label="Agreement per tag and scorecard question",
                             column_widths=["8%", "16%", "7%", "7%", "9%", "15%", "9%", "29%"],
                             elem_id="calibration-table")  # fmt: skip
        with gr.Accordion("Where reviewers disagree", open=True):
            detail = gr.HTML(css_template=CSS, elem_id="calibration-disagreements")
        with gr.Accordion("New round (leads)", open=False), gr.Row(equal_height=True):
            name = gr.Textbox(label="Name", placeholder="e.g. March week 2",
                              elem_id="calibration-name", scale=2)  # fmt: skip
            calls = gr.Textbox(label="Calls (ids, comma-separated)", placeholder="C-1001, C-1003",
                               elem_id="calibration-calls", scale=3)  # fmt: skip
            create_btn = gr.Button("Create round", elem_id="calibration-create",
                                   scale=0, min_width=140)  # fmt: skip
            close_btn = gr.Button("Close chosen round", elem_id="calibration-close",
                                  scale=0, min_width=140)  # fmt: skip

    def refresh(selected, request: gr.Request):  # type: ignore[no-untyped-def]
        who = access.identity(getattr(request, "username", None))
        table_df, html, line = render_calibration(engine, selected, who)
        choices = round_choices(engine)
        keep = selected if parse_round(selected) is not None else ALL
        return table_df, html, line, gr.update(choices=choices, value=keep)

    @access.needs(Permission.calibrate)
    def create_round(name_text, calls_text, request: gr.Request, *, who: Identity):  # type: ignore[no-untyped-def]
        return create(engine, who, name_text, calls_text)

    @access.needs(Permission.calibrate)
    def close_round(selected, request: gr.Request, *, who: Identity):  # type: ignore[no-untyped-def]
        return close(engine, who, selected)

    outputs = [table, detail, status, choice]
    refresh_btn.click(refresh, [choice], outputs, api_name="calibration")
    tab.select(refresh, [choice], outputs, **private)
    choice.input(refresh, [choice], outputs, **private)
    create_btn.click(create_round, [name, calls], [choice, status], api_name="create_round").then(
        refresh, [choice], outputs, **private
    )
    close_btn.click(close_round, [choice], [choice, status], api_name="close_round").then(
        refresh, [choice], outputs, **private
    )
    return tab

"""HTML for the review screen: call header, survey, transcript with tag evidence, tag list.

Pure functions over ``qa.store.reads`` dataclasses (no Gradio here), so they are unit-tested
directly. Every piece of stored text goes through ``html.escape``; tag evidence spans are
wrapped in ``<mark data-tag="...">``. Turns, their marks and the tag rows of turn evidence
carry ``data-start`` / ``data-end`` (seconds), which the workbench script
(``review_ui.workbench``) seeks the recording to.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape
from itertools import pairwise

from qa.store.reads import CallDetail, MetricsView, SurveyView, TagView, TurnView

SPEAKER_LABELS = {"agent": "Agent", "customer": "Customer"}
TAG_COLUMNS = ("tag", "method", "score", "where", "evidence", "decision")
PALETTE = ("#fde68a", "#bfdbfe", "#fecaca", "#bbf7d0", "#e9d5ff", "#fed7aa", "#a5f3fc", "#fbcfe8")

CSS = """
.qa-header { display: flex; flex-wrap: wrap; gap: 6px 18px; align-items: baseline; }
.qa-header h2 { margin: 0 12px 0 0; font-size: 1.25rem; }
.qa-kv { font-size: 0.9rem; }
.qa-kv b { color: var(--body-text-color-subdued); font-weight: 500; margin-right: 4px; }
.qa-badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 0.8rem;
  background: var(--background-fill-secondary); border: 1px solid var(--border-color-primary); }
.qa-scores { display: flex; gap: 10px; flex-wrap: wrap; margin-bottom: 8px; }
.qa-score { padding: 6px 12px; border-radius: 8px; border: 1px solid var(--border-color-primary);
  background: var(--background-fill-secondary); text-align: center; min-width: 64px; }
.qa-score .v { font-size: 1.2rem; font-weight: 600; display: block; }
.qa-score .k { font-size: 0.75rem; color: var(--body-text-color-subdued); }
.qa-comment { font-style: italic; padding: 6px 10px; border-left: 3px solid #94a3b8; }
.qa-transcript { display: flex; flex-direction: column; gap: 8px; max-height: 560px;
  overflow-y: auto; padding-right: 4px; }
.qa-turn { padding: 8px 12px; border-radius: 10px; max-width: 85%;
  border: 1px solid var(--border-color-primary); }
.qa-turn.agent { align-self: flex-start; background: var(--background-fill-secondary); }
.qa-turn.customer { align-self: flex-end; background: rgba(59, 130, 246, 0.08); }
.qa-turn .who { font-size: 0.78rem; font-weight: 600; color: var(--body-text-color-subdued); }
.qa-turn .ts { font-weight: 400; margin-left: 6px; font-variant-numeric: tabular-nums; }
.qa-turn .text { margin-top: 2px; line-height: 1.45; }
.qa-turn[data-start], mark.qa-mark[data-start], .qa-tags tr[data-start] { cursor: pointer; }
.qa-turn.qa-current { border-color: var(--color-accent); background: var(--color-accent-soft);
  box-shadow: 0 0 0 1px var(--color-accent); }
.qa-turn.qa-focus { outline: 2px dashed var(--color-accent); outline-offset: 2px; }
mark.qa-mark { background: var(--tag-color, #fde68a); color: #111827; padding: 0 2px;
  border-radius: 3px; }
mark.qa-mark.rejected { background: transparent; color: inherit; text-decoration: line-through;
  outline: 1px dashed #9ca3af; }
mark.qa-mark.confirmed { outline: 2px solid #16a34a; }
.qa-found { box-shadow: inset 0 -0.45em 0 #fb923c; font-weight: 600; }
.qa-chip { display: inline-block; font-size: 0.72rem; padding: 0 6px; border-radius: 999px;
  margin-left: 6px; color: #111827; background: var(--tag-color, #e5e7eb); white-space: nowrap; }
.qa-tags { width: 100%; border-collapse: collapse; font-size: 0.88rem; }
.qa-tags th, .qa-tags td { text-align: left; padding: 4px 8px; border: none;
  border-bottom: 1px solid var(--border-color-primary); vertical-align: top; }
.qa-tags td:first-child .qa-chip { margin-left: 0; }
.qa-tags tbody tr:hover { background: var(--background-fill-secondary); }
.qa-by { font-size: 0.75rem; font-weight: 400; color: var(--body-text-color-subdued); }
.qa-dec.confirmed { color: #16a34a; font-weight: 600; }
.qa-dec.rejected { color: #dc2626; font-weight: 600; }
.qa-empty { color: var(--body-text-color-subdued); font-style: italic; }
.qa-note { font-size: 0.78rem; color: var(--body-text-color-subdued); font-style: italic; }
"""

# The tag table's column widths (share of the table; fixed layout, so evidence wraps at a
# readable width instead of being squeezed to a few characters); below TAG_STACK_BELOW_PX
# its rows stack instead (see _tag_table_css).
TAG_COLUMN_WIDTHS = {
    "tag": 18, "method": 9, "score": 7, "where": 12, "evidence": 42, "decision": 12,
}  # fmt: skip
TAG_STACK_BELOW_PX = 720


def _tag_table_css(columns: Sequence[str] = TAG_COLUMNS) -> str:
    """CSS for ``render_tags``' table, by column name (kept in step with ``TAG_COLUMNS``).

    Wide (the table has room for six columns): fixed layout with :data:`TAG_COLUMN_WIDTHS`.
    Narrow (its box under :data:`TAG_STACK_BELOW_PX`, as in the review screen's side
    column): each row stacks into a line of tag, method, score, where and decision, with the
    evidence on the full width below, so a call's many tags stay a short list.
    """
    nth = {name: i for i, name in enumerate(columns, 1)}
    out = [
        "&:has(table.qa-tags) { container: qa-tags / inline-size; }",
        ".qa-tags { table-layout: fixed; margin: 0; padding: 0; border: none; }",
        ".qa-tags tr { margin: 0; border: none; }",
        ".qa-tags td, .qa-tags th { margin: 0; overflow-wrap: anywhere; }",
        ".qa-tags .qa-chip { white-space: normal; }",
    ]
    out += [
        f".qa-tags th:nth-child({nth[name]}) {{ width: {pct}%; }}"
        for name, pct in TAG_COLUMN_WIDTHS.items()
        if name in nth
    ]
    stacked = [
        ".qa-tags, .qa-tags tbody { display: block; }",
        ".qa-tags thead { display: none; }",
        ".qa-tags tr { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0 10px;"
        " padding: 3px 2px; border-bottom: 1px solid var(--border-color-primary);"
        " line-height: 1.35; }",
        ".qa-tags td { padding: 0; border: none; font-size: 0.8rem; }",
    ]
    if "evidence" in nth:
        stacked.append(
            f".qa-tags td:nth-child({nth['evidence']}) {{ order: 1; flex: 1 0 100%;"
            " font-size: 0.88rem; }"
        )
    if "score" in nth:
        stacked.append(
            f".qa-tags td:nth-child({nth['score']})::before {{ content: 'score ';"
            " color: var(--body-text-color-subdued); font-size: 0.75rem; }"
        )
    inner = "\n  ".join(stacked)
    out.append(f"@container qa-tags (max-width: {TAG_STACK_BELOW_PX}px) {{\n  {inner}\n}}")
    return "\n".join(out) + "\n"


CSS += _tag_table_css()


TAG_COLORS = {  # the default taxonomy gets distinct colours; other names hash into PALETTE
    "re-explain": "#fde68a",
    "transfer": "#bfdbfe",
    "long-wait": "#fecaca",
    "agent-praise": "#bbf7d0",
    "broken-callback": "#e9d5ff",
    "unresolved": "#fed7aa",
    "rushed": "#a5f3fc",
    "agent-rude": "#fbcfe8",
}


def tag_color(tag: str) -> str:
    """A stable highlight colour for a tag name (not Python's salted ``hash``)."""
    return TAG_COLORS.get(tag) or PALETTE[sum(map(ord, tag)) % len(PALETTE)]


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return ""
    total = max(0, int(seconds))
    return f"{total // 60}:{total % 60:02d}"


def _times(start: float | None, end: float | None = None) -> str:
    """``data-start`` (and ``data-end``) attributes in seconds, for the workbench script."""
    out = "" if start is None else f' data-start="{start:.2f}"'
    return out + ("" if end is None else f' data-end="{end:.2f}"')


def _span_in(text: str, tag: TagView) -> tuple[int, int] | None:
    """The tag's evidence span inside ``text``: the stored offsets, else a search for evidence."""
    s, e = tag.span_start, tag.span_end
    if s is not None and e is not None and 0 <= s < e <= len(text):
        return s, e
    needle = tag.evidence.strip()
    if needle:
        at = text.lower().find(needle.lower())
        if at >= 0:
            return at, at + len(needle)
    return None


def _mark_attrs(tags: Sequence[TagView], start: float | None = None) -> str:
    names = " ".join(dict.fromkeys(t.tag for t in tags))
    decisions = {t.decision for t in tags}
    cls = "qa-mark"
    if decisions == {"rejected"}:
        cls += " rejected"
    elif "confirmed" in decisions:
        cls += " confirmed"
    title = "; ".join(f"{t.tag} ({t.method} {t.score:.2f})" for t in tags)
    return (
        f'class="{cls}" data-tag="{escape(names)}" style="--tag-color:{tag_color(tags[0].tag)}"'
        f' title="{escape(title)}"{_times(start)}'
    )


def highlight(
    text: str,
    tags: Iterable[TagView],
    start: float | None = None,
    found: Sequence[tuple[int, int]] = (),
) -> tuple[str, list[TagView]]:
    """Escape ``text`` and wrap each tag's evidence span in ``<mark>``.

    Overlapping spans are split at every boundary, so each piece is marked with all tags
    covering it. ``start``: the turn's start (seconds), put on each mark as ``data-start``.
    ``found``: spans a list search matched, wrapped in ``<span class="qa-found">``.
    Returns the HTML and the tags whose evidence could not be located.
    """
    spans: list[tuple[int, int, TagView]] = []
    unplaced: list[TagView] = []
    for tag in tags:
        span = _span_in(text, tag)
        if span is None:
            unplaced.append(tag)
        else:
            spans.append((*span, tag))
    hits = [(s, e) for s, e in found if 0 <= s < e <= len(text)]
    cuts = sorted({0, len(text), *(s for s, _, _ in spans), *(e for _, e, _ in spans),
                   *(s for s, _ in hits), *(e for _, e in hits)})  # fmt: skip
    out = []
    for lo, hi in pairwise(cuts):
        piece = escape(text[lo:hi])
        if any(s <= lo and hi <= e for s, e in hits):
            piece = f'<span class="qa-found">{piece}</span>'
        covering = [t for s, e, t in spans if s <= lo and hi <= e]
        out.append(f"<mark {_mark_attrs(covering, start)}>{piece}</mark>" if covering else piece)
    return "".join(out), unplaced


def _chips(tags: Iterable[TagView]) -> str:
    return "".join(
        f'<span class="qa-chip" data-tag="{escape(t.tag)}" '
        f'style="--tag-color:{tag_color(t.tag)}">{escape(t.tag)}</span>'
        for t in tags
    )


def render_transcript(
    turns: Sequence[TurnView],
    tags: Iterable[TagView] = (),
    found: Mapping[int, Sequence[tuple[int, int]]] | None = None,
) -> str:
    """One block per turn (Agent / Customer, start-end), tag evidence highlighted, and the
    spans a list search matched (``found``: turn index -> spans) marked ``qa-found``.

    Each turn and its marks carry ``data-start`` / ``data-end`` (seconds): clicking one seeks
    the recording there, and the playing turn is highlighted (``review_ui.workbench``).
    """
    if not turns:
        return '<div class="qa-empty">No transcript for this call (yet).</div>'
    by_turn: dict[int, list[TagView]] = {}
    for t in tags:
        if t.source == "transcript" and t.turn_index is not None and t.method != "human":
            by_turn.setdefault(t.turn_index, []).append(t)
    blocks = []
    for turn in turns:
        hits = (found or {}).get(turn.index, ())
        body, unplaced = highlight(turn.text, by_turn.get(turn.index, []), turn.start, hits)
        speaker = turn.speaker if turn.speaker in SPEAKER_LABELS else "unknown"
        label = SPEAKER_LABELS.get(speaker, "Unknown")
        blocks.append(
            f'<div class="qa-turn {speaker}" data-speaker="{speaker}" data-index="{turn.index}"'
            f"{_times(turn.start, turn.end)}>"
            f'<div class="who">{label}<span class="ts">{fmt_time(turn.start)}&ndash;'
            f"{fmt_time(turn.end)}</span>{_chips(unplaced)}</div>"
            f'<div class="text">{body}</div></div>'
        )
    return f'<div class="qa-transcript">{"".join(blocks)}</div>'


# The telephony export's talk time and the recording's length are "different" past this share.
TALK_MISMATCH = 0.10


def render_header(detail: CallDetail) -> str:
    """The call's facts: agent, team, queue, start, the recording's length and the export's
    talk time (with a note when the two disagree by more than :data:`TALK_MISMATCH`)."""
    agent = detail.agent_name or detail.agent_id or "unknown agent"
    if detail.agent_name and detail.agent_id:
        agent = f"{detail.agent_name} ({detail.agent_id})"
    recording, talk = detail.duration_seconds, detail.talk_seconds or None
    items = [
        ("Agent", agent),
        ("Team", detail.team or "—"),
        ("Queue", detail.queue or "—"),
        ("Started", detail.started_at.strftime("%Y-%m-%d %H:%M")),
    ]
    if recording:
        items.append(("Recording", fmt_time(round(recording))))  # as the player shows it
    items.append(("Talk (export)", fmt_time(talk) or "—"))
    kv = "".join(f'<span class="qa-kv"><b>{k}</b>{escape(str(v))}</span>' for k, v in items)
    if recording and talk and abs(talk - recording) > TALK_MISMATCH * recording:
        kv += '<span class="qa-note">export and recording differ</span>'
    flags = [detail.status] + [
        f for f, on in (("transferred", detail.transferred), ("abandoned", detail.abandoned)) if on
    ]
    badges = "".join(f'<span class="qa-badge">{escape(f)}</span>' for f in flags)
    error = f'<div class="qa-empty">{escape(detail.error)}</div>' if detail.error else ""
    return (
        f'<div class="qa-header" data-call-id="{detail.id}"><h2>Call #{detail.id} · '
        f"{escape(detail.external_id)}</h2>{kv}{badges}</div>{error}"
        + render_metrics(detail.metrics)
    )


def _row_times(tag: TagView, turn_at: dict[int, TurnView]) -> str:
    """A tag row's ``data-turn`` and its turn's ``data-start`` / ``data-end``, when known."""
    if tag.turn_index is None or tag.source != "transcript":
        return ""
    turn = turn_at.get(tag.turn_index)
    return f' data-turn="{tag.turn_index}"' + (_times(turn.start, turn.end) if turn else "")


def _ratio(value: object) -> str:
    return f"{value:.0%}" if isinstance(value, (int, float)) else "—"


def render_metrics(m: MetricsView | None) -> str:
    """The call's conversation metrics (from the two channels' timings), one line."""
    if m is None:
        return ""
    extra = m.extra or {}

    def wpm(value: float | None) -> str:
        return "—" if value is None else f"{value:.0f}"

    def talk(seconds: float, ratio_key: str) -> str:
        return f"{fmt_time(seconds)} ({_ratio(extra.get(ratio_key))})"

    by_agent = extra.get("interruptions_by_agent", "—")
    by_customer = extra.get("interruptions_by_customer", "—")
    hold = float(extra.get("hold_seconds") or 0.0)
    items = [
        ("Agent talk", talk(m.agent_talk_seconds, "agent_talk_ratio")),
        ("Customer talk", talk(m.customer_talk_seconds, "customer_talk_ratio")),
        ("Silence", fmt_time(m.silence_seconds)),
        ("Longest silence", fmt_time(m.longest_silence_seconds)),
        ("Silences > 5 s", str(extra.get("silences_over_5s", "—"))),
        ("Overtalk", fmt_time(m.overtalk_seconds)),
        ("Interruptions (agent / customer)", f"{by_agent} / {by_customer}"),
        ("Hold", f"{fmt_time(hold)} in {len(extra.get('holds') or ())}"),
        ("Words / min (agent / customer)", f"{wpm(m.agent_wpm)} / {wpm(m.customer_wpm)}"),
    ]
    kv = "".join(f'<span class="qa-kv"><b>{escape(k)}</b>{escape(v)}</span>' for k, v in items)
    return f'<div class="qa-header qa-metrics" data-metrics="1">{kv}</div>'


def _score(key: str, value: object) -> str:
    shown = "—" if value is None else value
    if isinstance(value, bool):  # FCR; checked by type because 1 == True
        shown = "yes" if value else "no"
    return (
        f'<div class="qa-score"><span class="v">{escape(str(shown))}</span>'
        f'<span class="k">{key}</span></div>'
    )


def render_survey(
    survey: SurveyView | None,
    tags: Iterable[TagView] = (),
    found: Sequence[tuple[int, int]] = (),
) -> str:
    """Survey scores and the comment, with comment-sourced tag evidence highlighted (and the
    spans a list search matched, ``found``)."""
    if survey is None:
        return '<div class="qa-empty">No survey answer for this call.</div>'
    scores = "".join(
        _score(k, v)
        for k, v in (
            ("CSAT", survey.csat),
            ("NPS", survey.nps),
            ("CES", survey.ces),
            ("FCR", survey.fcr),
        )
    )
    comment_tags = [t for t in tags if t.source == "comment" and t.method != "human"]
    body, unplaced = highlight(survey.comment, comment_tags, found=found)
    comment = (
        f'<div class="qa-comment">“{body}”{_chips(unplaced)}</div>'
        if survey.comment
        else '<div class="qa-empty">No comment.</div>'
    )
    return f'<div class="qa-scores">{scores}</div>{comment}'


def render_tags(tags: Sequence[TagView], *, turns: Sequence[TurnView] = ()) -> str:
    """Table of every tag row: method, score, source, evidence, decision.

    A row whose evidence is in a turn carries ``data-turn`` and, with that turn among
    ``turns``, its ``data-start`` / ``data-end`` (clicking the row seeks the recording).
    """
    if not tags:
        return '<div class="qa-empty">No tags on this call.</div>'
    turn_at = {turn.index: turn for turn in turns}
    rows = []
    for t in tags:
        where = t.source if t.turn_index is None else f"{t.source} turn {t.turn_index}"
        if t.method == "human":
            where = "review"
        decision = t.decision or "—"
        by = ""
        if t.method == "human" and t.reviewer:
            by = f'<div class="qa-by">{escape(t.reviewer)}</div>'
        rows.append(
            f'<tr data-tag="{escape(t.tag)}" data-method="{escape(t.method)}"'
            f"{_row_times(t, turn_at)}>"
            f"<td>{_chips([t])}</td><td>{escape(t.method)}</td><td>{t.score:.2f}</td>"
            f"<td>{escape(where)}</td><td>{escape(t.evidence)}</td>"
            f'<td class="qa-dec {escape(t.decision or "")}">{escape(decision)}{by}</td></tr>'
        )
    head = "".join(f"<th>{h}</th>" for h in TAG_COLUMNS)
    body = "".join(rows)
    return f'<table class="qa-tags"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'

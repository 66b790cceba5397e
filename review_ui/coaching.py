"""The review UI's Coaching tab, and "Add to pack" on the Review tab.

``build_coaching_tab(demo, tabs, engine, access, ...)`` adds the tab: coaching packs (pick
one, read its items with their excerpts, export it as one self-contained HTML file with
redacted clips, or as CSV; create one, hand-picked or from the Review tab's current list
filter, assigned to an agent with a due date) and an agent profile (tag rates against the
rest of the team with 95 % intervals, scorecard scores by week, the worst and best calls by
CSAT; selecting one of those calls adds it to the chosen pack). ``?pack=ID`` opens the tab
on that pack: a pack's shareable link. ``wire_pack_adder`` wires the Review tab's "Add to
pack" row: what *Decide on* names (a piece of evidence, or the whole call) goes to a pack.

Writes need ``build_packs`` (coaches and up); the signed-in name is the pack's author.
Backend: ``qa.review.packs``, ``qa.review.pack_export``, ``qa.report.agent_profile``.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

import gradio as gr
import pandas as pd

from qa.auth import Identity, Permission
from qa.store.api import transact
from qa.store.callfilter import call_url, pack_url
from review_ui.history import parse_target

if TYPE_CHECKING:
    from qa.report.agent_profile import AgentProfile
    from qa.review.pack_views import PackView
    from qa.review.playback import Playback
    from qa.store.api import Engine
    from review_ui.access import Access
    from review_ui.exports import ExportFolder
    from review_ui.review_layout import ReviewTab

PRIVATE: dict[str, Any] = {"api_visibility": "private"}
CALL_COLUMNS = ["id", "call", "started", "CSAT", "score", "tags"]


def pack_choices(engine: Engine) -> list[tuple[str, str]]:
    """``#3 · March re-explain · A02 · due 2026-12-10 · 4 items`` per live pack, newest first."""
    from qa.review.packs import list_packs

    out = []
    for p in transact(engine, list_packs):
        due = f" · due {p.due.isoformat()}" if p.due else ""
        agent = f" · {p.agent_id}" if p.agent_id else ""
        kind = " · filter" if p.filter_query else ""
        out.append((f"#{p.id} · {p.name}{agent}{due}{kind} · {p.items} items", str(p.id)))
    return out


def parse_pack(value: Any) -> int | str | None:
    """A pack id from ``"3"`` or ``"#3 · …"``; a typed name as it is; None when blank."""
    text = str(value or "").strip()
    if not text:
        return None
    head = text.removeprefix("#").split(" ", 1)[0]
    return int(head) if head.isdigit() else text


def _excerpt(item: Any) -> str:
    lines = []
    for line in item.excerpt:
        if line.mark is not None and line.is_evidence:
            s, e = line.mark
            body = (f"{escape(line.text[:s])}<mark>{escape(line.text[s:e])}</mark>"
                    f"{escape(line.text[e:])}")  # fmt: skip
        else:
            body = escape(line.text)
        cls = ' class="ev"' if line.is_evidence else ""
        lines.append(f"<div{cls}><b>{escape(line.speaker)}</b>: {body}</div>")
    return "".join(lines)


def pack_html(view: PackView) -> str:
    """The pack as the coach reads it in the UI (the export adds the clips)."""
    head = [f"<h3>{escape(view.name)}</h3>"]
    meta = [f"by {escape(view.created_by)}"]
    if view.agent_id:
        meta.append(f"for {escape(view.agent_name or view.agent_id)}")
    if view.due:
        meta.append(f"due {view.due.isoformat()}")
    if view.filter_query:
        meta.append(f"filter <code>{escape(view.filter_query)}</code>"
                    f" ({view.matched_total or 0} calls match now)")  # fmt: skip
    link = f'<a href="{pack_url("", view.id)}">link</a>'
    head.append(f'<p class="note">{" · ".join(meta)} · {link}</p>')
    if view.note:
        head.append(f"<p>{escape(view.note)}</p>")
    if not view.items:
        empty = ('<p class="empty">No items yet: add calls or snippets from the Review tab '
                 "(Add to pack).</p>")  # fmt: skip
        return "".join(head) + empty
    rows = []
    for item in view.items:
        tag = f" · <b>{escape(item.tag)}</b>" if item.tag else ""
        note = f'<div class="note">{escape(item.note)}</div>' if item.note else ""
        rows.append(
            f'<li data-call="{escape(item.external_id)}">'
            f'<a href="{escape(call_url("", item.external_id))}">'
            f"{escape(item.external_id)}</a> · "
            f"{escape(item.agent_name or item.agent_id)} · "
            f"{item.started_at:%Y-%m-%d %H:%M}{tag}{note}"
            f'<div class="qa-excerpt">{_excerpt(item)}</div></li>'
        )
    return "".join(head) + f'<ol class="qa-pack">{"".join(rows)}</ol>'


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _ci(ci: tuple[float, float]) -> str:
    return f"{_pct(ci[0])} to {_pct(ci[1])}"


def profile_html(profile: AgentProfile) -> str:
    """Tag rates against the rest of the team (95 % Wilson intervals) and scores by week."""
    head = (
        f"<h3>{escape(profile.agent_name or profile.agent_id)}</h3>"
        f'<p class="note">{escape(profile.team)} · {profile.calls} calls; the rest of the '
        f"team: {profile.team_calls} calls. ▲ / ▼: the intervals do not overlap.</p>"
    )
    rows = []
    for r in profile.tag_rates:
        mark = ("▲" if r.agent_rate > (r.team_rate or 0) else "▼") if r.differs else ""
        team = "—" if r.team_ci is None else f"{_pct(r.team_rate)} ({_ci(r.team_ci)})"
        rows.append(
            f"<tr><td>{escape(r.tag)} {mark}</td><td>{r.agent_calls}</td>"
            f"<td>{_pct(r.agent_rate)} ({_ci(r.agent_ci)})</td>"
            f"<td>{team}</td></tr>"
        )
    rates = (
        '<table class="qa-rates"><thead><tr><th>tag</th><th>calls</th><th>agent (95% CI)</th>'
        f"<th>rest of team (95% CI)</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        if rows else '<p class="empty">No tags on this agent\'s calls.</p>'
    )  # fmt: skip
    weeks = "".join(
        f"<tr><td>{escape(t.week)}</td><td>{t.reviews}</td>"
        f"<td>{'—' if t.mean_score is None else f'{t.mean_score:.1f}'}</td>"
        f"<td>{t.auto_failed}</td></tr>"
        for t in profile.scores
    )
    scores = (
        '<h4>Scorecard score by week</h4><table class="qa-scores"><thead><tr><th>week</th>'
        f"<th>reviews</th><th>mean score</th><th>auto-fails</th></tr></thead><tbody>{weeks}"
        "</tbody></table>" if weeks else '<p class="empty">No scorecard reviews yet.</p>'
    )  # fmt: skip
    return head + rates + scores


def calls_frame(rows: Any) -> pd.DataFrame:
    """Best / worst calls: select one to add it to the chosen pack."""
    data = [
        [r.id, r.external_id, r.started_at.strftime("%Y-%m-%d %H:%M"),
         "" if r.csat is None else str(r.csat), "" if r.score is None else f"{r.score:.0f}",
         ", ".join(r.tags)]
        for r in rows
    ]  # fmt: skip
    return pd.DataFrame(data, columns=CALL_COLUMNS)


def _ensure_pack(engine: Engine, who: Identity, choice: Any) -> int:
    """The chosen pack's id; a typed name that is not a pack makes a new one."""
    from qa.review.packs import PackNotFound, create_pack, find_pack

    ref = parse_pack(choice)
    if ref is None:
        raise ValueError("choose a pack, or type a name for a new one")
    try:
        return transact(engine, find_pack, pack=ref).id  # type: ignore[no-any-return]
    except PackNotFound:
        if isinstance(ref, int):
            raise
    return transact(engine, create_pack, name=str(ref), created_by=who.name).id  # type: ignore[no-any-return]


def add_to_pack(engine: Engine, who: Identity, call_id: Any, target: Any, choice: Any,
                note: Any) -> tuple[Any, str]:  # fmt: skip
    """Add the open call's chosen evidence (or the whole call) to a pack: (choices, status)."""
    from qa.review.packs import PackNotFound, add_item
    from qa.store.reads import CallNotFound

    if call_id in (None, "") or (isinstance(call_id, float) and call_id != call_id):
        return gr.update(), "**Not added:** open a call first."
    try:
        pack_id = _ensure_pack(engine, who, choice)
        tag, evidence = parse_target(str(target or "")) if target else (None, None)
        transact(engine, add_item, pack_id=pack_id, call_id=int(call_id), evidence=evidence,
                 note=str(note or ""), added_by=who.name, tag=tag or None)  # fmt: skip
    except (ValueError, PackNotFound, CallNotFound) as exc:
        return gr.update(), f"**Not added:** {exc}"
    what = "the whole call" if evidence is None else f"the “{tag}” evidence"
    return (gr.update(choices=pack_choices(engine), value=str(pack_id)),
            f"Added {what} to pack #{pack_id} as {who.name}.")  # fmt: skip


def wire_pack_adder(ui: ReviewTab, engine: Engine, access: Access) -> None:
    """The Review tab's "Add to pack" row (``add_to_pack`` endpoint)."""

    @access.needs(Permission.build_packs)
    def add_to_pack_event(call_id, target, choice, note, request: gr.Request, *, who: Identity):  # type: ignore[no-untyped-def]
        return add_to_pack(engine, who, call_id, target, choice, note)

    ui.pack_choice.focus(lambda: gr.update(choices=pack_choices(engine)), None, ui.pack_choice,
                         **PRIVATE)  # fmt: skip
    ui.pack_btn.click(add_to_pack_event, [ui.call_id, ui.tag_choice, ui.pack_choice,
                                          ui.pack_note], [ui.pack_choice, ui.pack_status],
                      api_name="add_to_pack")  # fmt: skip


def export_file(engine: Engine, playback: Playback | None, choice: Any, fmt: str,
                ui_url: str, folder: ExportFolder) -> tuple[Any, str]:  # fmt: skip
    """Write the pack's export into the app's private export folder: (file, status)."""
    from qa.review.pack_export import export_pack_file
    from qa.review.packs import PackNotFound, find_pack

    ref = parse_pack(choice)
    if ref is None:
        return None, "**Not exported:** choose a pack first."
    try:
        pack_id = transact(engine, find_pack, pack=ref).id
        # The file is named by the pack's id, never by typed text.
        path = folder.path(f"pack-{pack_id}.{fmt}")
        result = transact(engine, export_pack_file, pack=pack_id, out_path=path, fmt=fmt,
                          ui_url=ui_url, playback=playback)  # fmt: skip
    except (ValueError, PackNotFound) as exc:
        return None, f"**Not exported:** {exc}"
    clips = f", {result.clips} audio clips" if fmt == "html" else ""
    missing = f" ({len(result.missing)} without a clip)" if result.missing else ""
    return folder.seal(path), f"Exported {result.items} items{clips}{missing}."

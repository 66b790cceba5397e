"""A coaching pack as one HTML page: inline CSS, no script, every text HTML-escaped.

``render_pack`` is given the audio of each item as a ``data:`` URI (or None), so the page
needs no other file; the only addresses in it are the pack's and the calls' review-UI links.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from qa.review.pack_views import CLIP_RADIUS, ExcerptLine, PackItemView, PackView

# Nothing but the inline style and the embedded clips may load: the file works offline.
CSP = "default-src 'none'; style-src 'unsafe-inline'; media-src data:; img-src data:"
CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;
max-width:60rem;padding:1.5rem;color:#1d1d1f;background:#fff}
h1{font-size:1.5rem;margin:0 0 .3rem}h2{font-size:1.1rem;margin:0}
.meta{color:#555;margin:.2rem 0}.meta b{color:#1d1d1f}
.note{background:#f5f5f7;border-left:4px solid #0a66c2;padding:.5rem .8rem;margin:.6rem 0;
white-space:pre-wrap}
section.item{border:1px solid #d2d2d7;border-radius:8px;padding:1rem;margin:1rem 0;
break-inside:avoid}
.line{margin:.25rem 0;color:#555}.line.ev{color:#1d1d1f;background:#fffbe6}
.who{font-weight:600}.t{font-variant-numeric:tabular-nums;color:#888}
mark{background:#ffd54f;padding:0 .1rem}
.tag{display:inline-block;background:#e8f0fe;border-radius:4px;padding:0 .4rem;margin-left:.4rem}
.missing{color:#a00;font-style:italic}audio{width:100%;margin-top:.5rem}
a{color:#0a66c2}
@media print{audio{display:none}}
"""


def excerpt_html(line: ExcerptLine) -> str:
    """One excerpt line as escaped HTML, the evidence inside ``<mark>``."""
    before, marked, after = line.parts()
    body = escape(before) + (f"<mark>{escape(marked)}</mark>" if marked else "") + escape(after)
    when = "" if line.start is None else f'<span class="t">{line.start:.0f}s</span> '
    css = "line ev" if line.is_evidence else "line"
    who = f'<span class="who">{escape(line.speaker)}</span>'
    return f'<p class="{css}">{when}{who}: {body}</p>'


def _header(view: PackView, ui_url: str) -> str:
    agent = view.agent_name or view.agent_id or "not assigned"
    if view.agent_name and view.agent_id:
        agent = f"{view.agent_name} ({view.agent_id})"
    link = escape(view.link(ui_url))
    parts = [
        f"<h1>{escape(view.name)}</h1>",
        f'<p class="meta"><b>Coach:</b> {escape(view.created_by)} · <b>Agent:</b> '
        f"{escape(agent)} · <b>Due:</b> {escape(str(view.due or 'no date'))} · "
        f"<b>Items:</b> {len(view.items)}</p>",
        f'<p class="meta"><b>Pack link:</b> <a href="{link}">{link}</a></p>',
    ]
    if view.filter_query:
        shown = "" if view.matched_total is None else f" ({view.matched_total} calls match now)"
        parts.append(
            f'<p class="meta"><b>Filter:</b> <code>{escape(view.filter_query)}</code>'
            f"{escape(shown)}</p>"
        )
    if view.note:
        parts.append(f'<div class="note">{escape(view.note)}</div>')
    return "\n".join(parts)


def _item(item: PackItemView, audio: str | None, ui_url: str) -> str:
    link = escape(item.link(ui_url))
    tag = f'<span class="tag">{escape(item.tag)}</span>' if item.tag else ""
    where = {"call": "whole call", "comment": "survey comment"}.get(item.scope, "")
    if item.scope == "transcript":
        where = f"turn {item.turn_index}"
    agent = item.agent_name or item.agent_id
    parts = [
        f'<section class="item" id="item-{item.position}">',
        f'<h2>{item.position}. <a href="{link}">{escape(item.external_id)}</a>{tag}</h2>',
        f'<p class="meta">{escape(agent)} · {escape(item.team)} · '
        f"{item.started_at:%Y-%m-%d %H:%M} · {escape(where)}</p>",
    ]
    if item.note:
        parts.append(f'<div class="note">{escape(item.note)}</div>')
    parts.extend(excerpt_html(line) for line in item.excerpt)
    if not item.excerpt and item.evidence:
        parts.append(f'<p class="line ev"><mark>{escape(item.evidence)}</mark></p>')
    if audio:
        parts.append(f'<audio controls preload="auto" src="{audio}"></audio>')
        if item.evidence_at is not None:
            parts.append(
                f'<p class="meta">±{CLIP_RADIUS:.0f} s around {_clock(item.evidence_at)} '
                "of the recording (redacted)</p>"
            )
    else:
        parts.append(f'<p class="missing">{_no_clip(item)}</p>')
    parts.append("</section>")
    return "\n".join(parts)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}:{secs:02d}"


def _no_clip(item: PackItemView) -> str:
    if not item.has_recording:
        return "no recording"
    if item.evidence_at is None:
        return "no audio clip: open the call to listen"
    return "no audio clip: the recording was not available to this export"


def render_pack(view: PackView, audio: Sequence[str | None], *, ui_url: str) -> str:
    """The whole page: the pack's header, then each item with ``audio[i]`` (a ``data:`` URI
    or None)."""
    if len(audio) != len(view.items):
        raise ValueError(f"{len(audio)} audio clips for {len(view.items)} items; give one each")
    items = "\n".join(_item(i, a, ui_url) for i, a in zip(view.items, audio, strict=True))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        f"<title>{escape(view.name)} · coaching pack</title>\n<style>{CSS}</style></head>\n"
        f"<body>\n{_header(view, ui_url)}\n{items}\n</body></html>\n"
    )

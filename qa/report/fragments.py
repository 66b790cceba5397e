"""HTML building blocks shared by the report sections and the review UI: call links, tables.

Cells and labels are escaped here or by the caller (``table`` takes HTML cells).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from qa.store.callfilter import call_url

MAX_LINKS = 20


def call_link(ui_url: str, external_id: str) -> str:
    """A chip linking to the call in the review UI (relative ``?call=`` when no UI URL)."""
    href = call_url(ui_url, external_id)
    return (
        f'<a class="call" href="{escape(href, quote=True)}" target="_blank" '
        f'data-call="{escape(external_id, quote=True)}">{escape(external_id)}</a>'
    )


def call_links(ui_url: str, ids: Sequence[str], limit: int = MAX_LINKS) -> str:
    shown = "".join(call_link(ui_url, cid) for cid in ids[:limit])
    more = f' <span class="muted">and {len(ids) - limit} more</span>' if len(ids) > limit else ""
    return shown + more


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    numeric: set[int] = frozenset(),
    classes: Sequence[str] | None = None,
    wide: bool = False,
) -> str:
    """An HTML table; cells are HTML already (escape text before passing it)."""
    head = "".join(
        f'<th class="{"num" if i in numeric else ""}">{escape(h)}</th>'
        for i, h in enumerate(headers)
    )
    body = []
    for n, row in enumerate(rows):
        cls = f' class="{classes[n]}"' if classes and classes[n] else ""
        cells = "".join(
            f'<td class="{"num" if i in numeric else ""}">{c}</td>' for i, c in enumerate(row)
        )
        body.append(f"<tr{cls}>{cells}</tr>")
    cls = "qa wide" if wide else "qa"
    return (
        f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    )


def pct(value: float | None) -> str:
    return "\u2013" if value is None else f"{value:.0%}"

"""The repeat-contacts section of the report and the Insights tab: rates, the first-call tags
that predict a repeat, broken callback promises and the latest repeat contacts.
"""

from __future__ import annotations

from collections import Counter
from html import escape
from typing import TYPE_CHECKING

from qa.report.fragments import call_link, pct, table

if TYPE_CHECKING:
    from qa.metrics.repeats import RepeatReport
    from qa.report.model import Insights

MAX_REPEATS = 15


def _promises_html(r: RepeatReport, ui_url: str) -> str:
    """Every broken callback promise (newest first), and how many were kept or pending."""
    if not r.promises:
        return (
            '<h3>Callback promises</h3><p class="empty">No call in this period is tagged '
            "callback-promised.</p>"
        )
    counts = Counter(p.status for p in r.promises)
    summary = ", ".join(
        f"{counts[k]} {k}" for k in ("broken", "kept", "pending", "unlinkable") if counts[k]
    )
    head = (
        f'<h3>Callback promises: {summary}</h3><p class="muted">Kept = an outbound call '
        "to the same customer within the window; broken = none by the time the window "
        "ended.</p>"
    )
    broken = sorted(r.broken_promises, key=lambda p: p.promised_at, reverse=True)
    if not broken:
        return head + '<div class="ok">No broken promise.</div>'
    rows = [
        (
            call_link(ui_url, p.call_id),
            escape(p.customer_id),
            p.promised_at.strftime("%Y-%m-%d %H:%M"),
        )
        for p in broken
    ]
    return head + table(("broken promise (call)", "customer", "promised at"), rows)


def repeats_html(insights: Insights, ui_url: str) -> str:
    r = insights.repeats
    s = r.summary
    tiles = "".join(
        f'<div class="tile"><div class="v">{v}</div><div class="k">{escape(k)}</div></div>'
        for v, k in (
            (pct(s.repeat_rate), "repeat-contact rate"),
            (pct(s.fcr_rate), "first contacts resolved"),
            (str(s.repeat_contacts), "repeat contacts"),
            (str(s.not_observable), "not yet observable"),
            (str(len(r.broken_promises)), "broken callback promises"),
        )
    )
    parts = [
        f'<div class="tiles">{tiles}</div><p class="muted">Window {s.window_hours:g} h; '
        f"{s.observable} of {s.contacts} handled contacts observable (their window has "
        "ended), the rest are left out of the rates.</p>"
    ]
    if r.predictors:
        rows = [
            (
                escape(p.tag),
                str(p.n_with),
                pct(p.rate_with),
                pct(p.rate_without),
                "\u2013" if p.difference is None else f"{p.difference * 100:+.0f} pp",
                "\u2013" if p.p_value is None else f"{p.p_value:.3f}",
            )
            for p in r.predictors
        ]
        parts.append(
            "<h3>Which first-call tags predict a repeat</h3>"
            + table(
                (
                    "tag on first call",
                    "calls",
                    "repeat with",
                    "repeat without",
                    "difference",
                    "p (Fisher)",
                ),
                rows,
                {1, 2, 3, 4, 5},
            )
        )
    parts.append(_promises_html(r, ui_url))
    if r.repeats:
        recent = sorted(r.repeats, key=lambda lk: lk.started_at, reverse=True)[:MAX_REPEATS]
        rows = [
            (
                call_link(ui_url, lk.call_id),
                escape(lk.customer_id),
                lk.started_at.strftime("%Y-%m-%d %H:%M"),
                call_link(ui_url, lk.previous_call_id or ""),
                f"{lk.gap_hours or 0:.1f} h",
                call_link(ui_url, lk.first_call_id or ""),
            )
            for lk in recent
        ]
        parts.append(
            f"<h3>Latest repeat contacts ({len(r.repeats)})</h3>"
            + table(
                ("repeat", "customer", "started", "repeats", "after", "first contact"), rows, {4}
            )
        )
    return "".join(parts)

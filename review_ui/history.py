"""What a reviewer decides on, and what was decided: the decision targets of a call (a tag
for the whole call, or one piece of its evidence) and the call's history of decisions and
reviews. Pure functions over ``qa.store.reads`` views, unit-tested directly.
"""

from __future__ import annotations

from html import escape

from qa.store.reads import CallDetail, DecisionView, ReviewView, TagView
from qa.store.writes import Evidence

TARGET_SEPARATOR = "@"
EVIDENCE_CHARS = 48


def target_value(tag: TagView | None, name: str) -> str:
    """The dropdown value for deciding ``name`` for the whole call (``tag`` None) or for
    the evidence of machine hit ``tag``: ``name@source:turn:start:end``."""
    if tag is None:
        return name
    turn = "" if tag.turn_index is None else str(tag.turn_index)
    start = "" if tag.span_start is None else str(tag.span_start)
    end = "" if tag.span_end is None else str(tag.span_end)
    return f"{name}{TARGET_SEPARATOR}{tag.source}:{turn}:{start}:{end}"


def parse_target(value: str) -> tuple[str, Evidence | None]:
    """(tag name, evidence or None for the whole call) from a :func:`target_value` (the
    evidence's text is filled in from the machine hit when the decision is stored).
    ValueError when malformed."""
    name, sep, rest = (value or "").partition(TARGET_SEPARATOR)
    if not sep:
        return name.strip(), None
    parts = rest.split(":")
    if len(parts) != 4:
        raise ValueError(f"bad decision target {value!r}; pick one from the list")

    def number(text: str) -> int | None:
        return int(text) if text.strip() else None

    try:
        source, turn, start, end = parts[0], number(parts[1]), number(parts[2]), number(parts[3])
    except ValueError:
        raise ValueError(f"bad decision target {value!r}; pick one from the list") from None
    return name.strip(), Evidence(source, turn, start, end)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EVIDENCE_CHARS else text[: EVIDENCE_CHARS - 1] + "…"


def decision_targets(detail: CallDetail) -> list[tuple[str, str]]:
    """(label, value) per tag on the call for the whole call, then per machine hit."""
    names = list(dict.fromkeys(t.tag for t in detail.tags))
    out = [(f"{n} (whole call)", target_value(None, n)) for n in names]
    for t in detail.tags:
        if t.method == "human":
            continue
        where = t.source if t.turn_index is None else f"turn {t.turn_index}"
        out.append((f"{t.tag} · {where}: “{_short(t.evidence)}”", target_value(t, t.tag)))
    return out


def _decision_row(d: DecisionView) -> str:
    verb = "present" if d.present else "absent"
    mark = "✓" if d.counts else ""
    comment = f'<div class="qa-by">{escape(d.comment)}</div>' if d.comment else ""
    return (
        f'<tr data-decision="{d.id}" data-counts="{int(d.counts)}">'
        f"<td>{d.created_at:%Y-%m-%d %H:%M}</td><td>{escape(d.reviewer)} "
        f'<span class="qa-by">{escape(d.role)}</span></td><td>{escape(d.tag)}</td>'
        f'<td class="qa-dec {"confirmed" if d.present else "rejected"}">{verb}</td>'
        f"<td>{escape(d.scope_label)}{comment}</td><td>{mark}</td></tr>"
    )


def _review_row(r: ReviewView) -> str:
    score = "—" if r.score is None else f"{r.score:.1f}"
    failed = " (auto-fail)" if r.auto_failed else ""
    return (
        f'<tr data-review="{r.id}"><td>{r.created_at:%Y-%m-%d %H:%M}</td>'
        f"<td>{escape(r.reviewer)}</td><td>{score}{failed}</td>"
        f"<td>{escape(r.scorecard_ref or 'checklist')}</td><td>{escape(r.notes)}</td></tr>"
    )


def render_history(detail: CallDetail) -> str:
    """Every decision (✓: the one that counts for its tag and scope) and every saved review
    of the call, oldest first."""
    if not detail.decisions and not detail.reviews:
        return '<div class="qa-empty">No decisions or reviews on this call yet.</div>'
    parts = []
    if detail.decisions:
        head = "<tr><th>when</th><th>who</th><th>tag</th><th>said</th><th>scope</th>"
        head += "<th>counts</th></tr>"
        rows = "".join(_decision_row(d) for d in detail.decisions)
        parts.append(f'<table class="qa-tags qa-history">{head}{rows}</table>')
    if detail.reviews:
        head = "<tr><th>when</th><th>who</th><th>score</th><th>scorecard</th><th>notes</th></tr>"
        rows = "".join(_review_row(r) for r in detail.reviews)
        parts.append(f'<table class="qa-tags qa-history qa-reviews">{head}{rows}</table>')
    return "".join(parts)

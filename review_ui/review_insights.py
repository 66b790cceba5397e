"""Two Insights sections that come from reviewers' work rather than from the exports.

- ``scores_html``: the mean scorecard score per agent and per team, by ISO week of the call
  (``qa.review.reviews.score_trend``: each reviewer's latest review of a call counts once),
  the newest :data:`WEEKS` weeks, each cell "mean (reviews)" with auto-fails marked;
- ``rules_html``: the taxonomy patterns whose hits reviewers reject most
  (``qa.review.reviews.rule_precision``), those below the precision floor first, the same
  numbers as ``qa decisions rules``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING

from qa.store.api import transact

if TYPE_CHECKING:
    from qa.review.reviews import RulePrecision, ScoreTrend
    from qa.store.api import Engine

WEEKS = 8
MAX_RULES = 30


def _pivot(rows: Sequence[ScoreTrend], label: str) -> str:
    weeks = sorted({r.week for r in rows})[-WEEKS:]
    cells: dict[str, dict[str, ScoreTrend]] = defaultdict(dict)
    for r in rows:
        if r.week in weeks:
            cells[r.group][r.week] = r
    head = "".join(f"<th>{escape(w)}</th>" for w in weeks)
    body = []
    for group in sorted(cells):
        tds = []
        for week in weeks:
            r = cells[group].get(week)
            if r is None:
                tds.append('<td class="empty">·</td>')
                continue
            mean = "—" if r.mean_score is None else f"{r.mean_score:.1f}"
            failed = f' <span class="bad">{r.auto_failed} auto-fail</span>' if r.auto_failed else ""
            tds.append(f"<td>{mean} ({r.reviews}){failed}</td>")
        body.append(f"<tr><td>{escape(group)}</td>{''.join(tds)}</tr>")
    return (
        f'<table class="qa-scores"><thead><tr><th>{label}</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def scores_html(engine: Engine) -> str:
    """Scorecard score per agent and per team over the newest weeks (empty note when none)."""
    from qa.review.reviews import score_trend

    agents = transact(engine, score_trend, by="agent")
    if not agents:
        return '<p class="empty">No scorecard reviews yet.</p>'
    teams = transact(engine, score_trend, by="team")
    note = (
        '<p class="note">Mean 0-100 scorecard score by ISO week of the call, (reviews) in '
        "brackets; each reviewer's latest review of a call counts.</p>"
    )
    return (
        f"{note}<h4>Per agent</h4>{_pivot(agents, 'agent')}<h4>Per team</h4>{_pivot(teams, 'team')}"
    )


def _rule_row(r: RulePrecision, weak: bool) -> str:
    precision = "—" if r.precision is None else f"{r.precision:.2f}"
    mark = ' class="bad"' if weak else ""
    return (
        f"<tr{mark}><td>{escape(r.tag)}</td><td><code>{escape(r.rule)}</code></td>"
        f"<td>{r.confirmed}</td><td>{r.rejected}</td><td>{precision}</td>"
        f"<td>{'below floor' if weak else ''}</td></tr>"
    )


def rules_html(engine: Engine) -> str:
    """Rule patterns with reviewed hits, those below the precision floor first."""
    from qa.review.reviews import MIN_RULE_DECISIONS, PRECISION_FLOOR, rule_precision, weak_rules

    found = transact(engine, rule_precision)
    if not found:
        return '<p class="empty">No reviewed rule hits yet.</p>'
    weak = weak_rules(found)
    weak_ids = {id(r) for r in weak}
    ordered = weak + [r for r in found if id(r) not in weak_ids]
    note = (
        f'<p class="note">{len(weak)} of {len(found)} patterns below precision '
        f"{PRECISION_FLOOR:.2f} (with at least {MIN_RULE_DECISIONS} reviewed hits): reword "
        "or remove them in models/taxonomy.json. Same numbers: <code>qa decisions rules</code>.</p>"
    )
    rows = "".join(_rule_row(r, id(r) in weak_ids) for r in ordered[:MAX_RULES])
    return (
        f'{note}<table class="qa-rules"><thead><tr><th>tag</th><th>pattern</th>'
        "<th>confirmed</th><th>rejected</th><th>precision</th><th></th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )

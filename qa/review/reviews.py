"""Scorecard reviews as data: save one (checked and scored), export them, trend them, and
what decisions say about each rule.

A saved review is appended (``qa.store.writes.add_review``) with its answers, the scorecard's
``ref@digest`` and its 0-100 score; a reviewer's latest review of a call is the current one.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlmodel import Session, col

from qa.config import REPO_ROOT
from qa.review.scorecard import Scorecard, check_answers, load_scorecards, score
from qa.safecsv import write_records
from qa.store.effective import hit_scope, winning
from qa.store.reads import load_decisions
from qa.store.schema import Call, Review, Tag
from qa.store.writes import add_review

REVIEW_COLUMNS = ("id", "call_id", "agent_id", "agent_name", "team", "reviewer", "scorecard",
                  "score", "auto_failed", "round_id", "created_at", "notes", "answers")  # fmt: skip
PRECISION_FLOOR = 0.8
MIN_RULE_DECISIONS = 5


DEFAULT_SCORECARD_ID = "default"


def default_scorecard(models_dir: Path | None = None) -> Scorecard | None:
    """The scorecard reviewers fill: ``default`` under ``models_dir/scorecards/`` (default:
    the repository's ``models/``), else the first by id; None when there is none. A broken
    file raises ``ScorecardError`` naming it."""
    cards = load_scorecards(models_dir if models_dir is not None else REPO_ROOT / "models")
    if not cards:
        return None
    return cards.get(DEFAULT_SCORECARD_ID) or cards[min(cards)]


def save_review(
    *, session: Session, call_id: int, reviewer: str, card: Scorecard,
    answers: Mapping[str, Any], notes: str = "", round_id: int | None = None,
) -> Review:  # fmt: skip
    """Check ``answers`` against ``card`` (ValueError naming a bad one), score them and
    append the review."""
    checked = check_answers(card, answers)
    result = score(card, checked)
    return add_review(
        session=session, call_id=call_id, reviewer=reviewer, scorecard=dict(checked),
        notes=notes, scorecard_ref=f"{card.ref}#{card.digest}", score=result.score,
        auto_failed=result.auto_failed, round_id=round_id,
    )  # fmt: skip


def review_rows(session: Session) -> Iterator[dict[str, Any]]:
    """Every review, oldest first, with its call's agent and team."""
    stmt = select(Review, Call).join(Call, Call.id == Review.call_id)
    for r, call in session.execute(stmt.order_by(Review.created_at, Review.id)):
        yield {
            "id": r.id, "call_id": call.external_id, "agent_id": call.agent_id,
            "agent_name": call.agent_name, "team": call.team, "reviewer": r.reviewer,
            "scorecard": r.scorecard_ref or "", "score": r.score, "auto_failed": r.auto_failed,
            "round_id": r.round_id, "created_at": r.created_at.isoformat(timespec="seconds"),
            "notes": r.notes, "answers": dict(r.scorecard or {}),
        }  # fmt: skip


def export_reviews(session: Session, out: IO[str], fmt: str = "csv") -> int:
    """Write every review as CSV (answers as JSON in one cell) or JSON lines."""
    rows = review_rows(session)
    if fmt == "csv":
        rows = ({**r, "answers": json.dumps(r["answers"], sort_keys=True)} for r in rows)
    return write_records(rows, REVIEW_COLUMNS, out, fmt)


@dataclass(frozen=True)
class ScoreTrend:
    """Mean scorecard score of one agent or team in one ISO week (current reviews only)."""

    group: str
    week: str
    reviews: int
    mean_score: float | None
    auto_failed: int


def score_trend(
    *, session: Session, by: str = "agent", agent_id: str | None = None,
    since: datetime | None = None, until: datetime | None = None,
) -> list[ScoreTrend]:  # fmt: skip
    """Per agent (or team) and ISO week of the call: reviews and their mean score; each
    reviewer's latest review of a call counts once. ``agent_id``, ``since`` / ``until``:
    only that agent's calls, only calls started in ``[since, until)``."""
    if by not in ("agent", "team"):
        raise ValueError(f"unknown grouping {by!r}; choose one of: agent, team")
    latest: dict[tuple[int, str], tuple[Review, Call]] = {}
    stmt = select(Review, Call).join(Call, Call.id == Review.call_id)
    if agent_id is not None:
        stmt = stmt.where(Call.agent_id == agent_id)
    if since is not None:
        stmt = stmt.where(Call.started_at >= since)
    if until is not None:
        stmt = stmt.where(Call.started_at < until)
    for r, call in session.execute(stmt.order_by(Review.created_at, Review.id)):
        latest[(call.id or 0, r.reviewer)] = (r, call)
    groups: dict[tuple[str, str], list[Review]] = defaultdict(list)
    for r, call in latest.values():
        name = (call.agent_name or call.agent_id) if by == "agent" else call.team
        iso = call.started_at.isocalendar()
        groups[(name or "—", f"{iso.year}-W{iso.week:02d}")].append(r)
    out = []
    for (name, week), rows in sorted(groups.items()):
        scores = [r.score for r in rows if r.score is not None]
        mean = round(sum(scores) / len(scores), 1) if scores else None
        out.append(ScoreTrend(name, week, len(rows), mean, sum(bool(r.auto_failed) for r in rows)))
    return out


@dataclass(frozen=True)
class RulePrecision:
    """A taxonomy pattern's hits that reviewers judged: confirmed, rejected, precision."""

    tag: str
    rule: str
    confirmed: int
    rejected: int

    @property
    def decided(self) -> int:
        return self.confirmed + self.rejected

    @property
    def precision(self) -> float | None:
        return self.confirmed / self.decided if self.decided else None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "decided": self.decided, "precision": self.precision}


def rule_precision(*, session: Session) -> list[RulePrecision]:
    """Per rule pattern (``Tag.rule``): hits confirmed or rejected by the winning decision on
    that hit's evidence, else on its tag for the whole call; weakest first."""
    rows = list(session.scalars(select(Tag).where(col(Tag.rule).is_not(None))))
    decisions = load_decisions(session, {t.call_id for t in rows})
    winners = {call_id: winning(ds) for call_id, ds in decisions.items()}
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for t in rows:
        won = winners.get(t.call_id, {})
        d = won.get((t.tag, hit_scope(t))) or won.get((t.tag, None))
        if d is not None and t.rule:
            counts[(t.tag, t.rule)][0 if d.present else 1] += 1
    out = [RulePrecision(tag, rule, c, r) for (tag, rule), (c, r) in counts.items()]
    return sorted(out, key=lambda p: (p.precision if p.precision is not None else 1.0, p.rule))


def weak_rules(
    rules: list[RulePrecision], *, floor: float = PRECISION_FLOOR,
    min_decisions: int = MIN_RULE_DECISIONS,
) -> list[RulePrecision]:  # fmt: skip
    """Rules with at least ``min_decisions`` judged hits and a precision below ``floor``."""
    return [
        r for r in rules
        if r.decided >= min_decisions and r.precision is not None and r.precision < floor
    ]  # fmt: skip

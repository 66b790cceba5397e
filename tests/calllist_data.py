"""A tagged, partly reviewed database built from ``tests.synthetic_export``, and the same
calls as a pandas frame, for checking the call list (``qa.store.calllist``, ``qa calls list``)
against plain pandas filters over the CSVs.

Tags come from a keyword tagger run through the real tag stage (``qa.stages.pipeline``), and
decisions through ``qa.store.writes.record_tag_decision``, so ``CallTag`` is filled by its
real writers. The frame's ``tags`` column is worked out here independently: the keyword
rules on the comment and turns, then the decisions (whole-call, so simple to apply).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from classify.tagging import TagHit
from qa.ingest.exports import ingest_calls, ingest_surveys
from qa.stages.pipeline import tag_calls
from qa.store.engine import session_scope
from qa.store.schema import Call, Turn
from qa.store.writes import record_tag_decision
from tests.synthetic_export import write_export

KEYWORDS: dict[str, tuple[str, ...]] = {
    "transfer": ("department", "handed", "another", "transferred", "passing me"),
    "long-wait": ("hold", "wait", "music", "queue", "forever"),
    "agent-praise": ("helpful", "friendly", "lovely", "thank"),
}
TURN_TEXTS = (
    "I would like a refund for the broadband router please",
    "Let me check your account, the refund policy allows that",
    "I was on hold for ages before you picked up",
    "Thanks, that was really helpful",
    "Can you move me to the billing department",
)


def keyword_tags(text: str) -> set[str]:
    """The tags the keyword tagger gives ``text`` (with ``transfer:billing`` as a child)."""
    low = text.lower()
    found = {tag for tag, words in KEYWORDS.items() if any(w in low for w in words)}
    if "transfer" in found and "billing" in low:
        found.add("transfer:billing")
    return found


class KeywordTagger:
    """A ``classify.tagging.Tagger`` over ``KEYWORDS`` (whole text as evidence)."""

    def fit(self, texts: Sequence[str] | None = None, y: Any = None) -> KeywordTagger:
        return self

    def tag(self, text: str, source: str = "comment") -> list[TagHit]:
        return [TagHit(t, 0, len(text), text) for t in sorted(keyword_tags(text))]

    def tag_many(self, texts: Sequence[str], source: str = "comment") -> list[list[TagHit]]:
        return [self.tag(t, source) for t in texts]


def build(engine: Engine, folder: Path, n_calls: int = 600, seed: int = 3) -> pd.DataFrame:
    """Write an export, ingest it, add turns to every 10th call, tag, decide; returns the
    calls as a frame (CSV columns plus ``comment``, ``turns`` and effective ``tags``)."""
    write_export(folder, n_calls=n_calls, seed=seed)
    turns: dict[str, list[str]] = {}
    with session_scope(engine) as session:
        ingest_calls(folder / "calls.csv", session=session)
        ingest_surveys(folder / "surveys.csv", session=session)
        calls = session.exec(select(Call).order_by(Call.id)).all()
        for n, call in enumerate(calls):
            if n % 10:
                continue
            texts = [TURN_TEXTS[(n + k) % len(TURN_TEXTS)] for k in range(3)]
            turns[call.external_id] = texts
            for k, text in enumerate(texts):
                speaker = "customer" if k % 2 == 0 else "agent"
                session.add(Turn(call_id=call.id, index=k, speaker=speaker, start=k, end=k + 1,
                                 text=text))  # fmt: skip
    tag_calls(engine, tagger=KeywordTagger(), version="keywords-1")
    decisions = _decide(engine)
    return _frame(folder, turns, decisions)


def _decide(engine: Engine) -> dict[str, list[tuple[str, bool]]]:
    """Whole-call decisions, oldest first, by external id: a lead rejects ``transfer`` on
    every 7th call, a reviewer adds ``agent-rude`` to every 11th, a reviewer rejects
    ``long-wait`` on every 5th and a lead then confirms it again on every 15th."""
    made: dict[str, list[tuple[str, bool]]] = {}
    with session_scope(engine) as session:
        for n, (call_id, ext) in enumerate(session.exec(select(Call.id, Call.external_id))):
            plan = []
            if n % 7 == 0:
                plan.append(("transfer", False, "lead"))
            if n % 11 == 0:
                plan.append(("agent-rude", True, "reviewer"))
            if n % 5 == 0:
                plan.append(("long-wait", False, "reviewer"))
            if n % 15 == 0:
                plan.append(("long-wait", True, "lead"))
            for tag, present, role in plan:
                record_tag_decision(session=session, call_id=call_id, tag=tag, present=present,
                                    reviewer=f"{role}-1", role=role)  # fmt: skip
                made.setdefault(ext, []).append((tag, present))
    return made


def _apply(tags: set[str], decisions: list[tuple[str, bool]]) -> set[str]:
    for tag, present in decisions:  # later ones win; leads decide last in _decide
        if present:
            tags.add(tag)
        else:
            tags = {t for t in tags if t != tag and not t.startswith(f"{tag}:")}
    return tags


def _frame(
    folder: Path, turns: dict[str, list[str]], decisions: dict[str, list[tuple[str, bool]]]
) -> pd.DataFrame:
    calls = pd.read_csv(folder / "calls.csv", dtype={"call_id": str})
    surveys = pd.read_csv(folder / "surveys.csv", dtype={"call_id": str, "comment": str})
    frame = calls.merge(surveys, on="call_id", how="left")
    frame["started_at"] = pd.to_datetime(frame["started_at"])
    frame["transferred"] = frame["transferred"].eq("yes")
    frame["comment"] = frame["comment"].fillna("")
    frame["turns"] = frame["call_id"].map(lambda c: turns.get(c, []))
    frame["tags"] = [
        _apply(set().union(keyword_tags(c), *map(keyword_tags, t)), decisions.get(i, []))
        for i, c, t in zip(frame["call_id"], frame["comment"], frame["turns"], strict=True)
    ]
    frame["reviewed"] = frame["call_id"].isin(decisions)
    return frame


def words(text: str) -> list[str]:
    """Lower-cased words (letters and digits), as the search compares them."""
    return re.findall(r"[^\W_]+", text.lower())


def holds_phrase(text: str, phrase: str) -> bool:
    """``phrase``'s words appear in ``text`` in a row."""
    want, have = words(phrase), words(text)
    return any(have[i : i + len(want)] == want for i in range(len(have) - len(want) + 1))


def session_ids(engine: Engine, external_ids: set[str]) -> dict[str, int]:
    """External id -> call id."""
    with Session(engine) as session:
        rows = session.exec(select(Call.external_id, Call.id)).all()
    return {e: i for e, i in rows if e in external_ids}

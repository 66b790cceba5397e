"""Free-text search over transcripts (``Turn.text``) and survey comments (``Survey.comment``).

Both columns hold redacted text only (``qa.stages.pipeline.store_transcript`` and
``qa.ingest`` redact before storing), so nothing here can find what redaction removed.

A search is words and ``"quoted phrases"``; a document (one turn or one comment) matches when
it holds every one of them, case- and accent-insensitively, each phrase's words in a row.
Punctuation only separates words, so a search cannot inject query syntax. The index behind it:

- SQLite: FTS5 external-content tables ``turn_fts`` and ``survey_fts`` (unicode61
  tokenizer), kept in sync by triggers on insert, update and delete of turns and surveys;
- PostgreSQL: stored generated ``tsvector`` columns ``turn.text_tsv`` and
  ``survey.comment_tsv`` (``to_tsvector('simple', ...)``) with GIN indexes, queried with
  ``phraseto_tsquery('simple', ...)`` (no stemming on either backend). Stored, not an
  expression index, because a phrase is checked against each candidate row's vector, which
  would otherwise be recomputed from the text for every one.

:func:`install_search` creates them (``qa.store.upgrade``); :func:`search_condition` is the
``WHERE`` part for ``qa.store.calllist``; :func:`search_matches` gives the call view the
spans to highlight.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import column, false, func, literal, literal_column, select, table, text, union
from sqlalchemy.engine import Connection
from sqlmodel import Session

from qa.store.schema import Call, Survey, Turn

FIELDS = ("transcript", "comment")
_WORD = re.compile(r"[^\W_]+")
_PHRASE = re.compile(r'"([^"]*)"')
_SIMPLE = "'simple'::regconfig"

Phrases = tuple[tuple[str, ...], ...]


def _fold(word: str) -> str:
    """Lower case without accents, as FTS5's unicode61 tokenizer compares words."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def parse_search(search: str) -> Phrases:
    """``'refund "on hold" ages'`` -> ``(("refund",), ("on", "hold"), ("ages",))``; words folded,
    punctuation dropped, empty phrases left out."""
    quoted = [_words(fragment) for fragment in _PHRASE.findall(search or "")]
    loose = [(w,) for w in _words(_PHRASE.sub(" ", search or ""))]
    return tuple(p for p in quoted + loose if p)


def _words(fragment: str) -> tuple[str, ...]:
    return tuple(_fold(w) for w in _WORD.findall(fragment))


def matched_terms(search: str) -> tuple[str, ...]:
    """The distinct words of a search, folded, in order (what the call view highlights)."""
    seen: dict[str, None] = {}
    for phrase in parse_search(search):
        seen.update(dict.fromkeys(phrase))
    return tuple(seen)


# --------------------------------------------------------------------------- index DDL

_SQLITE_FTS = (
    ("turn_fts", "turn", "text"),
    ("survey_fts", "survey", "comment"),
)


def _sqlite_ddl(fts: str, source: str, col: str) -> list[str]:
    new, old = f"new.{col}", f"old.{col}"
    delete = f"INSERT INTO {fts}({fts}, rowid, {col}) VALUES ('delete', old.id, {old});"
    add = f"INSERT INTO {fts}(rowid, {col}) VALUES (new.id, {new});"
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5({col}, content='{source}', "
        f"content_rowid='id', tokenize='unicode61')",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ai AFTER INSERT ON {source} BEGIN {add} END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ad AFTER DELETE ON {source} BEGIN {delete} END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_au AFTER UPDATE OF {col} ON {source} "
        f"BEGIN {delete} {add} END",
    ]


_PG_VECTORS = (("turn", "text", "text_tsv"), ("survey", "comment", "comment_tsv"))


def _pg_ddl(source: str, col: str, vector: str) -> list[str]:
    return [
        f"ALTER TABLE {source} ADD COLUMN IF NOT EXISTS {vector} tsvector GENERATED ALWAYS AS "
        f"(to_tsvector({_SIMPLE}, coalesce({col}, ''))) STORED",
        f"CREATE INDEX IF NOT EXISTS ix_{source}_{vector} ON {source} USING GIN ({vector})",
    ]


def install_search(conn: Connection) -> list[str]:
    """Create the search index if missing (idempotent); an FTS table created on a database
    that already has rows is filled from them. Returns the names of what was created."""
    created: list[str] = []
    if conn.dialect.name == "sqlite":
        for fts, source, col in _SQLITE_FTS:
            found = conn.execute(
                text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :n"), {"n": fts}
            ).first()
            for statement in _sqlite_ddl(fts, source, col):
                conn.exec_driver_sql(statement)
            if found is None:
                conn.exec_driver_sql(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
                created.append(fts)
    elif conn.dialect.name == "postgresql":
        for source, col, vector in _PG_VECTORS:
            for statement in _pg_ddl(source, col, vector):
                conn.exec_driver_sql(statement)
    return created


# --------------------------------------------------------------------------- queries


def _fts_query(phrases: Phrases) -> str:
    """FTS5 MATCH text: every phrase quoted (words only: no syntax can get in), ANDed."""
    return " ".join('"' + " ".join(p) + '"' for p in phrases)


def _sqlite_ids(fts: str, phrases: Phrases, within: Any = None) -> Any:
    """Rowids of the FTS table matching ``phrases`` (only among ``within`` rowids: FTS5 then
    looks those up instead of listing every match)."""
    index = table(fts, column("rowid"))
    stmt = select(index.c.rowid).where(
        literal_column(fts).op("MATCH")(literal(_fts_query(phrases)))
    )
    return stmt if within is None else stmt.where(index.c.rowid.in_(within))


def _pg_match(vector_column: str, phrases: Phrases) -> Any:
    config = literal_column(_SIMPLE)
    queries = [func.phraseto_tsquery(config, literal(" ".join(p))) for p in phrases]
    combined = queries[0]
    for q in queries[1:]:
        combined = combined.op("&&")(q)
    return literal_column(vector_column).op("@@")(combined)


def transcript_calls(dialect: str, phrases: Phrases, call_ids: Sequence[int] | None = None) -> Any:
    """``SELECT call_id FROM turn`` of the turns matching ``phrases`` (of ``call_ids`` only,
    when given)."""
    mine = None if call_ids is None else Turn.call_id.in_(call_ids)  # type: ignore[attr-defined]
    if dialect == "sqlite":
        within = None if mine is None else select(Turn.id).where(mine)
        stmt = select(Turn.call_id).where(Turn.id.in_(_sqlite_ids("turn_fts", phrases, within)))  # type: ignore[union-attr]
    else:
        stmt = select(Turn.call_id).where(_pg_match("turn.text_tsv", phrases))
    return stmt if mine is None else stmt.where(mine)


def comment_calls(dialect: str, phrases: Phrases, external_ids: Sequence[str] | None = None) -> Any:
    """``SELECT call_external_id FROM survey`` of the comments matching ``phrases`` (of
    ``external_ids`` only, when given)."""
    mine = None if external_ids is None else Survey.call_external_id.in_(external_ids)  # type: ignore[attr-defined]
    if dialect == "sqlite":
        within = None if mine is None else select(Survey.id).where(mine)
        ids = _sqlite_ids("survey_fts", phrases, within)
        stmt = select(Survey.call_external_id).where(Survey.id.in_(ids))  # type: ignore[union-attr]
    else:
        stmt = select(Survey.call_external_id).where(_pg_match("survey.comment_tsv", phrases))
    return stmt if mine is None else stmt.where(mine)


def search_condition(dialect: str, phrases: Phrases) -> Any:
    """``WHERE`` clause on ``Call``: its transcript or its survey comment matches."""
    if not phrases:
        return false()
    comments = comment_calls(dialect, phrases).subquery()
    by_comment = select(Call.id).join(comments, comments.c.call_external_id == Call.external_id)
    # One set of call ids, so the database builds it from the search indexes and then reads
    # only those calls (an OR of two sets makes PostgreSQL test every call against both).
    return Call.id.in_(union(transcript_calls(dialect, phrases), by_comment))  # type: ignore[union-attr]


def matched_fields(
    session: Session, calls: Sequence[tuple[int, str]], phrases: Phrases
) -> dict[int, tuple[str, ...]]:
    """For (call id, external id) pairs: which of ``FIELDS`` matched the search."""
    if not calls or not phrases:
        return {}
    dialect = session.get_bind().dialect.name
    ids = [i for i, _ in calls]
    externals = [e for _, e in calls]
    in_turns = set(session.scalars(transcript_calls(dialect, phrases, ids)))
    in_comments = set(session.scalars(comment_calls(dialect, phrases, externals)))
    return {
        i: tuple(f for f, hit in zip(FIELDS, (i in in_turns, e in in_comments), strict=True) if hit)
        for i, e in calls
    }


# --------------------------------------------------------------------------- highlighting


@dataclass(frozen=True)
class SearchMatch:
    """Where a search matched in one call: a turn (``turn_index``) or the comment (None),
    with the character spans of each matched phrase in that text."""

    field: str  # "transcript" | "comment"
    turn_index: int | None
    spans: tuple[tuple[int, int], ...]


def phrase_spans(text_: str, phrases: Phrases) -> tuple[tuple[int, int], ...]:
    """Spans of every phrase occurrence in ``text_`` when it holds all phrases, else ()."""
    tokens = [(m.start(), m.end(), _fold(m.group())) for m in _WORD.finditer(text_ or "")]
    words = [w for _, _, w in tokens]
    spans: list[tuple[int, int]] = []
    for phrase in phrases:
        n = len(phrase)
        found = [
            (tokens[i][0], tokens[i + n - 1][1])
            for i in range(len(words) - n + 1)
            if tuple(words[i : i + n]) == phrase
        ]
        if not found:
            return ()
        spans += found
    return tuple(sorted(spans))


def search_matches(*, session: Session, call_id: int, search: str) -> tuple[SearchMatch, ...]:
    """Every turn of the call, and its survey comment, that the search matches, with the
    spans to highlight (the same rule as the list's search: all words, phrases in a row)."""
    phrases = parse_search(search)
    if not phrases:
        return ()
    out = []
    turns = session.execute(
        select(Turn.index, Turn.text).where(Turn.call_id == call_id).order_by(Turn.index)
    )
    for index, body in turns:
        spans = phrase_spans(body, phrases)
        if spans:
            out.append(SearchMatch("transcript", index, spans))
    comment = session.scalars(
        select(Survey.comment)
        .join(Call, Call.external_id == Survey.call_external_id)
        .where(Call.id == call_id)
    ).first()
    spans = phrase_spans(comment or "", phrases)
    if spans:
        out.append(SearchMatch("comment", None, spans))
    return tuple(out)

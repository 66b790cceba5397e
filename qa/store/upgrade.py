"""The steps of the schema migrations that are more than DDL (``qa.store.migrations``).

Each is idempotent and runs inside the caller's transaction:

- :func:`add_missing_columns`: ``ALTER TABLE ... ADD COLUMN`` for a frozen schema's columns a
  database lacks (a database older than release d877b09, brought up to it before it is
  stamped at the baseline revision; every such column was nullable);
- :func:`move_legacy_decisions`: reviewer decisions, once ``Tag`` rows with method ``human``,
  move to ``Decision`` (with ``origin`` ``legacy``) and leave ``Tag`` to machine hits;
- :func:`create_missing_indexes`: indexes a revision adds to existing tables;
- :func:`fill_search_and_call_tags`: the text-search index (``qa.store.textsearch``) and the
  ``CallTag`` table (``qa.store.calltags``), also checked on every open by
  ``qa.store.migrate.ensure_schema`` (cheap when both are there), so a dropped index or an
  emptied table is rebuilt.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Index, MetaData, bindparam, inspect, text
from sqlalchemy import Table as SaTable
from sqlalchemy.engine import Connection
from sqlmodel import Session

from qa.store.calltags import rebuild_call_tags
from qa.store.textsearch import _PG_VECTORS, _SQLITE_FTS, install_search

LEGACY_HUMAN = "human"


def add_missing_columns(conn: Connection, metadata: MetaData) -> list[str]:
    """``ALTER TABLE ... ADD COLUMN`` for every column of ``metadata`` that an existing table
    lacks; returns ``table.column`` of each added."""
    inspector = inspect(conn)
    existing_tables = set(inspector.get_table_names())
    added = []
    for table in metadata.sorted_tables:
        if table.name not in existing_tables:
            continue
        have = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in have:
                continue
            kind = column.type.compile(dialect=conn.dialect)
            conn.execute(text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}'))
            added.append(f"{table.name}.{column.name}")
    return added


def move_legacy_decisions(conn: Connection) -> int:
    """Copy ``Tag`` rows of method ``human`` into ``Decision`` and delete them; returns how
    many moved. The old rows were one per (call, tag) with the whole call as scope."""
    count = conn.execute(text("SELECT COUNT(*) FROM tag WHERE method = :m"), {"m": LEGACY_HUMAN})
    moved = int(count.scalar() or 0)
    if not moved:
        return 0
    conn.execute(
        text(
            "INSERT INTO decision (call_id, tag, present, reviewer, role, source, turn_index, "
            "span_start, span_end, evidence, comment, origin, created_at) "
            "SELECT call_id, tag, present, COALESCE(reviewer, 'reviewer'), 'reviewer', NULL, "
            "NULL, NULL, NULL, COALESCE(evidence, ''), '', 'legacy', created_at "
            "FROM tag WHERE method = :m ORDER BY id"
        ),
        {"m": LEGACY_HUMAN},
    )
    conn.execute(text("DELETE FROM tag WHERE method = :m"), {"m": LEGACY_HUMAN})
    return moved


def create_missing_indexes(
    conn: Connection, indexes: Iterable[tuple[str, str, tuple[str, ...]]]
) -> list[str]:
    """``CREATE INDEX`` for each (name, table, columns) the table lacks; returns their names."""
    inspector = inspect(conn)
    added = []
    for name, table_name, columns in indexes:
        if name in {ix["name"] for ix in inspector.get_indexes(table_name)}:
            continue
        table = SaTable(table_name, MetaData(), autoload_with=conn)
        Index(name, *(table.c[c] for c in columns)).create(conn)
        added.append(name)
    return added


def fill_search_and_call_tags(conn: Connection, *, rebuild: bool = False) -> int:
    """Install the text-search index if missing, and fill ``CallTag`` from the hits and
    decisions (always with ``rebuild``, else only when it is empty and there are some);
    returns how many ``CallTag`` rows were written."""
    if rebuild or not search_installed(conn):
        install_search(conn)
    if not rebuild:
        if conn.execute(text("SELECT 1 FROM calltag LIMIT 1")).first() is not None:
            return 0
        has_hits = conn.execute(text("SELECT 1 FROM tag LIMIT 1")).first()
        has_decisions = conn.execute(text("SELECT 1 FROM decision LIMIT 1")).first()
        if has_hits is None and has_decisions is None:
            return 0
    with Session(bind=conn) as session:
        return rebuild_call_tags(session)


def search_installed(conn: Connection) -> bool:
    """Whether every object :func:`install_search` makes is there (checked with a catalog
    query, so that a routine open runs no DDL: on PostgreSQL even ``ADD COLUMN IF NOT
    EXISTS`` waits for an exclusive lock on the table)."""
    if conn.dialect.name == "sqlite":
        names = [fts for fts, _s, _c in _SQLITE_FTS]
        names += [f"{fts}_{suffix}" for fts in names for suffix in ("ai", "ad", "au")]
        found = conn.execute(
            text("SELECT COUNT(*) FROM sqlite_master WHERE name IN :names").bindparams(
                bindparam("names", expanding=True)
            ),
            {"names": names},
        ).scalar()
        return found == len(names)
    if conn.dialect.name == "postgresql":
        names = [f"ix_{source}_{vector}" for source, _c, vector in _PG_VECTORS]
        found = conn.execute(
            text("SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() "
                 "AND indexname IN :names").bindparams(bindparam("names", expanding=True)),
            {"names": names},
        ).scalar()  # fmt: skip
        return found == len(names)
    return True


def drop_search(conn: Connection) -> None:
    """Drop what :func:`install_search` made (a downgrade below the revision that added it)."""
    if conn.dialect.name == "sqlite":
        for fts, _source, _col in _SQLITE_FTS:
            for suffix in ("ai", "ad", "au"):
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {fts}")
    elif conn.dialect.name == "postgresql":
        for source, _col, vector in _PG_VECTORS:
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS ix_{source}_{vector}")
            conn.exec_driver_sql(f"ALTER TABLE {source} DROP COLUMN IF EXISTS {vector}")

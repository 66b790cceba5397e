"""Bring a database made by an older callqa up to the current schema, in place.

``create_all`` creates missing tables but never alters existing ones. Until the schema has
real migrations, two steps cover what changed since the first release, both idempotent:

- columns added to an existing table are added (every such column is nullable);
- reviewer decisions, once ``Tag`` rows with method ``human``, move to ``Decision`` (with
  ``origin`` ``legacy``) and leave ``Tag`` to machine hits.
"""

from __future__ import annotations

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

LEGACY_HUMAN = "human"


def add_missing_columns(conn: Connection) -> list[str]:
    """``ALTER TABLE ... ADD COLUMN`` for every model column the database lacks; returns
    ``table.column`` of each added."""
    inspector = inspect(conn)
    existing_tables = set(inspector.get_table_names())
    added = []
    for table in SQLModel.metadata.sorted_tables:
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


def upgrade(conn: Connection) -> None:
    """Both steps, inside the caller's transaction (``qa.store.engine.create_tables``)."""
    add_missing_columns(conn)
    move_legacy_decisions(conn)

"""Everything added since release d877b09: workforce, cost and coaching tables, ``CallTag``,
``Tag.cutoff``, the call list's indexes, the text-search index; legacy decisions moved.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03

Schema steps check what is there first, so a database made by a development build between
the two releases (some of these already present) upgrades too. Data steps:

- ``Tag`` rows of method ``human`` (reviewer decisions of releases before ``Decision``)
  move to ``Decision`` with origin ``legacy`` (``qa.store.upgrade.move_legacy_decisions``);
- the text-search index is installed and filled (``qa.store.textsearch.install_search``);
- ``CallTag`` is computed from the hits and decisions (``qa.store.calltags``).

The ``CallTag`` step computes with today's ``qa.store.calltags`` (the models' ``Tag`` and
``Decision``): a later revision that changes a column it reads must freeze a copy here.
Downgrade drops what this revision created; moved decisions stay in ``Decision``.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

from qa.store.upgrade import (
    create_missing_indexes,
    drop_search,
    fill_search_and_call_tags,
    move_legacy_decisions,
)

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

metadata = sa.MetaData()
# Only referenced by the new tables' foreign keys (they exist since 0001).
sa.Table("call", metadata, sa.Column("id", sa.Integer(), primary_key=True))
_NEW: list[sa.Table] = []

_NEW.append(
    sa.Table(
        "agentstate",
        metadata,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("agent_id", "started_at"),
        sa.Index("ix_agentstate_agent_id", "agent_id", unique=False),
        sa.Index("ix_agentstate_started_at", "started_at", unique=False),
    )
)
_NEW.append(
    sa.Table(
        "coachingpack",
        metadata,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("agent_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("filter_query", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.Index("ix_coachingpack_agent_id", "agent_id", unique=False),
        sa.Index("ix_coachingpack_name", "name", unique=True),
    )
)
_NEW.append(
    sa.Table(
        "costentry",
        metadata,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("basis", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("period_start", sa.DateTime(), nullable=True),
        sa.Column("period_end", sa.DateTime(), nullable=True),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("basis", "period_start", "period_end"),
    )
)
_NEW.append(
    sa.Table(
        "scheduleblock",
        metadata,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("activity", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("agent_id", "started_at"),
        sa.Index("ix_scheduleblock_agent_id", "agent_id", unique=False),
        sa.Index("ix_scheduleblock_started_at", "started_at", unique=False),
    )
)
_NEW.append(
    sa.Table(
        "calltag",
        metadata,
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("tag", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["call.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("call_id", "tag"),
        sa.Index("ix_calltag_tag_call", "tag", "call_id", unique=False),
    )
)
_NEW.append(
    sa.Table(
        "packitem",
        metadata,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pack_id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("tag", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("turn_index", sa.Integer(), nullable=True),
        sa.Column("span_start", sa.Integer(), nullable=True),
        sa.Column("span_end", sa.Integer(), nullable=True),
        sa.Column("evidence", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("added_by", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["call.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["pack_id"], ["coachingpack.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.Index("ix_packitem_call_id", "call_id", unique=False),
        sa.Index("ix_packitem_pack_id", "pack_id", unique=False),
    )
)


# New indexes on tables of 0001: (name, table, columns).
INDEXES = (
    ("ix_call_started_id", "call", ("started_at", "id")),
    ("ix_call_agent_started", "call", ("agent_id", "started_at")),
    ("ix_call_agent_name", "call", ("agent_name", "agent_id")),
    ("ix_call_team_started", "call", ("team", "started_at")),
    ("ix_call_queue_started", "call", ("queue", "started_at")),
    ("ix_survey_csat", "survey", ("csat",)),
    ("ix_survey_nps", "survey", ("nps",)),
    ("ix_survey_ces", "survey", ("ces",)),
    ("ix_review_call_created", "review", ("call_id", "created_at")),
)


def upgrade() -> None:
    conn = op.get_bind()
    metadata.create_all(conn, tables=_NEW, checkfirst=True)
    if "cutoff" not in {c["name"] for c in sa.inspect(conn).get_columns("tag")}:
        op.add_column("tag", sa.Column("cutoff", sa.Float(), nullable=True))
    create_missing_indexes(conn, INDEXES)
    move_legacy_decisions(conn)
    fill_search_and_call_tags(conn, rebuild=True)


def downgrade() -> None:
    conn = op.get_bind()
    drop_search(conn)
    for name, table, _columns in INDEXES:
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("tag") as batch:
        batch.drop_column("cutoff")
    metadata.drop_all(conn, tables=_NEW)

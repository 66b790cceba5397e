"""Stored results (``Snapshot``) and the write counters behind them (``DataVersion``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03

Creates both tables, one counter row per watched table and the triggers that bump them
(``qa.store.snapshots.install_versioning``). The counters start at 0 on a database that
already has rows: a snapshot is only ever compared with counts read after this revision.
Downgrade drops the triggers and both tables.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

from qa.store.snapshots import drop_versioning, install_versioning

# The watched tables as of this revision (frozen: a later revision that watches more adds its
# own triggers).
WATCHED = (
    "call", "survey", "turn", "callmetrics", "tag", "decision", "calltag", "review",
    "agentstate", "scheduleblock", "costentry", "cluster", "themefit", "thememember",
)  # fmt: skip

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dataversion",
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("source"),
    )
    op.create_table(
        "snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=False),
        sa.Column("versions", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "key"),
    )
    install_versioning(op.get_bind(), WATCHED)


def downgrade() -> None:
    drop_versioning(op.get_bind(), WATCHED)
    op.drop_table("snapshot")
    op.drop_table("dataversion")

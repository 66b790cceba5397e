"""Alembic's entry point: run the migrations on ``config.attributes["connection"]``.

Always called by ``qa.store.migrate`` with an open connection (inside its transaction and
schema lock), never with a URL of its own. SQLite runs ``render_as_batch`` (its ALTER TABLE
cannot drop or change a column, so batch operations copy the table); the text-search
objects (``qa.store.textsearch``: FTS5 tables, tsvector columns) are left out of
autogenerate's comparison since they are made by raw DDL, not by the models.
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from qa.store import schema  # noqa: F401  (registers every table on SQLModel.metadata)
from qa.store.migrations import include_object


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run the migrations through qa.store.migrate (qa db upgrade)")
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()

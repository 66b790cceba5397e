"""Database engines: SQLite (embedded default) or PostgreSQL, chosen by URL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine

from qa import tables  # noqa: F401  (registers every table on SQLModel.metadata)

DEFAULT_DB_PATH = "callqa.db"


def resolve_url(db: str | None = None) -> str:
    """Turn ``--db`` (a path or a URL), else ``QA_DB_URL``, else ``./callqa.db`` into a URL."""
    value = db or os.environ.get("QA_DB_URL") or DEFAULT_DB_PATH
    if "://" in value:
        # A bare PostgreSQL URL gets the driver that is installed (psycopg 3): SQLAlchemy 2.0
        # would pick psycopg2, and it doesn't know the ``postgres://`` spelling at all.
        scheme, rest = value.split("://", 1)
        if scheme in ("postgres", "postgresql"):
            return f"postgresql+psycopg://{rest}"
        return value
    return f"sqlite:///{Path(value).expanduser()}"


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    # WAL lets the UI read while the nightly job writes; SQLite ignores foreign keys unless asked.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(db: str | None = None, *, create: bool = True) -> Engine:
    """Open the database at ``db`` (path or SQLAlchemy URL) and create missing tables."""
    url = resolve_url(db)
    if url.startswith("sqlite"):
        path = url.split("sqlite:///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    if create:
        SQLModel.metadata.create_all(engine)
    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

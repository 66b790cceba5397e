"""Database engines: SQLite (embedded default) or PostgreSQL, chosen by URL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, create_engine

from qa.store import schema as tables  # noqa: F401  (registers every table on SQLModel.metadata)
from qa.store.migrate import ensure_schema

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
    """Open the database at ``db`` (path or SQLAlchemy URL); with ``create``, bring it to the
    current schema (``create_tables``)."""
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
        create_tables(engine)
    return engine


# PostgreSQL advisory-lock key for schema creation ("callqa_0"; the run lock uses "callqa_1").
_SCHEMA_LOCK_KEY = 0x63616C6C71615F30


@contextmanager
def schema_lock(engine: Engine) -> Iterator[Connection]:
    """A connection holding the database-wide schema lock, in a transaction the caller
    commits: a transaction-scoped advisory lock on PostgreSQL, a write transaction on SQLite.
    Schema creation and migrations run under it, so concurrent opens never race."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK_KEY})
        elif engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        yield conn


def create_tables(engine: Engine) -> None:
    """Bring the database to the current schema, safely when several processes open it at once.

    ``create_all`` checks, then creates: two processes racing on a fresh database both see
    no table and one fails ("table call already exists", or ``UniqueViolation`` on
    PostgreSQL's catalog). The check and the creation run under :func:`schema_lock` instead.
    A new database gets the tables and is stamped at the newest migration; one stamped at an
    older revision, or made before migrations, is upgraded (``qa.store.migrate``, the same
    as ``qa db upgrade``), on SQLite and PostgreSQL alike.
    """
    with schema_lock(engine) as conn:
        ensure_schema(conn)
        conn.commit()


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

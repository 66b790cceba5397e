"""Where a database's schema stands, and bringing it to the current one (Alembic).

The migrations live in ``qa.store.migrations``; this module runs them on a connection the
caller opened (``qa.store.engine.schema_lock`` serialises them between processes), with an
Alembic configuration made here, so no ``alembic.ini`` is needed.

A database falls in one of four cases (:func:`schema_state`):

- ``empty``: no tables. :func:`ensure_schema` (every open) creates the models' tables and
  stamps :data:`HEAD` (fast); :func:`upgrade` (``qa db upgrade``) runs every revision.
- ``current``: stamped at :data:`HEAD`. Nothing to do.
- ``behind``: stamped at an older revision; the revisions after it run.
- ``unstamped``: tables but no ``alembic_version`` (made before migrations). It is stamped
  at the revision its tables match (:func:`detect_revision`): :data:`HEAD` when every
  model table and column is there, else the baseline, after adding what a database older
  than the baseline lacks; then upgraded.

A revision this code does not know (the database was upgraded by a newer callqa) is an
error, never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table, inspect, text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from qa.store import schema as tables  # noqa: F401  (registers every table on SQLModel.metadata)
from qa.store.migrations import BASELINE, HEAD, SCRIPT_DIR
from qa.store.snapshots import install_versioning, versioning_installed
from qa.store.textsearch import install_search
from qa.store.upgrade import add_missing_columns, fill_search_and_call_tags

if TYPE_CHECKING:
    from alembic.config import Config

VERSION_TABLE = "alembic_version"
# Alembic's own version table, as it creates it: a new database is stamped with plain SQL so
# that opening one never imports Alembic.
_VERSION = Table(
    VERSION_TABLE,
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


class SchemaError(RuntimeError):
    """The database's schema cannot be brought to this release's (said why)."""


@dataclass(frozen=True)
class SchemaState:
    """Where a database stands: ``revision`` stamped (None: not stamped), ``head`` this
    code's, and ``status`` one of empty / current / behind / unstamped / unknown."""

    revision: str | None
    head: str
    status: str
    detected: str | None = None  # unstamped: the revision its tables match

    def describe(self) -> str:
        if self.status == "current":
            return f"{self.revision} (head)"
        if self.status == "behind":
            return f"{self.revision} (behind head {self.head}: run `qa db upgrade`)"
        if self.status == "empty":
            return f"none: empty database (head is {self.head})"
        if self.status == "unstamped":
            return (
                f"none: made before migrations, its tables match {self.detected} "
                f"(head is {self.head}: run `qa db upgrade`)"
            )
        return f"{self.revision} (unknown to this callqa, whose head is {self.head}: newer?)"


def stamped_revision(conn: Connection) -> str | None:
    """The revision in ``alembic_version``; None when the table is missing or empty."""
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def _model_tables_present(conn: Connection) -> bool:
    inspector = inspect(conn)
    have = set(inspector.get_table_names())
    for table in SQLModel.metadata.sorted_tables:
        if table.name not in have:
            return False
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        if not {c.name for c in table.columns} <= columns:
            return False
    return True


def _has_tables(conn: Connection) -> bool:
    return bool(set(inspect(conn).get_table_names()) - {VERSION_TABLE})


def detect_revision(conn: Connection) -> str | None:
    """The revision an unstamped database's tables match: None (no tables), :data:`HEAD`
    (every model table and column is there) or :data:`BASELINE` (anything older)."""
    if not _has_tables(conn):
        return None
    return HEAD if _model_tables_present(conn) else BASELINE


def known_revisions() -> list[str]:
    """Every revision of the scripts, oldest first."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(_config(None))
    return [s.revision for s in reversed(list(scripts.walk_revisions()))]


def schema_state(conn: Connection) -> SchemaState:
    """Where the database stands (see the module's cases)."""
    revision = stamped_revision(conn)
    if revision == HEAD:
        return SchemaState(revision, HEAD, "current")
    if revision is None:
        detected = detect_revision(conn)
        if detected is None:
            return SchemaState(None, HEAD, "empty")
        return SchemaState(None, HEAD, "unstamped", detected)
    if revision in known_revisions():
        return SchemaState(revision, HEAD, "behind")
    return SchemaState(revision, HEAD, "unknown")


def _config(conn: Connection | None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(SCRIPT_DIR))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = conn
    return config


def stamp(conn: Connection, revision: str = "head") -> None:
    """Record ``revision`` as the database's without running anything (replacing whatever
    was recorded, even a revision this code does not know)."""
    from alembic import command

    command.stamp(_config(conn), revision, purge=True)


def adopt(conn: Connection) -> str | None:
    """Stamp an unstamped database at the revision its tables match (first adding to a
    database older than the baseline the tables and columns the baseline has); returns that
    revision, or None when there was nothing to adopt."""
    if stamped_revision(conn) is not None:
        return None
    detected = detect_revision(conn)
    if detected is None:
        return None
    if detected == BASELINE:
        from qa.store.migrations.baseline import metadata as baseline

        baseline.create_all(conn, checkfirst=True)
        add_missing_columns(conn, baseline)
    stamp(conn, detected)
    return detected


def upgrade(conn: Connection, target: str = "head") -> tuple[str | None, str | None]:
    """Run the migrations up to ``target`` (adopting an unstamped database first); returns
    the revision before (None: not stamped) and after. The caller commits."""
    from alembic import command

    state = schema_state(conn)
    if state.status == "unknown":
        raise SchemaError(f"the database is at revision {state.describe()}; upgrade callqa")
    before = state.revision
    adopt(conn)
    command.upgrade(_config(conn), target)
    return before, stamped_revision(conn)


def ensure_schema(conn: Connection) -> str:
    """What every open does (``qa.store.engine.create_tables``, under the schema lock): an
    empty database gets the models' tables and :data:`HEAD`, an older one is upgraded, a
    current one only has its search index and ``CallTag`` checked. Returns the status."""
    revision = stamped_revision(conn)
    if revision == HEAD:
        fill_search_and_call_tags(conn)
        # A database adopted at HEAD, or whose triggers were dropped, must not serve stored
        # results that nothing invalidates (qa.store.snapshots): one catalog query.
        if not versioning_installed(conn):
            install_versioning(conn)
        return "current"
    if revision is None and not _has_tables(conn):
        SQLModel.metadata.create_all(conn)
        install_search(conn)
        install_versioning(conn)
        _VERSION.create(conn)
        conn.execute(_VERSION.insert().values(version_num=HEAD))
        return "created"
    upgrade(conn)
    return "upgraded"


def history() -> list[tuple[str, str | None, str]]:
    """(revision, its parent, first paragraph of its message) of every revision, oldest first."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(_config(None))
    rows = []
    for script in reversed(list(scripts.walk_revisions())):
        parent = script.down_revision if isinstance(script.down_revision, str) else None
        summary = " ".join((script.doc or "").split("\n\n")[0].split()).replace("``", "")
        rows.append((script.revision, parent, summary))
    return rows


def schema_diff(conn: Connection) -> list[object]:
    """How the database's tables differ from the models (Alembic's autogenerate comparison;
    empty when the migrations produce exactly what the models declare)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from qa.store.migrations import include_object

    context = MigrationContext.configure(
        conn, opts={"include_object": include_object, "compare_type": True}
    )
    return list(compare_metadata(context, SQLModel.metadata))


def new_revision(message: str) -> Path:
    """Write the next revision script (``versions/rNNNN_<slug>.py``) for a schema change:
    Alembic's autogenerate, comparing the models with a scratch SQLite database migrated to
    :data:`HEAD`. Review it (data steps, PostgreSQL), then set :data:`HEAD` to its id.
    For developers: ``python -c "from qa.store.migrate import new_revision as n; n('...')"``.
    """
    import tempfile

    from alembic import command
    from sqlalchemy import create_engine

    number = f"{len(known_revisions()) + 1:04d}"
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(f"sqlite:///{scratch}/scratch.db")
        try:
            with engine.begin() as conn:
                command.upgrade(_config(conn), "head")
                config = _config(conn)
                config.set_main_option("file_template", "r%%(rev)s_%%(slug)s")
                script = command.revision(config, message, autogenerate=True, rev_id=number)
        finally:
            engine.dispose()
    if script is None or isinstance(script, list):
        raise SchemaError("alembic wrote no single revision script")
    return Path(script.path)

"""``qa db upgrade|current|history|stamp|backup``: the database's schema and its backups.

Registered on the ``qa`` app in ``qa.cli``. The commands open the database without bringing
it up to date (``make_engine(create=False)``), so ``current`` reports what is there and
``upgrade`` says what it changed; everything else in ``qa`` upgrades on open
(``qa.store.engine.create_tables``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from qa.commands.options import DbOption, fail

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

app = typer.Typer(
    help="The database: schema migrations (upgrade, current, history, stamp) and backups.",
    no_args_is_help=True,
)


def _open(db: str | None) -> Engine:
    from qa.store.engine import make_engine

    try:
        return make_engine(db, create=False)
    except Exception as exc:  # any driver error is fatal here, and should say which database
        raise fail(f"cannot open database {db or '(default)'}: {exc}") from exc


@app.command("upgrade")
def upgrade(
    revision: Annotated[
        str, typer.Argument(help="Revision to upgrade to (see `qa db history`).")
    ] = "head",
    db: DbOption = None,
) -> None:
    """Bring the database to the current schema (run before starting a new release).

    A database made before migrations is first stamped at the revision its tables match."""
    from qa.store import migrate
    from qa.store.engine import schema_lock

    engine = _open(db)
    try:
        with schema_lock(engine) as conn:
            before, after = migrate.upgrade(conn, revision)
            conn.commit()
    except Exception as exc:  # a failed migration rolls back; say which and why
        raise fail(f"upgrade of {engine.url.render_as_string()} failed: {exc}") from exc
    finally:
        engine.dispose()
    if before == after:
        typer.echo(f"already at {after}")
    else:
        typer.echo(f"upgraded {before or '(not stamped)'} -> {after}")


@app.command("current")
def current(db: DbOption = None) -> None:
    """Say which schema revision the database is at, and whether it is behind."""
    from qa.store import migrate

    engine = _open(db)
    try:
        with engine.connect() as conn:
            state = migrate.schema_state(conn)
    finally:
        engine.dispose()
    typer.echo(state.describe())


@app.command("history")
def history() -> None:
    """List the schema revisions, oldest first."""
    from qa.store import migrate

    for revision, parent, message in migrate.history():
        mark = " (head)" if revision == migrate.HEAD else ""
        typer.echo(f"{parent or '<base>'} -> {revision}{mark}: {message}")


@app.command("stamp")
def stamp(
    revision: Annotated[str, typer.Argument(help="Revision to record (see `qa db history`).")],
    db: DbOption = None,
) -> None:
    """Record a revision without running anything (repair: the tables must match it)."""
    from qa.store import migrate
    from qa.store.engine import schema_lock

    if revision != "head" and revision not in migrate.known_revisions():
        raise fail(f"unknown revision {revision!r}: known {', '.join(migrate.known_revisions())}")
    engine = _open(db)
    try:
        with schema_lock(engine) as conn:
            migrate.stamp(conn, revision)
            conn.commit()
    except Exception as exc:  # say which database and why
        raise fail(f"stamp of {engine.url.render_as_string()} failed: {exc}") from exc
    finally:
        engine.dispose()
    typer.echo(f"stamped {revision}")


@app.command("backup")
def backup(
    path: Annotated[Path, typer.Argument(help="File to write the backup to.")],
    overwrite: Annotated[bool, typer.Option(help="Replace PATH if it exists.")] = False,
    db: DbOption = None,
) -> None:
    """Copy the database to PATH while others keep working.

    SQLite: the online backup API (open the copy with --db PATH); PostgreSQL: pg_dump's
    custom format (restore it with pg_restore)."""
    from qa.store.backup import BackupError
    from qa.store.backup import backup as run_backup

    engine = _open(db)
    try:
        result = run_backup(engine, path, overwrite=overwrite)
    except BackupError as exc:
        raise fail(f"backup of {engine.url.render_as_string()} failed: {exc}") from exc
    finally:
        engine.dispose()
    typer.echo(f"backed up to {result.path} ({result.size:,} bytes, {result.method})")

"""``qa db backup``: a consistent copy of the database while others keep writing.

- SQLite: the online backup API (``sqlite3.Connection.backup``) copies the whole database
  in one step, inside one read transaction: in WAL mode writers carry on meanwhile, and the
  copy is the state at its start (copied in several steps, every write from another
  connection would restart it, and a busy database might never finish). The copy is an
  ordinary database: open it with ``--db PATH``.
- PostgreSQL: ``pg_dump --format=custom`` (one snapshot of the database); restore with
  ``pg_restore --dbname URL PATH``. It must be installed (``postgresql-client``) and not
  older than the server.

The copy is written beside ``PATH`` and renamed into place when complete, so ``PATH`` is
never a half-written backup.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

PG_DUMP_HINT = (
    "pg_dump is not installed: apt-get install postgresql-client (a version not older than "
    "the server), or put it on PATH"
)


class BackupError(RuntimeError):
    """The backup could not be made (said why)."""


@dataclass(frozen=True)
class BackupResult:
    """What was written: ``path``, its ``size`` in bytes, and the ``method`` used."""

    path: Path
    size: int
    method: str


def backup(engine: Engine, dest: Path, *, overwrite: bool = False) -> BackupResult:
    """Back the database of ``engine`` up to ``dest``; refuses an existing file unless
    ``overwrite``."""
    dest = Path(dest).expanduser()
    if dest.exists() and not overwrite:
        raise BackupError(f"{dest} exists (pass --overwrite to replace it)")
    if not dest.parent.is_dir():
        raise BackupError(f"{dest.parent} is not a folder")
    partial = dest.with_name(f".{dest.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        if engine.dialect.name == "sqlite":
            method = _sqlite_backup(engine, partial)
        elif engine.dialect.name == "postgresql":
            method = _pg_dump(engine, partial)
        else:
            raise BackupError(f"no backup for {engine.dialect.name} (sqlite, postgresql)")
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(dest, dest.stat().st_size, method)


def _sqlite_backup(engine: Engine, target: Path) -> str:
    source_path = engine.url.database
    if not source_path or source_path == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    if not Path(source_path).is_file():
        raise BackupError(f"no database at {source_path}")
    source = sqlite3.connect(source_path, timeout=30)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # pages=-1: all at once, one consistent snapshot
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        copy.close()
        source.close()
    return "sqlite backup API"


def find_pg_dump() -> str | None:
    """``pg_dump`` on PATH, else the newest Debian server's (``/usr/lib/postgresql/*/bin``)."""
    on_path = shutil.which("pg_dump")
    if on_path:
        return on_path

    def version(path: str) -> int:
        name = Path(path).parent.parent.name
        return int(name) if name.isdigit() else 0

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"), key=version, reverse=True)
    return found[0] if found else None


def _pg_dump(engine: Engine, target: Path) -> str:
    pg_dump = find_pg_dump()
    if pg_dump is None:
        raise BackupError(PG_DUMP_HINT)
    url = engine.url
    args = [pg_dump, "--format=custom", f"--file={target}", "--no-password"]
    for flag, value in (("--host", url.host), ("--port", url.port), ("--username", url.username)):
        if value:
            args += [flag, str(value)]
    args.append(url.database or "postgres")
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)  # not on the command line, where ps shows it
    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BackupError(f"pg_dump failed ({proc.returncode}): {proc.stderr.strip()}")
    return "pg_dump --format=custom"

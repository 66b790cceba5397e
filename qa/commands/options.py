"""Pieces shared by the ``qa`` commands: the ``--db``, ``--since`` / ``--until``,
``--window-hours`` and ``--wait`` / ``--wait-timeout`` options, the fatal-error and
lock-held exits, and opening the database with an error that names it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.engine import Engine

    from qa.config import Settings
    from qa.store.lock import LockBusy

# Parentheses, not brackets: Typer's rich help treats "[...]" as markup and drops it.
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="Database file or SQLAlchemy URL (env QA_DB_URL; default ./callqa.db)."
    ),
]
# Commands that write take the database's run lock (qa.store.lock); these say what to do when
# another run holds it.
WaitOption = Annotated[
    bool,
    typer.Option(
        "--wait/--no-wait",
        help="When another run holds the database's run lock, wait for it to finish "
        "(default: exit 3 at once, naming the run).",
    ),
]
WaitTimeoutOption = Annotated[
    float | None,
    typer.Option(
        "--wait-timeout",
        min=0,
        metavar="SECONDS",
        help="Wait at most this long for the run lock, then exit 3 (implies --wait).",
    ),
]


RecordingsRootOption = Annotated[
    Path | None,
    typer.Option(
        help="Recordings must lie inside this folder; relative paths are read from it "
        "(default: the folder of calls.csv)."
    ),
]
MaxDateOption = Annotated[
    str | None, typer.Option(help="Latest accepted date, ISO (default: one day from now).")
]
MaxFieldBytesOption = Annotated[
    int | None, typer.Option(min=1, help="A longer CSV field rejects its row (default 1 MB).")
]

SinceOption = Annotated[
    str | None,
    typer.Option(help="First call start (ISO date/time, inclusive) (default: all data)."),
]
UntilOption = Annotated[
    str | None, typer.Option(help="Last call start (ISO date/time, exclusive).")
]
UiUrlOption = Annotated[
    str | None,
    typer.Option(
        "--ui-url",
        help="Review UI address for call links (env QA_UI_URL; default http://127.0.0.1:7860).",
    ),
]
WindowHoursOption = Annotated[
    float | None,
    typer.Option(
        help="Repeat-contact window, 24-72 hours (default 48; env QA_REPEAT_WINDOW_HOURS)."
    ),
]


def period(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    """``--since`` / ``--until`` as datetimes (None when not given); a value that is not an
    ISO date/time exits 1, naming the option."""
    from qa.ingest.records import RowError, parse_timestamp

    try:
        return (
            parse_timestamp(since, "--since") if since else None,
            parse_timestamp(until, "--until") if until else None,
        )
    except (ValueError, TypeError, RowError) as exc:
        raise fail(str(exc)) from exc


MinKOption = Annotated[
    int | None, typer.Option("--min-k", min=2, help="Fewest themes an automatic k may give.")
]
MaxKOption = Annotated[
    int | None, typer.Option("--max-k", min=2, help="Most themes an automatic k may give.")
]


def k_bounds_option(min_k: int | None, max_k: int | None) -> tuple[int, int] | None:
    """``--min-k`` / ``--max-k`` as the bounds of an automatic k (None: the defaults, 2 to
    ``classify.clustering.MAX_AUTO_K``); a min above the max is an error that says so."""
    if min_k is None and max_k is None:
        return None
    from classify.clustering import MAX_AUTO_K

    lo, hi = min_k or 2, max_k or max(MAX_AUTO_K, min_k or 2)
    if lo > hi:
        raise fail(f"--min-k {lo} is above --max-k {hi}; give a min at or below the max")
    return lo, hi


def fail(message: str) -> typer.Exit:
    """Print ``error: message`` on stderr; the caller raises the returned ``Exit(1)``.

    The one fatal-error exit of every command. The message is printed as it is (escaped: a
    path or value holding "[...]" is not taken for console markup)."""
    from rich.markup import escape

    from qa.console import err_console

    err_console().print(f"[red]error:[/red] {escape(message)}")
    return typer.Exit(1)


def open_engine(db: str | None) -> Engine:
    """``qa.store.engine.make_engine(db)``; a bad URL or an unreachable server exits 1,
    naming ``db``."""
    from qa.store.engine import make_engine

    try:
        return make_engine(db)
    except Exception as exc:  # any driver error is fatal here, and should say which database
        raise fail(f"cannot open database {db or '(default)'}: {exc}") from exc


def lock_busy(exc: LockBusy) -> typer.Exit:
    """Print ``error: another run (...) holds the lock ...`` on stderr; the caller raises the
    returned ``Exit(3)``."""
    from rich.markup import escape

    from qa.console import err_console
    from qa.store.lock import EXIT_LOCKED

    # Escaped: a database path or URL may hold "[...]", which rich would take for markup.
    err_console().print(f"[red]error:[/red] {escape(str(exc))}")
    return typer.Exit(EXIT_LOCKED)


@contextmanager
def hold_run_lock(engine: Engine, wait: bool, wait_timeout: float | None) -> Iterator[None]:
    """Hold ``engine``'s run lock for a command that writes; when another run holds it, wait
    (``--wait``, ``--wait-timeout``) or exit 3 naming that run."""
    from qa.store.lock import LockBusy, run_lock

    try:
        with run_lock(engine, wait=wait, timeout=wait_timeout):
            yield
    except LockBusy as exc:
        raise lock_busy(exc) from exc


MapOption = Annotated[
    list[str] | None,
    typer.Option("--map", help="Map a calls.csv column: COLUMN=ExportColumn (repeatable)."),
]
SurveyMapOption = Annotated[
    list[str] | None,
    typer.Option(
        "--survey-map", help="Map a surveys.csv column: COLUMN=ExportColumn (repeatable)."
    ),
]


class GroupBy(StrEnum):
    agent = "agent"
    team = "team"
    queue = "queue"
    day = "day"
    week = "week"


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class Channel(StrEnum):
    """The stereo channel the agent is on (``transcribe.AGENT_CHANNELS``)."""

    left = "left"
    right = "right"


def settings_or_fail(**overrides: object) -> Settings:
    """``Settings.from_env(**overrides)``; a bad ``QA_*`` variable or flag exits 1."""
    from qa.config import Settings

    try:
        return Settings.from_env(**overrides)
    except (ValueError, TypeError) as exc:
        raise fail(str(exc)) from exc

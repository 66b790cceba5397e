"""``qa init``: create the database tables."""

from __future__ import annotations

import typer

from qa.commands.options import (
    DbOption,
    open_engine,
)


def init(db: DbOption = None) -> None:
    """Create the database tables (safe to run again)."""
    from qa.store.engine import resolve_url

    open_engine(db)
    typer.echo(f"database ready: {resolve_url(db)}")

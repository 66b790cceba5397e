"""Typer options shared by several ``qa`` commands (one definition, one help text)."""

from __future__ import annotations

from typing import Annotated

import typer

# Parentheses, not brackets: Typer's rich help treats "[...]" as markup and drops it.
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="Database file or SQLAlchemy URL (env QA_DB_URL; default ./callqa.db)."
    ),
]

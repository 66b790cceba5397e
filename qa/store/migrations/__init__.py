"""The schema's Alembic migrations, shipped inside the package (no ``alembic.ini``).

``env.py`` runs them on the connection ``qa.store.migrate`` hands it; ``versions/`` holds one
script per revision, oldest first: ``0001`` the schema of release d877b09 (``baseline``),
``0002`` everything added since, ``0003`` stored results and their write counters
(``qa.store.snapshots``). A schema change adds a revision: see ARCHITECTURE.md.

:data:`HEAD` is spelled out here so that opening a database that is up to date (the
common case) compares one string and never imports Alembic; a test checks it against the
scripts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

SCRIPT_DIR = Path(__file__).resolve().parent
BASELINE = "0001"
HEAD = "0003"

# Made by raw DDL (qa.store.textsearch), not by the models: left out of autogenerate's
# comparison of the database with the models.
SEARCH_TABLES = ("turn_fts", "survey_fts")
SEARCH_COLUMNS = ("text_tsv", "comment_tsv")


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic's ``include_object`` hook: everything but the text-search objects."""
    del obj, reflected, compare_to
    name = name or ""
    if type_ == "table" and name.startswith(SEARCH_TABLES):
        return False
    if type_ == "column" and name in SEARCH_COLUMNS:
        return False
    return not (type_ == "index" and name.endswith(SEARCH_COLUMNS))

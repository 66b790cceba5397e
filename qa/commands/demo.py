"""``qa demo``: the bundled sample call center, end to end."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def demo(
    folder: Annotated[Path, typer.Option("--dir", help="Where the demo data and DB go.")] = Path(
        ".demo"
    ),
    port: Annotated[int, typer.Option(help="Port for the review UI.")] = 7860,
    serve_ui: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the UI afterwards.")
    ] = True,
) -> None:
    """Build the demo database from the bundled sample call center, run it all, serve the UI."""
    from qa.demo.project import run_demo

    code = run_demo(folder, port=port, serve=serve_ui)
    raise typer.Exit(code)

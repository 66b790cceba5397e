"""``qa demo``: the bundled sample call center, end to end."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from qa.demo.project import DemoRun


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

    run = run_demo(folder, demo_user=serve_ui)
    if serve_ui:
        _serve(run, port)
    raise typer.Exit(run.exit_code)


def _serve(run: DemoRun, port: int) -> None:
    """Serve the demo's UI on loopback, its recordings played redacted, until Ctrl+C."""
    from qa.commands.serve import serve_review_ui
    from qa.console import err_console
    from qa.demo.project import DEMO_ROLE, DEMO_USER

    def announce() -> None:
        err_console().print(
            f"[bold green]review UI:[/bold green] http://127.0.0.1:{port}  (Ctrl+C to stop)\n"
            f"sign in as [bold]{DEMO_USER}[/bold] with password [bold]{run.password}[/bold]"
            f" (role {DEMO_ROLE}; new each run; add your own with qa users add)"
        )

    serve_review_ui(run.engine, host="127.0.0.1", port=port, roots=[run.data], announce=announce)

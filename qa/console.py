"""Terminal output for the CLI: progress bars and report printing (stderr, so stdout stays data)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, TypeVar

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    from qa.ingest.report import IngestReport
    from qa.stages.pipeline import StageReport

T = TypeVar("T")
MAX_PROBLEM_LINES = 50


def err_console() -> Console:
    """The console that progress and reports go to (stderr)."""
    # soft_wrap: problem lines carry paths that must stay greppable, never folded.
    return Console(stderr=True, highlight=False, soft_wrap=True)


def rich_progress(items: Sequence[T], description: str) -> Iterable[T]:
    """A ``qa.stages.pipeline.Progress``: a progress bar on stderr while iterating ``items``."""
    columns = (
        TextColumn(f"{description:<11}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console(), transient=False) as progress:
        task = progress.add_task(description, total=len(items))
        for item in items:
            yield item
            progress.advance(task)


def print_ingest(report: IngestReport, console: Console) -> None:
    """One summary line per file, then its problems (capped) and where the rejects went."""
    # File names, ids and reasons come from exports: escaped, so "[/yellow]" in a cell is text.
    console.print(
        f"[bold]{report.kind}[/bold] {escape(str(report.file))}: {report.inserted} new, "
        f"{report.updated} updated, {report.unchanged} unchanged, "
        f"{len(report.rejects)} rejected"
    )
    lines = report.lines()
    for line in lines[:MAX_PROBLEM_LINES]:
        console.print(f"  [yellow]{escape(line)}[/yellow]", markup=True, highlight=False)
    if len(lines) > MAX_PROBLEM_LINES:
        console.print(f"  ... and {len(lines) - MAX_PROBLEM_LINES} more")
    if report.rejects_path:
        console.print(f"  rejected rows written to {escape(str(report.rejects_path))}")


def print_stage(report: StageReport, console: Console) -> None:
    """One summary line per stage, then each failed call and why."""
    console.print(
        f"[bold]{report.stage}[/bold]: {report.done} done, {len(report.failed)} failed"
        + (f", {report.skipped} unchanged" if report.skipped else "")
    )
    for call_id, why in report.failed[:MAX_PROBLEM_LINES]:
        console.print(f"  [red]call {escape(call_id)}: {escape(why)}[/red]")

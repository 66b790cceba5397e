"""What the ``qa text`` commands share: the output format and file options, reading the
input CSV, opening the output, a progress bar for big inputs, extra output columns.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated, Any

import typer

from qa.commands.options import fail

PROGRESS_MIN_ROWS = 500
"""Files with at least this many rows get a progress bar on stderr."""


class TextFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"


FileArg = Annotated[Path, typer.Argument(help="CSV file with a header row (UTF-8).")]
FormatOption = Annotated[TextFormat, typer.Option("--format", "-f", help="Output format.")]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
]
ModelsDirOption = Annotated[
    Path | None,
    typer.Option("--models-dir", help="Folder of trained models (default: models/trained)."),
]


def read_column(file: Path, *columns: str) -> Any:
    """The CSV as a ``classify.textio.TextTable``, or a clean exit naming what is wrong."""
    from classify.textio import TextInputError, read_table

    try:
        return read_table(file, required=columns)
    except TextInputError as exc:
        raise fail(str(exc)) from None


@contextmanager
def open_output(output: Path | None) -> Iterator[IO[str]]:
    """``output`` opened for writing (UTF-8, CSV-safe newlines), or stdout."""
    if output is None:
        yield sys.stdout
        return
    with output.open("w", encoding="utf-8", newline="") as handle:
        yield handle


@contextmanager
def progress_bar(total: int, description: str) -> Iterator[Callable[[int], Any] | None]:
    """``update(done)`` drawing a rich progress bar on stderr for big inputs (at least
    ``PROGRESS_MIN_ROWS``), or None for small ones."""
    if total < PROGRESS_MIN_ROWS:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from qa.console import err_console

    bar = Progress(
        description, BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err_console(), transient=False,
    )  # fmt: skip
    with bar:
        task = bar.add_task(description, total=total)
        yield lambda done: bar.update(task, completed=done)


def write_extra_csv(out: IO[str], table: Any, extra: dict[str, list[str]]) -> None:
    """The input columns plus ``extra`` ones (prefixed ``qa_`` if the input has that name)."""
    from qa.safecsv import SafeWriter

    names = [name if name not in table.columns else f"qa_{name}" for name in extra]
    writer = SafeWriter(out, lineterminator="\n")
    writer.writerow([*table.columns, *names])
    for n, row in enumerate(table.rows):
        writer.writerow([*(row[c] for c in table.columns), *(v[n] for v in extra.values())])


def build_static_table(model: str) -> None:
    """Build the static token table that fitted embeddings start from, saying so (once per
    machine, ~30 s; ``classify.static_embed``)."""
    from classify.embeddings import model_dir
    from classify.static_embed import static_file, static_path
    from qa.console import err_console

    path = model_dir(model)
    if static_file(path).is_file():
        return
    with err_console().status("building the static token table (once per machine, ~30 s)"):
        static_path(path)

"""``qa decisions export|import|rules``: reviewers' decisions as data.

Registered on the ``qa`` app in ``qa.cli``. Export writes every decision, history included;
import brings labels from another tool (``qa.review.decision_files``); rules lists each
taxonomy pattern's precision measured from decisions.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from qa.commands.options import DbOption, OutputFormat, fail, open_engine
from qa.commands.text_io import open_output

app = typer.Typer(
    help="Reviewers' tag decisions: export, import, rule precision.", no_args_is_help=True
)


class FileFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


OutOption = Annotated[
    Path | None, typer.Option("--out", "-o", help="Write to this file (default: standard output).")
]


@app.command("export")
def export(
    fmt: Annotated[FileFormat, typer.Option("--format", help="csv or jsonl.")] = FileFormat.csv,
    out: OutOption = None,
    db: DbOption = None,
) -> None:
    """Every decision ever made (nothing is overwritten), oldest first: reviewer, role, call,
    tag, present, scope (call, comment or transcript turn and span), evidence, comment."""
    from qa.review.decision_files import export_decisions
    from qa.store.engine import session_scope

    engine = open_engine(db)
    with open_output(out) as handle, session_scope(engine) as session:
        count = export_decisions(session, handle, fmt.value)
    if out is not None:
        typer.echo(f"wrote {count} decisions to {out}", err=True)


@app.command("import")
def import_(
    path: Annotated[
        Path,
        typer.Argument(
            help="CSV: call_id, reviewer, tag, present[, evidence, created_at, comment]."
        ),
    ],
    db: DbOption = None,
) -> None:
    """Add decisions from another tool. call_id is the call's external id; present is
    yes/no, true/false or 1/0. Bad rows are reported and skipped; rows already imported
    (same call, reviewer, tag, answer and created_at) are skipped, so a re-run adds nothing.
    Exit code 2 when some rows were bad."""
    from qa.ingest.csvfile import IngestError
    from qa.review.decision_files import import_decisions
    from qa.store.engine import session_scope

    engine = open_engine(db)
    try:
        with session_scope(engine) as session:
            report = import_decisions(session, path)
    except IngestError as exc:
        raise fail(str(exc)) from None
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)
    for error in report.errors:
        typer.echo(f"skipped {error}", err=True)
    typer.echo(
        f"imported {report.added} decisions from {path}; {report.duplicates} already "
        f"there; {len(report.errors)} rows with errors"
    )
    if report.errors:
        raise typer.Exit(2)


@app.command("rules")
def rules(
    fmt: Annotated[OutputFormat, typer.Option("--format", help="table or json.")] = (
        OutputFormat.table
    ),
    floor: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Flag rules below this precision.")
    ] = 0.8,
    min_decisions: Annotated[
        int, typer.Option(min=1, help="Judged hits a rule needs before it is flagged.")
    ] = 5,
    db: DbOption = None,
) -> None:
    """Each rule pattern's precision from reviewers' decisions on its hits, weakest first
    ("re-explain#3: 12 confirmed, 5 rejected, precision 0.71"); flags those below --floor."""
    from qa.review.reviews import rule_precision, weak_rules
    from qa.store.engine import session_scope

    with session_scope(open_engine(db)) as session:
        found = rule_precision(session=session)
    weak = {id(r) for r in weak_rules(found, floor=floor, min_decisions=min_decisions)}
    if fmt == OutputFormat.json:
        rows = [{**r.to_dict(), "below_floor": id(r) in weak} for r in found]
        typer.echo(json.dumps(rows, indent=2))
        return
    if fmt != OutputFormat.table:
        raise fail(f"--format {fmt.value} is not offered here; choose table or json")
    if not found:
        typer.echo("no rule hit has a reviewer decision yet")
        return
    for r in found:
        flag = "  << below floor" if id(r) in weak else ""
        typer.echo(
            f"{r.rule}: {r.confirmed} confirmed, {r.rejected} rejected, "
            f"precision {r.precision:.2f}{flag}"
        )

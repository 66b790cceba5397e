"""``qa text train``: train the learned tagger and print its cross-validated scores."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from qa.commands.options import DbOption, fail
from qa.commands.text_io import ModelsDirOption, read_column


def train(
    labels: Annotated[
        Path | None,
        typer.Argument(help="CSV with a text column and a tags column ('a;b'; empty = none)."),
    ] = None,
    text_column: Annotated[str, typer.Option(help="Column with the text.")] = "text",
    tags_column: Annotated[str, typer.Option(help="Column with the tags.")] = "tags",
    sep: Annotated[str, typer.Option(help="Separator between tags in a cell.")] = ";",
    from_db: Annotated[
        bool, typer.Option("--from-db", help="Add reviewer decisions from the database.")
    ] = False,
    db: DbOption = None,
    taxonomy_examples: Annotated[
        bool,
        typer.Option("--taxonomy/--no-taxonomy", help="Add the taxonomy's example sentences."),
    ] = True,
    bank: Annotated[
        bool,
        typer.Option(
            "--bank/--no-bank",
            help="Add the example bank the default model is built from "
            "(models/tag_examples.jsonl).",
        ),
    ] = True,
    models_dir: ModelsDirOption = None,
    folds: Annotated[int, typer.Option(min=2, help="Cross-validation folds.")] = 5,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Train the learned tagger into models/trained/ and print cross-validated
    precision / recall / F1 per tag."""
    from qa.stages import retrain as training

    examples: list[Any] = []
    if bank:  # first, so that a labels file or reviewers overrule it (``merge``)
        try:
            examples += training.bank_examples()
        except ValueError as exc:
            raise fail(str(exc)) from None
    if labels is not None:
        from classify.learned import label_sets

        table = read_column(labels, text_column, tags_column)
        sets = label_sets(table.column(tags_column), sep)
        examples += training.label_examples(table.column(text_column), sets)
    taxonomy = None
    if taxonomy_examples:
        from classify import RuleTagger, load_taxonomy

        taxonomy = load_taxonomy()
        examples += training.taxonomy_examples(taxonomy, RuleTagger(taxonomy).fit())
    unused = 0
    if from_db:
        from sqlmodel import Session

        from qa.store.engine import make_engine

        try:
            engine = make_engine(db)
            with Session(engine) as session:
                human, unused = training.human_examples(session)
        except Exception as exc:  # an unreachable or broken database is fatal; say which
            raise fail(f"cannot read reviewer decisions from {db or '(default)'}: {exc}") from exc
        examples += human
    if not examples:
        raise fail("nothing to train on: give LABELS.csv, --from-db, or keep --taxonomy / --bank")
    try:
        report = training.train(
            examples, models_dir=models_dir, taxonomy=taxonomy, folds=folds, unused=unused
        )
    except ValueError as exc:
        raise fail(str(exc)) from None
    _print_train(report, json_out)


def _print_train(report: Any, json_out: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    from qa.console import err_console

    if json_out:
        print(json.dumps({"model": str(report.path), **report.metadata}, indent=2))
        return
    table = Table(title=f"cross-validated per tag ({report.path})")
    for name in ("tag", "pos", "neg", "precision", "recall", "F1", "cut-off", "folds",
                 "calibration"):  # fmt: skip
        table.add_column(name, justify="left" if name in ("tag", "calibration") else "right")

    def fmt(x: float | None) -> str:
        return "—" if x is None else f"{x:.2f}"

    for s in report.scores:
        cut = "off" if s.tag in report.weak else f"{s.threshold:.2f}"
        table.add_row(s.tag, str(s.positives), str(s.negatives), fmt(s.precision),
                      fmt(s.recall), fmt(s.f1), cut, str(s.folds), s.calibration)  # fmt: skip
    Console(highlight=False, width=110).print(table)
    err = err_console()
    counts = ", ".join(f"{v} {k}" for k, v in report.examples.items())
    err.print(f"trained on {counts} examples in {report.seconds:.1f}s -> {report.path}")
    for tag_name, why in report.weak.items():
        err.print(f"[bold red]WEAK TAG {tag_name}[/bold red]: {why}")
    for tag_name, why in report.skipped.items():
        err.print(f"[bold red]NOT LEARNED {tag_name}[/bold red]: {why}; rules only")
    if report.unused:
        err.print(f"{report.unused} reviewer decision(s) had no text to learn from")

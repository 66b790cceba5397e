"""``qa tag``: tag what changed, optionally retrain the learned tagger first, update themes.

Registered on the ``qa`` app in ``qa.cli``. Heavy imports (spaCy, sentence-transformers,
scikit-learn) happen inside the function, so ``qa --help`` stays instant.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from qa.commands.options import (
    DbOption,
    MaxKOption,
    MinKOption,
    WaitOption,
    WaitTimeoutOption,
    fail,
    hold_run_lock,
    k_bounds_option,
    open_engine,
)


def tag(
    taxonomy: Annotated[
        Path | None, typer.Option(help="Taxonomy JSON (default models/taxonomy.json).")
    ] = None,
    retrain: Annotated[
        bool,
        typer.Option(
            "--retrain",
            help="First retrain the learned tagger on the taxonomy's examples + every "
            "reviewer decision in the database; then re-tag every call with it.",
        ),
    ] = False,
    themes: Annotated[
        bool,
        typer.Option("--themes/--no-themes", help="Afterwards update the themes (clusters)."),
    ] = True,
    recluster: Annotated[
        bool,
        typer.Option(
            "--recluster",
            help="Re-cluster every text instead of adding new texts to existing themes "
            "(theme ids are kept where themes continue).",
        ),
    ] = False,
    k: Annotated[
        int | None,
        typer.Option(
            min=2, help="Number of themes on a re-cluster (default: chosen automatically)."
        ),
    ] = None,
    min_k: MinKOption = None,
    max_k: MaxKOption = None,
    db: DbOption = None,
    wait: WaitOption = False,
    wait_timeout: WaitTimeoutOption = None,
) -> None:
    """Tag survey comments and transcripts whose text, taxonomy or model changed since last
    time; transfer announcements get their reason (transfer:billing, ...). Exit 3 when another
    run holds the database's run lock (or --wait for it)."""
    from qa.config import Settings
    from qa.console import err_console, print_stage, rich_progress
    from qa.stages.factories import default_tagger, trained_model_path
    from qa.stages.pipeline import tag_calls
    from qa.stages.themes import update_themes

    console = err_console()
    k_range = k_bounds_option(min_k, max_k)
    try:
        settings = Settings.from_env()
    except (ValueError, TypeError) as exc:  # a bad QA_* variable; the message names it
        raise fail(str(exc)) from exc
    engine = open_engine(db)
    # Taken before any model loads, so that a second run exits 3 at once; held through the
    # retrain too, so two runs never write the trained model at the same time.
    with hold_run_lock(engine, wait, wait_timeout):
        if retrain:
            _retrain(engine, trained_model_path(settings).parent, taxonomy, console)
        try:
            tagger, version = default_tagger(settings, taxonomy)
        except (ValueError, FileNotFoundError) as exc:
            raise fail(str(exc)) from exc
        report = tag_calls(engine, tagger=tagger, version=version, progress=rich_progress)
        print_stage(report, console)
        if themes:
            with console.status("themes: embedding and clustering"):
                result = update_themes(engine, full=recluster, k=k, k_range=k_range,
                                       models_dir=settings.models_dir)  # fmt: skip
            console.print(
                f"[bold]themes[/bold]: {result.mode}, {result.themes} themes"
                f" ({result.new_themes} new), {result.assigned} texts assigned,"
                f" {result.unassigned} unassigned of {result.texts}"
            )
    raise typer.Exit(2 if report.failed else 0)


def _retrain(engine: Any, models_dir: Path, taxonomy: Path | None, console: Any) -> None:
    from classify import RuleTagger, load_taxonomy
    from qa.stages.retrain import retrain

    try:
        tax = load_taxonomy(taxonomy)
        with console.status("retraining the learned tagger (embeddings + cross-validation)"):
            report = retrain(
                engine, models_dir=models_dir, taxonomy=tax, rules=RuleTagger(tax).fit()
            )
    except (ValueError, FileNotFoundError) as exc:
        raise fail(f"retrain failed: {exc}") from exc
    counts = ", ".join(f"{v} {k}" for k, v in report.examples.items())
    console.print(
        f"[bold]retrain[/bold]: {counts} examples, {report.seconds:.1f}s -> {report.path}"
    )
    for s in report.scores:
        f1 = "—" if s.f1 is None else f"{s.f1:.2f}"
        cut = f", cut-off {s.threshold:.2f}" if s.tag not in report.weak else ""
        console.print(f"  {s.tag}: cross-validated F1 {f1} ({s.positives} positive{cut})")
    for tag_name, why in report.weak.items():
        console.print(f"  [bold red]WEAK TAG {tag_name}[/bold red]: {why}")
    for tag_name, why in report.skipped.items():
        console.print(f"  [bold red]NOT LEARNED {tag_name}[/bold red]: {why}; rules only")
    if report.weak or report.skipped:
        console.print(
            "  [red]Add examples of these tags (confirm or add them in the review UI, or "
            "list them in a labels file for `qa text train`), then retrain.[/red]"
        )
    if report.unused:
        console.print(f"  {report.unused} reviewer decision(s) had no text to learn from")

"""``qa nightly``: every stage on a folder of exports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qa.commands.options import (
    Channel,
    DbOption,
    MapOption,
    MaxDateOption,
    MaxFieldBytesOption,
    RecordingsRootOption,
    SurveyMapOption,
    WaitOption,
    WaitTimeoutOption,
    fail,
    lock_busy,
    open_engine,
    settings_or_fail,
)


def nightly(
    folder: Annotated[
        Path, typer.Argument(help="Folder with calls.csv, optional surveys.csv, recordings.")
    ],
    map_: MapOption = None,
    survey_map: SurveyMapOption = None,
    agent_channel: Annotated[
        Channel | None, typer.Option(help="Stereo channel of the agent (default: left).")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Whisper model (default: tiny.en).")] = None,
    recordings_root: RecordingsRootOption = None,
    max_date: MaxDateOption = None,
    max_field_bytes: MaxFieldBytesOption = None,
    db: DbOption = None,
    wait: WaitOption = False,
    wait_timeout: WaitTimeoutOption = None,
) -> None:
    """Run every stage on a folder of exports; safe to re-run (resumes, never duplicates).
    Exit 3 when another run holds the database's run lock (or --wait for it)."""
    from qa.console import err_console, print_ingest, print_stage, rich_progress
    from qa.ingest.exports import IngestError, options_from_cli, parse_mapping
    from qa.metrics.display import format_table
    from qa.stages.nightly import run_nightly
    from qa.store.lock import LockBusy

    settings = settings_or_fail(
        agent_channel=agent_channel.value if agent_channel else None, asr_model=model
    )
    console = err_console()
    try:
        report = run_nightly(
            folder, engine=open_engine(db), settings=settings,
            mapping=parse_mapping(map_ or []), survey_mapping=parse_mapping(survey_map or []),
            ingest_options=options_from_cli(recordings_root, max_date, max_field_bytes),
            progress=rich_progress, wait=wait, wait_timeout=wait_timeout,
        )  # fmt: skip
    except LockBusy as exc:
        raise lock_busy(exc) from exc
    except (IngestError, ValueError, FileNotFoundError) as exc:
        raise fail(str(exc)) from exc
    for ingest_report in report.ingests:
        print_ingest(ingest_report, console)
    for stage in report.stages:
        print_stage(stage, console)
    if report.themes is not None:
        t = report.themes
        console.print(
            f"[bold]themes[/bold]: {t.mode}, {t.themes} themes, {t.assigned} texts assigned,"
            f" {t.unassigned} unassigned"
        )
    typer.echo(format_table([report.kpis]))
    for warning in report.warnings:
        console.print(f"[yellow]warning: {warning}[/yellow]")
    if report.report_path:
        console.print(f"report: {report.report_path}")
    console.print(
        f"run {report.run_id}: "
        + ("ok" if report.exit_code == 0 else "partial: see problems above")
    )
    raise typer.Exit(report.exit_code)

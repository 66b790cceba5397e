"""The ``qa`` command line: thin Typer commands over plain functions.

Exit codes: 0 ok, 1 fatal (nothing done), 2 partial (some rows or calls failed; see the
report), 3 another run holds the database's run lock. Heavy libraries (torch, Whisper, spaCy,
Gradio) are imported inside commands only, so ``qa --help`` is instant.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from qa.commands import models as models_commands
from qa.commands import text as text_commands
from qa.commands import users as users_commands
from qa.commands.asr import asr as asr_command
from qa.commands.options import (
    DbOption,
    MaxDateOption,
    MaxFieldBytesOption,
    RecordingsRootOption,
    SinceOption,
    UntilOption,
    WaitOption,
    WaitTimeoutOption,
    WindowHoursOption,
    fail,
    hold_run_lock,
    lock_busy,
    open_engine,
    period,
)
from qa.commands.report import report as report_command
from qa.commands.tag import tag as tag_command
from qa.commands.why import why as why_command
from qa.config import Settings

app = typer.Typer(
    name="qa",
    help="callqa: transcribe calls, tag why customers are unhappy, join tags to CSAT/FCR/NPS/CES.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

MapOption = Annotated[
    list[str] | None,
    typer.Option("--map", help="Map a calls.csv column: COLUMN=ExportColumn (repeatable)."),
]
SurveyMapOption = Annotated[
    list[str] | None,
    typer.Option(
        "--survey-map", help="Map a surveys.csv column: COLUMN=ExportColumn (repeatable)."
    ),
]


class GroupBy(StrEnum):
    agent = "agent"
    team = "team"
    queue = "queue"
    day = "day"
    week = "week"


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class Channel(StrEnum):
    left = "left"
    right = "right"


def _settings(**overrides: object) -> Settings:
    try:
        return Settings.from_env(**overrides)
    except (ValueError, TypeError) as exc:
        raise fail(str(exc)) from exc


@app.command()
def init(db: DbOption = None) -> None:
    """Create the database tables (safe to run again)."""
    from qa.db import resolve_url

    open_engine(db)
    typer.echo(f"database ready: {resolve_url(db)}")


@app.command()
def ingest(
    calls: Annotated[Path | None, typer.Option(help="Telephony export (calls.csv).")] = None,
    surveys: Annotated[Path | None, typer.Option(help="Survey export (surveys.csv).")] = None,
    map_: MapOption = None,
    survey_map: SurveyMapOption = None,
    recordings_root: RecordingsRootOption = None,
    max_date: MaxDateOption = None,
    max_field_bytes: MaxFieldBytesOption = None,
    db: DbOption = None,
) -> None:
    """Validate and store calls and/or surveys. Bad rows go to FILE.rejects.csv (exit 2)."""
    from sqlmodel import Session

    from qa.console import err_console, print_ingest
    from qa.ingest import (
        IngestError,
        ingest_calls,
        ingest_surveys,
        options_from_cli,
        parse_mapping,
    )
    from qa.nightly import default_comment_redactor

    if calls is None and surveys is None:
        raise fail("nothing to ingest: give --calls FILE and/or --surveys FILE")
    engine, console, reports = open_engine(db), err_console(), []
    try:
        options = options_from_cli(recordings_root, max_date, max_field_bytes)
        # Rejected rows are redacted like comments, so the calls file needs the redactor too.
        redact = default_comment_redactor(_settings())
        with Session(engine) as session:
            if calls is not None:
                mapping = parse_mapping(map_ or [])
                reports.append(ingest_calls(calls, session=session, mapping=mapping,
                                            redact=redact, options=options))  # fmt: skip
            if surveys is not None:
                mapping = parse_mapping(survey_map or [])
                reports.append(ingest_surveys(surveys, session=session, mapping=mapping,
                                              redact=redact, options=options))  # fmt: skip
    except IngestError as exc:
        raise fail(str(exc)) from exc
    for report in reports:
        print_ingest(report, console)
    raise typer.Exit(2 if any(r.rejects for r in reports) else 0)


@app.command()
def transcribe(
    engine_name: Annotated[str, typer.Option("--engine", help="ASR engine.")] = "faster-whisper",
    model: Annotated[
        str, typer.Option(help="Whisper model name or CTranslate2 folder.")
    ] = "tiny.en",
    agent_channel: Annotated[
        Channel, typer.Option(help="Stereo channel of the agent.")
    ] = Channel.left,
    call: Annotated[list[str] | None, typer.Option(help="Only this call id (repeatable).")] = None,
    db: DbOption = None,
    wait: WaitOption = False,
    wait_timeout: WaitTimeoutOption = None,
) -> None:
    """Transcribe calls that are pending or failed (exit 2 if any recording fails, 3 if another
    run holds the database's run lock)."""
    from qa.console import err_console, print_stage, rich_progress
    from qa.nightly import default_transcriber
    from qa.pipeline import transcribe_calls

    settings = _settings(asr_engine=engine_name, asr_model=model, agent_channel=agent_channel.value)
    engine = open_engine(db)
    # The lock first: a second run exits 3 before it spends time loading Whisper.
    with hold_run_lock(engine, wait, wait_timeout):
        try:
            transcriber = default_transcriber(settings)
        except (ValueError, FileNotFoundError) as exc:
            raise fail(str(exc)) from exc
        report = transcribe_calls(
            engine, transcriber=transcriber, call_ids=call, progress=rich_progress
        )
    print_stage(report, err_console())
    raise typer.Exit(2 if report.failed else 0)


@app.command()
def kpis(
    by: Annotated[GroupBy | None, typer.Option(help="Group rows by this dimension.")] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help="Output format.")
    ] = OutputFormat.table,
    window_hours: WindowHoursOption = None,
    service_level_seconds: Annotated[
        float | None, typer.Option(help="Service-level threshold in seconds (default 20).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Contact-center KPIs: AHT, ASA, service level, abandonment, transfers, FCR, CSAT, NPS, CES."""
    from sqlmodel import Session

    from qa.kpi_load import load_facts
    from qa.kpis import (
        KpiOptions,
        compute_kpis,
        compute_kpis_by,
        filter_calls,
        format_table,
        to_csv,
    )

    settings = _settings(window_hours=window_hours, service_level_seconds=service_level_seconds)
    options = KpiOptions(settings.window_hours, settings.service_level_seconds)
    start, end = period(since, until)  # bad input exits before the database is touched
    with Session(open_engine(db)) as session:
        history, surveys = load_facts(session)
    calls = filter_calls(history, start, end)
    if by is None:
        result: dict | list = compute_kpis(calls, surveys, options, history=history)
        rows = [result]
    else:
        result = rows = compute_kpis_by(calls, surveys, by.value, options, history=history)
    if fmt is OutputFormat.json:
        typer.echo(json.dumps(result, indent=2, default=str))
    elif fmt is OutputFormat.csv:
        typer.echo(to_csv(rows), nl=False)
    else:
        typer.echo(format_table(rows))


@app.command()
def serve(
    host: Annotated[
        str, typer.Option(help="Interface to listen on (anything but loopback needs a user).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 7860,
    recordings_root: Annotated[
        list[Path] | None,
        typer.Option(
            envvar="QA_RECORDINGS_ROOT",
            help="Folder the recordings lie under (repeatable; env QA_RECORDINGS_ROOT). The UI "
            "plays only files inside it, redacted unless QA_REDACTION says otherwise.",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Serve the review UI (calls, transcripts with tags, confirm / reject, insights, themes).

    Everyone signs in once a user exists (qa users add); with no user the UI is read-only
    and only 127.0.0.1 may be served."""
    from sqlmodel import Session

    from qa.auth import has_users
    from qa.playback import Playback
    from review_ui.app import is_loopback, refuse_open_host
    from review_ui.app import serve as serve_ui

    engine = open_engine(db)
    settings = _settings()
    roots = [r for r in recordings_root or [] if str(r)]
    missing = [str(r) for r in roots if not r.is_dir()]
    if missing:
        raise fail(f"--recordings-root: not a folder: {', '.join(missing)}")
    with Session(engine) as session:
        if not is_loopback(host) and not has_users(session=session):
            raise fail(refuse_open_host(host))
    playback = Playback(roots, redaction=settings.redaction) if roots else None
    typer.echo(f"review UI on http://{host}:{port}  (Ctrl+C to stop)")
    try:
        serve_ui(engine, host=host, port=port, playback=playback)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    finally:
        if playback is not None:
            playback.close()


@app.command()
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
    from qa.ingest import IngestError, options_from_cli, parse_mapping
    from qa.kpis import format_table
    from qa.nightly import run_nightly
    from qa.runlock import LockBusy

    settings = _settings(
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


@app.command()
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


# Commands that live in their own modules (heavy imports stay inside their bodies).
app.command(name="tag")(tag_command)
app.command(name="why")(why_command)
app.command(name="asr")(asr_command)
app.command(name="report")(report_command)
app.add_typer(models_commands.app, name="models")
app.add_typer(users_commands.app, name="users")
app.add_typer(text_commands.app, name="text")


def main() -> None:
    """Console-script entry point."""
    app()

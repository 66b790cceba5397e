"""``qa nightly``: every stage on a folder of exports."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from qa.commands.options import (
    Channel,
    DbOption,
    MapOption,
    MaxDateOption,
    MaxFieldBytesOption,
    RecordingsRootOption,
    SurveyMapOption,
    UiUrlOption,
    WaitOption,
    WaitTimeoutOption,
    fail,
    lock_busy,
    open_engine,
    settings_or_fail,
)
from qa.commands.ray_options import (
    MaxRetriesOption,
    RayOption,
    ShipAudioOption,
    WorkersOption,
    ray_executor,
)
from qa.commands.wfm_options import (
    CostPerAgentHourOption,
    CurrencyOption,
    StateMapOption,
    WfmMapOption,
    wfm_options,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from qa.config import Settings


def nightly(
    folder: Annotated[
        Path,
        typer.Argument(
            help="Folder with calls.csv, optional surveys.csv, agent_states.csv, schedule.csv,"
            " costs.csv, recordings."
        ),
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
    wfm_map: WfmMapOption = None,
    state_map: StateMapOption = None,
    cost_per_agent_hour: CostPerAgentHourOption = None,
    currency: CurrencyOption = "",
    db: DbOption = None,
    wait: WaitOption = False,
    wait_timeout: WaitTimeoutOption = None,
    ui_url: UiUrlOption = None,
    ray: RayOption = None,
    workers: WorkersOption = None,
    max_retries: MaxRetriesOption = 3,
    ship_audio: ShipAudioOption = False,
) -> None:
    """Run every stage on a folder of exports; safe to re-run (resumes, never duplicates).
    Exit 3 when another run holds the database's run lock (or --wait for it)."""
    from qa.console import err_console, print_ingest, print_stage, rich_progress
    from qa.ingest.exports import IngestError, options_from_cli, parse_mapping
    from qa.metrics.display import format_table
    from qa.stages.nightly import run_nightly
    from qa.store.lock import LockBusy

    settings = settings_or_fail(
        agent_channel=agent_channel.value if agent_channel else None,
        asr_model=model,
        ui_url=ui_url,
    )
    console = err_console()
    wfm = wfm_options(wfm_map, state_map, cost_per_agent_hour, currency)
    remote = ray_executor(ray, workers, max_retries, ship_audio, settings)
    try:
        with remote as executor:
            report = run_nightly(
                folder, engine=open_engine(db), settings=settings,
                mapping=parse_mapping(map_ or []), survey_mapping=parse_mapping(survey_map or []),
                ingest_options=options_from_cli(recordings_root, max_date, max_field_bytes),
                progress=rich_progress, wait=wait, wait_timeout=wait_timeout, wfm=wfm,
                ray=executor,
            )  # fmt: skip
    except LockBusy as exc:
        raise lock_busy(exc) from exc
    except (IngestError, ValueError, FileNotFoundError) as exc:
        raise fail(str(exc)) from exc
    except ConnectionError as exc:  # --ray auto / ADDRESS with no cluster there
        raise fail(f"--ray {ray}: cannot reach the Ray cluster: {exc}") from exc
    for ingest_report in report.ingests:
        print_ingest(ingest_report, console)
    for stage in report.stages:
        print_stage(stage, console)
    if ray is not None:
        ex = report.executor
        console.print(
            f"[bold]ray[/bold] {ray}: {ex.get('workers')} workers on {ex.get('nodes')} node(s),"
            f" {ex.get('tasks')} tasks, {ex.get('retries')} retried"
        )
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
    try:
        _store_views(open_engine(db), settings, console)
    except Exception as exc:  # the run is done: a view not stored is computed on first look
        console.print(f"[yellow]warning: views not stored ({type(exc).__name__}: {exc})[/yellow]")
    raise typer.Exit(report.exit_code)


def _store_views(engine: Engine, settings: Settings, console: Any) -> None:
    """Compute and store the views people open first (``qa kpis`` over all data and the
    Insights tab's all-data sections), so that the morning's first look is served from the
    snapshot instead of computed (``qa.store.snapshots``): at a million calls that saves
    tens of seconds and minutes."""
    from qa.metrics.base import KpiOptions
    from qa.metrics.kpi_table import kpi_table
    from qa.report.insights_view import served_sections

    options = KpiOptions(settings.window_hours, settings.service_level_seconds)
    views = {
        "qa kpis": kpi_table(engine, by=None, since=None, until=None, options=options),
        "Insights": served_sections(engine),
    }
    console.print(
        "[bold]stored views[/bold]: "
        + ", ".join(
            f"{name} {view.seconds:.1f} s" + (" (already stored)" if view.stored else "")
            for name, view in views.items()
        )
    )

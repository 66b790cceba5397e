"""``qa demo``: copy the bundled sample call center, run the whole pipeline, serve the UI."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from qa.config import Settings

DATA_DIR = Path(__file__).resolve().parent / "data"


def prepare_demo_folder(folder: Path) -> Path:
    """Copy the bundled demo exports + recordings into ``folder/data`` (kept if already there).

    Working on a copy keeps the package data pristine: users may edit or break the copy.
    """
    target = folder / "data"
    if not (target / "calls.csv").exists():
        shutil.copytree(DATA_DIR, target, dirs_exist_ok=True)
    return target


def run_demo(folder: Path, *, port: int = 7860, serve: bool = True) -> int:
    """Build ``folder/callqa.db`` from the demo data, print KPIs and drivers, serve the UI."""
    from sqlmodel import Session

    from qa.console import err_console, print_ingest, print_stage, rich_progress
    from qa.db import make_engine
    from qa.drivers import format_analysis, why
    from qa.kpis import format_table
    from qa.nightly import run_nightly

    console = err_console()
    started = time.perf_counter()
    data = prepare_demo_folder(folder)
    db_path = folder / "callqa.db"
    console.print(f"[bold]callqa demo[/bold]: data in {data}, database {db_path}")
    engine = make_engine(str(db_path))
    report = run_nightly(data, engine=engine, settings=Settings.from_env(), progress=rich_progress)
    for ingest in report.ingests:
        print_ingest(ingest, console)
    for stage in report.stages:
        print_stage(stage, console)
    print(format_table([report.kpis]))
    with Session(engine) as session:
        print("\nDrivers of CSAT (qa why):")
        print(format_analysis(why(session)))
    if report.report_path:
        console.print(f"HTML report: {report.report_path}")
    console.print(f"pipeline finished in {time.perf_counter() - started:.0f} s")
    if serve:
        from review_ui.app import serve as serve_ui

        console.print(
            f"[bold green]review UI:[/bold green] http://127.0.0.1:{port}  (Ctrl+C to stop)"
        )
        serve_ui(engine, host="127.0.0.1", port=port)
    return report.exit_code

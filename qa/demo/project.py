"""``qa demo``: copy the bundled sample call center and run the whole pipeline on it;
``qa.commands.demo`` then serves the UI with what ``run_demo`` returns."""

from __future__ import annotations

import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from qa.config import Settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

DATA_DIR = Path(__file__).resolve().parent / "data"
DEMO_USER, DEMO_ROLE = "demo", "lead"


def prepare_demo_folder(folder: Path) -> Path:
    """Copy the bundled demo exports + recordings into ``folder/data`` (kept if already there).

    Working on a copy keeps the package data pristine: users may edit or break the copy.
    """
    target = folder / "data"
    if not (target / "calls.csv").exists():
        shutil.copytree(DATA_DIR, target, dirs_exist_ok=True)
    return target


@dataclass(frozen=True)
class DemoRun:
    """A finished demo pipeline: what serving its UI needs.

    ``data``: the copied exports and recordings (the recordings root); ``password``: the
    demo user's new password (None when the demo user was not asked for).
    """

    exit_code: int
    engine: Engine
    data: Path
    password: str | None = None


def run_demo(folder: Path, *, demo_user: bool = True) -> DemoRun:
    """Build ``folder/callqa.db`` from the demo data, print KPIs and drivers; with
    ``demo_user``, create the demo user (or give it a new password) to sign in with."""
    from sqlmodel import Session

    from qa.console import err_console, print_ingest, print_stage, rich_progress
    from qa.demo.workforce import COST_PER_AGENT_HOUR, CURRENCY
    from qa.ingest.wfm import WfmOptions
    from qa.metrics.display import format_table
    from qa.stages.nightly import run_nightly
    from qa.store.engine import make_engine
    from qa.why.drivers import format_analysis, why
    from qa.why.money import cost_of_drivers

    console = err_console()
    started = time.perf_counter()
    data = prepare_demo_folder(folder)
    db_path = folder / "callqa.db"
    console.print(f"[bold]callqa demo[/bold]: data in {data}, database {db_path}")
    engine = make_engine(str(db_path))
    # A second ``qa demo`` on the same folder waits for the first (it says so on stderr) rather
    # than failing: the demo has no --wait option to ask for it.
    # The demo's cost: an agent hour (qa.demo.workforce); states and schedule are in ``data``.
    wfm = WfmOptions(cost_per_agent_hour=COST_PER_AGENT_HOUR, currency=CURRENCY)
    report = run_nightly(
        data, engine=engine, settings=Settings.from_env(), progress=rich_progress, wait=True,
        wfm=wfm,
    )  # fmt: skip
    for ingest in report.ingests:
        print_ingest(ingest, console)
    for stage in report.stages:
        print_stage(stage, console)
    print(format_table([report.kpis]))
    with Session(engine) as session:
        print("\nDrivers of CSAT (qa why):")
        print(format_analysis(why(session)))
        print("\nWhat the drivers cost (qa why --outcome cost):")
        lines, _prices = cost_of_drivers(session)
        print("\n".join(m.line for m in lines[:5]) or "(no driver with a significant cost)")
    if report.report_path:
        console.print(f"HTML report: {report.report_path}")
    console.print(f"pipeline finished in {time.perf_counter() - started:.0f} s")
    password = ensure_demo_user(engine) if demo_user else None
    return DemoRun(report.exit_code, engine, data, password)


def ensure_demo_user(engine: Engine) -> str:
    """Create the demo user (a lead) or give it a new random password; returns the password.

    Random and new each run, so a demo left running never has a known password.
    """
    from sqlmodel import Session

    from qa.auth import AuthError, add_user
    from qa.auth.users import set_password

    password = secrets.token_urlsafe(12)
    with Session(engine) as session:
        try:
            add_user(session=session, name=DEMO_USER, role=DEMO_ROLE, password=password)
        except AuthError:  # already there from an earlier run
            set_password(session=session, name=DEMO_USER, password=password)
    return password

"""``qa report``: write the self-contained HTML report (KPIs, trends, drivers, actions).

Registered on the ``qa`` app in ``qa.cli`` (``app.command(name="report")(report)``). Heavy
imports (matplotlib, pandas, statsmodels) happen inside the function.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qa.commands.options import (
    DbOption,
    SinceOption,
    UiUrlOption,
    UntilOption,
    WindowHoursOption,
    fail,
    open_engine,
    period,
)


def report(
    since: SinceOption = None,
    until: UntilOption = None,
    out: Annotated[Path, typer.Option(help="Where to write the HTML file.")] = Path("report.html"),
    ui_url: UiUrlOption = None,
    window_hours: WindowHoursOption = None,
    db: DbOption = None,
) -> None:
    """Write the HTML report: KPI tiles, daily trends, drivers, themes, actions with the calls
    to review, repeat contacts and broken callback promises, survey-bias warnings."""
    from qa.config import Settings
    from qa.console import err_console
    from qa.report.insights import write_report

    start, end = period(since, until)
    try:
        settings = Settings.from_env(window_hours=window_hours, ui_url=ui_url)
    except (ValueError, TypeError) as exc:
        raise fail(str(exc)) from exc
    engine = open_engine(db)
    try:
        insights = write_report(
            engine,
            out,
            since=start,
            until=end,
            ui_url=settings.ui_url,
            window_hours=settings.window_hours,
        )
    except (ValueError, OSError) as exc:
        raise fail(str(exc)) from exc
    err_console().print(
        f"{len(insights.triggers)} actions, {len(insights.repeats.broken_promises)} broken "
        f"callback promises, {len(insights.bias.warnings)} survey-bias warnings"
    )
    typer.echo(f"report written to {out}")

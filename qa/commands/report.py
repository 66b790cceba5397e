"""``qa report``: write the self-contained HTML report (KPIs, trends, drivers, actions).

Registered on the ``qa`` app in ``qa.cli`` (``app.command(name="report")(report)``). Heavy
imports (matplotlib, pandas, statsmodels) happen inside the function.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qa.commands.options import DbOption, fail, open_engine


def report(
    since: Annotated[
        str | None,
        typer.Option(help="First call start (ISO date/time, inclusive) (default: all data)."),
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Last call start (ISO date/time, exclusive).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Where to write the HTML file.")] = Path("report.html"),
    ui_url: Annotated[
        str, typer.Option(help="Review UI address for the call links.")
    ] = "http://127.0.0.1:7860",
    window_hours: Annotated[
        float | None, typer.Option(help="Repeat-contact window, 24-72 hours [48].")
    ] = None,
    db: DbOption = None,
) -> None:
    """Write the HTML report: KPI tiles, daily trends, drivers, themes, actions with the calls
    to review, repeat contacts and broken callback promises, survey-bias warnings."""
    from qa.config import Settings
    from qa.console import err_console
    from qa.records import RowError, parse_timestamp
    from qa.report import write_report

    if not ui_url.startswith(("http://", "https://")):
        raise fail(f"--ui-url {ui_url!r} must start with http:// or https://")
    try:
        settings = Settings.from_env(window_hours=window_hours)
        start = parse_timestamp(since, "--since") if since else None
        end = parse_timestamp(until, "--until") if until else None
    except (ValueError, TypeError, RowError) as exc:
        raise fail(str(exc)) from exc
    engine = open_engine(db)
    try:
        insights = write_report(
            engine, out, since=start, until=end, ui_url=ui_url, window_hours=settings.window_hours
        )
    except (ValueError, OSError) as exc:
        raise fail(str(exc)) from exc
    err_console().print(
        f"{len(insights.triggers)} actions, {len(insights.repeats.broken_promises)} broken "
        f"callback promises, {len(insights.bias.warnings)} survey-bias warnings"
    )
    typer.echo(f"report written to {out}")

"""``qa kpis``: the contact-center KPIs, overall or by a dimension."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from qa.commands.options import (
    DbOption,
    GroupBy,
    OutputFormat,
    SinceOption,
    UntilOption,
    WindowHoursOption,
    open_engine,
    period,
    settings_or_fail,
)


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
    """Contact-center KPIs: AHT, ASA, service level, abandonment, transfers, FCR, CSAT, NPS, CES,
    and (from agent states, schedule and costs) occupancy, utilization, adherence, cost per call.
    CSAT, NPS and CES also weighted for who answers (*_weighted, 95 % interval, survey_ess)."""
    from qa.metrics.base import KpiOptions
    from qa.metrics.display import format_table, to_csv
    from qa.metrics.kpi_table import kpi_table

    settings = settings_or_fail(
        window_hours=window_hours, service_level_seconds=service_level_seconds
    )
    options = KpiOptions(settings.window_hours, settings.service_level_seconds)
    start, end = period(since, until)  # bad input exits before the database is touched
    # Served from the stored result while nothing it reads has changed (qa.store.snapshots).
    served = kpi_table(
        open_engine(db), by=by.value if by else None, since=start, until=end, options=options
    )
    rows = served.payload
    result: dict | list = rows[0] if by is None else rows
    if fmt is OutputFormat.json:
        typer.echo(json.dumps(result, indent=2, default=str))
    elif fmt is OutputFormat.csv:
        typer.echo(to_csv(rows), nl=False)
    else:
        typer.echo(format_table([{k: v for k, v in r.items() if "_ci_" not in k} for r in rows]))
        typer.echo(f"({served.describe()})", err=True)

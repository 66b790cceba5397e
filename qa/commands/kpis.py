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
    from sqlmodel import Session

    from qa.metrics.base import KpiOptions
    from qa.metrics.display import format_table, to_csv
    from qa.metrics.facts import load_facts, load_workforce
    from qa.metrics.kpis import GROUPINGS, compute_kpis, compute_kpis_by, filter_calls
    from qa.metrics.response import response_weights
    from qa.metrics.transcript_tags import load_transcript_tags
    from qa.metrics.weighted import weighted_kpis, weighted_kpis_by

    settings = settings_or_fail(
        window_hours=window_hours, service_level_seconds=service_level_seconds
    )
    options = KpiOptions(settings.window_hours, settings.service_level_seconds)
    start, end = period(since, until)  # bad input exits before the database is touched
    with Session(open_engine(db)) as session:
        history, surveys = load_facts(session)
        workforce = load_workforce(session)
        said = load_transcript_tags(session)
    calls = filter_calls(history, start, end)
    # Survey KPIs weighted for who answers: one response model over the period's calls
    # (qa.metrics.response), its weights summed per group.
    response = response_weights(calls, surveys, said)
    if by is None:
        result: dict | list = compute_kpis(
            calls, surveys, options, history=history, workforce=workforce, window=(start, end)
        )
        result.update(weighted_kpis(calls, surveys, response))
        rows = [result]
    else:
        result = rows = compute_kpis_by(
            calls, surveys, by.value, options, history=history, workforce=workforce,
            window=(start, end),
        )  # fmt: skip
        weighted = weighted_kpis_by(calls, surveys, response, GROUPINGS[by.value])
        for row in rows:
            row.update(weighted[row["group"]])
    if fmt is OutputFormat.json:
        typer.echo(json.dumps(result, indent=2, default=str))
    elif fmt is OutputFormat.csv:
        typer.echo(to_csv(rows), nl=False)
    else:
        typer.echo(format_table([{k: v for k, v in r.items() if "_ci_" not in k} for r in rows]))

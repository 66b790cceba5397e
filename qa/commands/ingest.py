"""``qa ingest``: validate and store calls and surveys exports, and the optional workforce
exports (agent states, schedule, costs)."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Annotated

import typer

from qa.commands.options import (
    DbOption,
    MapOption,
    MaxDateOption,
    MaxFieldBytesOption,
    RecordingsRootOption,
    SurveyMapOption,
    fail,
    open_engine,
    settings_or_fail,
)
from qa.commands.wfm_options import (
    CostPerAgentHourOption,
    CurrencyOption,
    StateMapOption,
    WfmMapOption,
    wfm_options,
)


def ingest(
    calls: Annotated[Path | None, typer.Option(help="Telephony export (calls.csv).")] = None,
    surveys: Annotated[Path | None, typer.Option(help="Survey export (surveys.csv).")] = None,
    map_: MapOption = None,
    survey_map: SurveyMapOption = None,
    recordings_root: RecordingsRootOption = None,
    max_date: MaxDateOption = None,
    max_field_bytes: MaxFieldBytesOption = None,
    agent_states: Annotated[
        Path | None, typer.Option(help="Agent states (agent_states.csv).")
    ] = None,
    schedule: Annotated[Path | None, typer.Option(help="Agent schedule (schedule.csv).")] = None,
    costs: Annotated[Path | None, typer.Option(help="Operating costs (costs.csv).")] = None,
    wfm_map: WfmMapOption = None,
    state_map: StateMapOption = None,
    cost_per_agent_hour: CostPerAgentHourOption = None,
    currency: CurrencyOption = "",
    db: DbOption = None,
) -> None:
    """Validate and store calls, surveys and the workforce exports (agent states, schedule,
    costs). Bad rows go to FILE.rejects.csv (exit 2)."""
    from sqlmodel import Session

    from qa.console import err_console, print_ingest
    from qa.ingest.exports import (
        IngestError,
        ingest_calls,
        ingest_surveys,
        options_from_cli,
        parse_mapping,
    )
    from qa.ingest.wfm import (
        ingest_agent_states,
        ingest_costs,
        ingest_schedule,
        set_cost_per_agent_hour,
    )
    from qa.stages.factories import default_comment_redactor

    wfm = wfm_options(wfm_map, state_map, cost_per_agent_hour, currency)
    given = (calls, surveys, agent_states, schedule, costs, cost_per_agent_hour)
    if all(value is None for value in given):
        raise fail(
            "nothing to ingest: give --calls, --surveys, --agent-states, --schedule, --costs"
            " and/or --cost-per-agent-hour"
        )
    engine, console, reports = open_engine(db), err_console(), []
    try:
        options = options_from_cli(recordings_root, max_date, max_field_bytes)
        # Rejected rows are redacted like comments, so the calls file needs the redactor too.
        redact = default_comment_redactor(settings_or_fail())
        with Session(engine) as session:
            if calls is not None:
                mapping = parse_mapping(map_ or [])
                reports.append(ingest_calls(calls, session=session, mapping=mapping,
                                            redact=redact, options=options))  # fmt: skip
            if surveys is not None:
                mapping = parse_mapping(survey_map or [])
                reports.append(ingest_surveys(surveys, session=session, mapping=mapping,
                                              redact=redact, options=options))  # fmt: skip
            readers = (
                (agent_states, partial(ingest_agent_states, state_map=wfm.state_map)),
                (schedule, partial(ingest_schedule, state_map=wfm.state_map)),
                (costs, ingest_costs),
            )
            for path, read in readers:
                if path is not None:
                    reports.append(read(path, session=session, mapping=wfm.mapping,
                                        redact=redact, options=options))  # fmt: skip
            if wfm.cost_per_agent_hour is not None:
                set_cost_per_agent_hour(session, wfm.cost_per_agent_hour, wfm.currency)
    except IngestError as exc:
        raise fail(str(exc)) from exc
    for report in reports:
        print_ingest(report, console)
    raise typer.Exit(2 if any(r.rejects for r in reports) else 0)

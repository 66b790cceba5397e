"""``qa ingest``: validate and store calls and surveys exports."""

from __future__ import annotations

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
    from qa.ingest.exports import (
        IngestError,
        ingest_calls,
        ingest_surveys,
        options_from_cli,
        parse_mapping,
    )
    from qa.stages.factories import default_comment_redactor

    if calls is None and surveys is None:
        raise fail("nothing to ingest: give --calls FILE and/or --surveys FILE")
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
    except IngestError as exc:
        raise fail(str(exc)) from exc
    for report in reports:
        print_ingest(report, console)
    raise typer.Exit(2 if any(r.rejects for r in reports) else 0)

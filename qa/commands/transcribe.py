"""``qa transcribe``: transcribe pending and failed recordings."""

from __future__ import annotations

from typing import Annotated

import typer

from qa.commands.options import (
    Channel,
    DbOption,
    WaitOption,
    WaitTimeoutOption,
    fail,
    hold_run_lock,
    open_engine,
    settings_or_fail,
)


def transcribe(
    engine_name: Annotated[
        str | None,
        typer.Option("--engine", help="ASR engine (default faster-whisper; env QA_ASR_ENGINE)."),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            help="Whisper model name or CTranslate2 folder (default tiny.en; env QA_ASR_MODEL)."
        ),
    ] = None,
    agent_channel: Annotated[
        Channel | None,
        typer.Option(help="Stereo channel of the agent (default left; env QA_AGENT_CHANNEL)."),
    ] = None,
    call: Annotated[list[str] | None, typer.Option(help="Only this call id (repeatable).")] = None,
    db: DbOption = None,
    wait: WaitOption = False,
    wait_timeout: WaitTimeoutOption = None,
) -> None:
    """Transcribe calls that are pending or failed (exit 2 if any recording fails, 3 if another
    run holds the database's run lock)."""
    from qa.console import err_console, print_stage, rich_progress
    from qa.stages.factories import default_transcriber
    from qa.stages.pipeline import transcribe_calls

    # Flags left unset keep the QA_* variables (then the defaults): flags override variables.
    channel = agent_channel.value if agent_channel else None
    settings = settings_or_fail(asr_engine=engine_name, asr_model=model, agent_channel=channel)
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

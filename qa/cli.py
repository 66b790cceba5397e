"""The ``qa`` command line: thin Typer commands over plain functions.

Exit codes: 0 ok, 1 fatal (nothing done), 2 partial (some rows or calls failed; see the
report), 3 another run holds the database's run lock. Heavy libraries (torch, Whisper, spaCy,
Gradio) are imported inside commands only, so ``qa --help`` is instant.
"""

from __future__ import annotations

import typer

from qa.commands import calls as calls_commands
from qa.commands import db as db_commands
from qa.commands import decisions as decisions_commands
from qa.commands import models as models_commands
from qa.commands import packs as packs_commands
from qa.commands import reviews as reviews_commands
from qa.commands import text as text_commands
from qa.commands import users as users_commands
from qa.commands.agreement import agreement as agreement_command
from qa.commands.asr import asr as asr_command
from qa.commands.demo import demo as demo_command
from qa.commands.ingest import ingest as ingest_command
from qa.commands.init import init as init_command
from qa.commands.kpis import kpis as kpis_command
from qa.commands.nightly import nightly as nightly_command
from qa.commands.report import report as report_command
from qa.commands.serve import serve as serve_command
from qa.commands.tag import tag as tag_command
from qa.commands.transcribe import transcribe as transcribe_command
from qa.commands.why import why as why_command

app = typer.Typer(
    name="qa",
    help="callqa: transcribe calls, tag why customers are unhappy, join tags to CSAT/FCR/NPS/CES.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Every command lives in qa/commands/ (heavy imports stay inside their bodies).
app.command(name="init")(init_command)
app.command(name="ingest")(ingest_command)
app.command(name="transcribe")(transcribe_command)
app.command(name="kpis")(kpis_command)
app.command(name="serve")(serve_command)
app.command(name="nightly")(nightly_command)
app.command(name="demo")(demo_command)
app.command(name="tag")(tag_command)
app.command(name="why")(why_command)
app.command(name="asr")(asr_command)
app.command(name="report")(report_command)
app.command(name="agreement")(agreement_command)
app.add_typer(models_commands.app, name="models")
app.add_typer(users_commands.app, name="users")
app.add_typer(text_commands.app, name="text")
app.add_typer(decisions_commands.app, name="decisions")
app.add_typer(calls_commands.app, name="calls")
app.add_typer(packs_commands.app, name="packs")
app.add_typer(reviews_commands.app, name="reviews")
app.add_typer(reviews_commands.calibration_app, name="calibration")
app.add_typer(db_commands.app, name="db")


def main() -> None:
    """Console-script entry point."""
    app()

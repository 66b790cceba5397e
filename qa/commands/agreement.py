"""``qa agreement``: how far reviewers agree, per tag and per scorecard question.

Krippendorff's alpha and Cohen's (two reviewers) or Fleiss' (three or more) kappa, with the
number of items and raters (``qa.review.agreement``), over every decision and review or over
one calibration round's.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from qa.commands.options import DbOption, OutputFormat, fail, open_engine


def agreement(
    round_id: Annotated[
        int | None,
        typer.Option(
            "--round", help="A calibration round's id (qa calibration list); default: all."
        ),
    ] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="table or json.")] = (
        OutputFormat.table
    ),
    db: DbOption = None,
) -> None:
    """Agreement between reviewers per tag and per scorecard question: alpha, kappa, items,
    raters and the calls they disagree on."""
    from qa.review.agreement import format_table
    from qa.review.calibration import agreement_report
    from qa.store.engine import session_scope

    if fmt not in (OutputFormat.table, OutputFormat.json):
        raise fail(f"--format {fmt.value} is not offered here; choose table or json")
    try:
        with session_scope(open_engine(db)) as session:
            rows = agreement_report(session=session, round_id=round_id)
    except LookupError as exc:
        raise fail(f"{exc}; list the rounds with: qa calibration list") from None
    if fmt == OutputFormat.json:
        typer.echo(json.dumps([r.to_dict() for r in rows], indent=2))
    elif not rows:
        typer.echo("no decisions or reviews to compare yet")
    else:
        typer.echo(format_table(rows))

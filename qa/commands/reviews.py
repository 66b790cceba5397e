"""``qa reviews export|trend`` and ``qa calibration create|list|close``: scorecard reviews
and calibration rounds. Registered on the ``qa`` app in ``qa.cli``."""

from __future__ import annotations

from typing import Annotated

import typer

from qa.commands.decisions import FileFormat, OutOption
from qa.commands.options import DbOption, fail, open_engine
from qa.commands.text_io import open_output

app = typer.Typer(help="Scorecard reviews: export them, trend scores per agent or team.",
                  no_args_is_help=True)  # fmt: skip
calibration_app = typer.Typer(help="Calibration rounds: calls every reviewer answers blind.",
                              no_args_is_help=True)  # fmt: skip


@app.command("export")
def export(
    fmt: Annotated[FileFormat, typer.Option("--format", help="csv or jsonl.")] = FileFormat.csv,
    out: OutOption = None,
    db: DbOption = None,
) -> None:
    """Every saved review (each save is kept): call, agent, team, reviewer, scorecard
    version, 0-100 score, auto-fail, answers."""
    from qa.review.reviews import export_reviews
    from qa.store.engine import session_scope

    with open_output(out) as handle, session_scope(open_engine(db)) as session:
        count = export_reviews(session, handle, fmt.value)
    if out is not None:
        typer.echo(f"wrote {count} reviews to {out}", err=True)


@app.command("trend")
def trend(
    by: Annotated[str, typer.Option(help="agent or team.")] = "agent",
    db: DbOption = None,
) -> None:
    """Mean scorecard score per agent (or team) and ISO week, each reviewer's latest review
    of a call counted once."""
    from qa.review.reviews import score_trend
    from qa.store.engine import session_scope

    try:
        with session_scope(open_engine(db)) as session:
            rows = score_trend(session=session, by=by)
    except ValueError as exc:
        raise fail(str(exc)) from None
    for r in rows:
        mean = "—" if r.mean_score is None else f"{r.mean_score:.1f}"
        typer.echo(f"{r.group:<24} {r.week}  reviews {r.reviews:>3}  mean {mean:>5}  "
                   f"auto-failed {r.auto_failed}")  # fmt: skip


@calibration_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="A name for the round, e.g. 'March week 2'.")],
    calls: Annotated[list[str], typer.Argument(help="Call ids (external or database).")],
    lead: Annotated[str, typer.Option(help="Who runs the round (a lead's user name).")],
    scorecard: Annotated[str, typer.Option(help="Scorecard id.")] = "default",
    db: DbOption = None,
) -> None:
    """Start a round: its calls are served to every reviewer in the calibration queue, each
    answering blind."""
    from qa.review.calibration import create_round
    from qa.store.engine import session_scope
    from qa.store.reads import CallNotFound

    try:
        with session_scope(open_engine(db)) as session:
            row = create_round(session=session, name=name, calls=calls, created_by=lead,
                               scorecard_id=scorecard)  # fmt: skip
            typer.echo(f"calibration round {row.id} {row.name!r}: {len(row.call_ids)} calls")
    except (CallNotFound, ValueError) as exc:
        raise fail(str(exc)) from None


@calibration_app.command("list")
def list_(db: DbOption = None) -> None:
    """Rounds, newest first, with how many calls each reviewer has answered."""
    from qa.review.calibration import list_rounds
    from qa.store.engine import session_scope

    with session_scope(open_engine(db)) as session:
        rounds = list_rounds(session=session)
    for r in rounds:
        state = "closed" if r.closed else "open"
        done = ", ".join(f"{who} {n}/{len(r.calls)}" for who, n in r.answered.items()) or "—"
        typer.echo(f"{r.id}  {r.name}  ({state}, {len(r.calls)} calls, by {r.created_by})  "
                   f"answered: {done}")  # fmt: skip


@calibration_app.command("close")
def close(
    round_id: Annotated[int, typer.Argument(help="The round's id (qa calibration list).")],
    db: DbOption = None,
) -> None:
    """Stop serving a round's calls; its answers stay for qa agreement --round."""
    from qa.review.calibration import close_round
    from qa.store.engine import session_scope

    try:
        with session_scope(open_engine(db)) as session:
            close_round(session=session, round_id=round_id)
    except LookupError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"closed calibration round {round_id}")

"""``qa why``: which tags drive an outcome, with confidence; ``--compare`` explains a change.

Registered on the ``qa`` app in ``qa.cli`` (``app.command()(why)``). Heavy imports (pandas,
statsmodels) happen inside the function, so ``qa --help`` stays instant.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from qa.commands.options import (
    DbOption,
    SinceOption,
    UntilOption,
    WindowHoursOption,
    fail,
    open_engine,
    period,
)

if TYPE_CHECKING:
    from datetime import datetime

    from sqlmodel import Session

    from qa.why.data import DriverData
    from qa.why.results import TagQuality


class Outcome(StrEnum):
    csat = "csat"
    fcr = "fcr"
    nps = "nps"
    ces = "ces"
    repeat = "repeat"
    aht = "aht"
    cost = "cost"


class By(StrEnum):
    team = "team"
    queue = "queue"
    agent = "agent"


class WhyFormat(StrEnum):
    table = "table"
    json = "json"


def _controls(text: str) -> tuple[str, ...]:
    from qa.why.drivers import check_controls

    names = [part.strip() for part in text.split(",") if part.strip()]
    if names == ["none"]:
        return ()
    try:
        return check_controls(names)
    except ValueError as exc:
        raise fail(f"--controls: {exc} (or 'none')") from exc


def why(
    outcome: Annotated[
        Outcome,
        typer.Option(
            help="Outcome to explain; aht = handle time; cost = each driver's extra repeat "
            "calls and handle time a month, priced."
        ),
    ] = Outcome.csat,
    by: Annotated[By | None, typer.Option(help="One analysis per group.")] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    controls: Annotated[
        str,
        typer.Option(
            help="Comma-separated controls for the adjusted effect: queue, team, agent, "
            "call_seconds (talk + hold), or 'none'."
        ),
    ] = "queue,team,call_seconds",
    min_n: Annotated[
        int,
        typer.Option(min=1, help="Tags with fewer calls with (or without) them are not tested."),
    ] = 10,
    compare: Annotated[
        str | None,
        typer.Option(
            help="Explain the change vs the previous period of equal length: LAST_WEEK, "
            "LAST_MONTH (ending with the day of the latest call, or at --until) or "
            "START..END (ISO dates, END exclusive)."
        ),
    ] = None,
    window_hours: WindowHoursOption = None,
    long_wait_seconds: Annotated[
        float, typer.Option(min=0, help="Threshold of the call:wait>{L}s driver.")
    ] = 120.0,
    hold_seconds: Annotated[
        float, typer.Option(min=0, help="Threshold of the call:hold>{H}s driver.")
    ] = 120.0,
    no_call_drivers: Annotated[
        bool,
        typer.Option(
            "--no-call-drivers",
            help="Leave out the call: drivers the phone system recorded (transfer, waits, "
            "hold, earlier contacts); analyse tags (and themes) only.",
        ),
    ] = False,
    assume_recall: Annotated[
        float,
        typer.Option(
            min=0.01,
            max=1.0,
            help="Recall assumed for a tag's sensitivity line when no reviewer decision "
            "measured it.",
        ),
    ] = 0.7,
    weighted: Annotated[
        bool,
        typer.Option(
            "--weighted",
            help="Survey outcomes (csat, nps, ces, fcr): weight each answer by 1 / P(answer) "
            "from a response model, so effects describe all callers, not respondents.",
        ),
    ] = False,
    fmt: Annotated[WhyFormat, typer.Option("--format", help="Output format.")] = WhyFormat.table,
    db: DbOption = None,
) -> None:
    """Drivers of an outcome: per tag (said) and call: feature (recorded) prevalence, effect
    with 95% CI, q-value, adjusted effect, impact (most harmful first), and each tag's
    measured precision / recall with its mis-tagging sensitivity line. See qa.why.stats for
    the definitions."""
    from sqlmodel import Session

    from qa.config import Settings
    from qa.metrics.base import KpiOptions
    from qa.why.change import compare_periods, format_change
    from qa.why.data import load_driver_data
    from qa.why.quality import load_tag_quality
    from qa.why.structured import CallDriverOptions

    start, end = period(since, until)
    try:
        settings = Settings.from_env(window_hours=window_hours)
    except (ValueError, TypeError) as exc:
        raise fail(str(exc)) from exc
    chosen = _controls(controls)
    engine = open_engine(db)
    options = KpiOptions(settings.window_hours, settings.service_level_seconds)

    if weighted:
        from qa.why.weighting import check_weightable

        if compare is not None:
            raise fail("--weighted takes no --compare")
        try:
            check_weightable(outcome.value)
        except ValueError as exc:
            raise fail(str(exc)) from exc
    with Session(engine) as session:
        if outcome is Outcome.cost:
            if compare is not None or by is not None:
                raise fail("--outcome cost takes no --compare or --by")
            _print_money(session, (start, end), settings.window_hours, min_n, chosen, fmt,
                         assume_recall)  # fmt: skip
            return
        if compare is not None:
            if since or by:
                raise fail("--compare takes its periods from its value; drop --since / --by")
            try:
                change = compare_periods(
                    session, outcome=outcome.value, compare=compare, until=end, min_n=min_n,
                    options=options,
                )  # fmt: skip
            except ValueError as exc:
                raise fail(str(exc)) from exc
            text = json.dumps(change.to_dict(), indent=2, default=str)
            typer.echo(text if fmt is WhyFormat.json else format_change(change))
            return
        call_drivers = None
        if not no_call_drivers:
            call_drivers = CallDriverOptions(
                settings.service_level_seconds, long_wait_seconds, hold_seconds
            )
        try:
            data = load_driver_data(
                session, outcome=outcome.value, since=start, until=end,
                window_hours=settings.window_hours, call_drivers=call_drivers,
            )  # fmt: skip
        except ValueError as exc:  # e.g. a repeat window outside 24-72 h
            raise fail(str(exc)) from exc
        quality = load_tag_quality(session)
        if weighted:
            from qa.why.weighting import load_weights, with_weights

            try:
                data = with_weights(data, load_weights(session, start, end))
            except ValueError as exc:  # too few calls to model who answers
                raise fail(str(exc)) from exc

    _print_drivers(data, by, chosen, min_n, fmt, (quality, assume_recall), weighted)


def _print_money(
    session: Session,
    period: tuple[datetime | None, datetime | None],
    window_hours: float,
    min_n: int,
    controls: tuple[str, ...],
    fmt: WhyFormat,
    assume_recall: float,
) -> None:
    """``--outcome cost``: each driver's extra calls, agent-hours and cost a month (a tag's
    recall assumed ``assume_recall`` where no decisions measure it)."""
    from qa.why.money import cost_of_drivers

    since, until = period
    try:
        lines, prices = cost_of_drivers(
            session, since=since, until=until, window_hours=window_hours, min_n=min_n,
            controls=controls, assume_recall=assume_recall,
        )  # fmt: skip
    except ValueError as exc:
        raise fail(str(exc)) from exc
    if fmt is WhyFormat.json:
        out = {"prices": {**prices.__dict__, "handled_per_month": prices.handled_per_month},
               "drivers": [m.to_dict() for m in lines]}  # fmt: skip
        typer.echo(json.dumps(out, indent=2, default=str))
        return
    if not lines:
        typer.echo("No driver has a significant harmful effect on repeat contacts or handle time.")
        return
    typer.echo("\n".join(m.line for m in lines))


def _print_drivers(
    data: DriverData,
    by: By | None,
    controls: tuple[str, ...],
    min_n: int,
    fmt: WhyFormat,
    tagging: tuple[dict[str, TagQuality], float],
    weighted: bool = False,
) -> None:
    """Analyse ``data`` (per ``by`` group when given) and print the table(s) or the JSON;
    ``tagging`` = (measured tag quality, assumed recall) for the sensitivity lines."""
    from qa.console import err_console
    from qa.why.drivers import analyse, analyse_by, drivers_json, format_analysis

    console = err_console()
    quality, assume_recall = tagging
    if by is None:
        analysis = analyse(
            data, controls=controls, min_n=min_n, quality=quality, assume_recall=assume_recall,
            weighted=weighted,
        )  # fmt: skip
        if fmt is WhyFormat.json:
            for note in analysis.notes:
                console.print(f"note: {note}")
            typer.echo(json.dumps(drivers_json(analysis), indent=2))
        else:
            typer.echo(format_analysis(analysis))
        return
    groups = analyse_by(
        data, by.value, controls=controls, min_n=min_n, quality=quality,
        assume_recall=assume_recall, weighted=weighted,
    )  # fmt: skip
    if fmt is WhyFormat.json:
        typer.echo(json.dumps([g.to_dict() for g in groups], indent=2))
        return
    blocks = []
    for g in groups:
        name = f"{g.group} ({g.label})" if g.label else g.group
        blocks.append(format_analysis(g.analysis, title=f"[{by.value} {name}] "))
    typer.echo("\n\n".join(blocks) if blocks else "(no calls with this outcome)")

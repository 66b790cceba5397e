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
    from qa.why.data import DriverData
    from qa.why.results import TagQuality


class Outcome(StrEnum):
    csat = "csat"
    fcr = "fcr"
    nps = "nps"
    ces = "ces"
    repeat = "repeat"


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
    outcome: Annotated[Outcome, typer.Option(help="Outcome to explain.")] = Outcome.csat,
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

    with Session(engine) as session:
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

    _print_drivers(data, by, chosen, min_n, fmt, (quality, assume_recall))


def _print_drivers(
    data: DriverData,
    by: By | None,
    controls: tuple[str, ...],
    min_n: int,
    fmt: WhyFormat,
    tagging: tuple[dict[str, TagQuality], float],
) -> None:
    """Analyse ``data`` (per ``by`` group when given) and print the table(s) or the JSON;
    ``tagging`` = (measured tag quality, assumed recall) for the sensitivity lines."""
    from qa.console import err_console
    from qa.why.drivers import analyse, analyse_by, drivers_json, format_analysis

    console = err_console()
    quality, assume_recall = tagging
    if by is None:
        analysis = analyse(
            data, controls=controls, min_n=min_n, quality=quality, assume_recall=assume_recall
        )
        if fmt is WhyFormat.json:
            for note in analysis.notes:
                console.print(f"note: {note}")
            typer.echo(json.dumps(drivers_json(analysis), indent=2))
        else:
            typer.echo(format_analysis(analysis))
        return
    groups = analyse_by(
        data, by.value, controls=controls, min_n=min_n, quality=quality,
        assume_recall=assume_recall,
    )  # fmt: skip
    if fmt is WhyFormat.json:
        typer.echo(json.dumps([g.to_dict() for g in groups], indent=2))
        return
    blocks = []
    for g in groups:
        name = f"{g.group} ({g.label})" if g.label else g.group
        blocks.append(format_analysis(g.analysis, title=f"[{by.value} {name}] "))
    typer.echo("\n\n".join(blocks) if blocks else "(no calls with this outcome)")

"""``qa calls list``: the review UI's call list on the command line.

Registered on the ``qa`` app in ``qa.cli`` as the ``calls`` group. The same filters as the UI
(``qa.store.callfilter.CallFilter``), the same query (``qa.store.calllist``); every row
carries its link into the review UI.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from qa.commands.options import DbOption, UiUrlOption, fail, open_engine, settings_or_fail
from qa.commands.text_io import open_output

if TYPE_CHECKING:
    from collections.abc import Iterable

    from qa.store.calllist import CallListRow

app = typer.Typer(help="Calls: list and filter them like the review UI.", no_args_is_help=True)


class ListFormat(StrEnum):
    table = "table"
    csv = "csv"
    jsonl = "jsonl"


def _opt(help_: str, *names: str) -> typer.models.OptionInfo:
    return typer.Option(*names, help=help_)


Tags = list[str] | None
Score = int | None
Flag = bool | None

TABLE_COLUMNS = (
    ("external_id", 12), ("started_at", 19), ("agent_name", 16), ("team", 8), ("queue", 10),
    ("csat", 4), ("nps", 3), ("ces", 3), ("fcr", 3), ("reviewed", 8), ("tags", 30),
)  # fmt: skip


@app.command("list")
def list_(
    agent: Annotated[str | None, _opt("Agent id or name.", "--agent")] = None,
    team: Annotated[str | None, _opt("Team.", "--team")] = None,
    queue: Annotated[str | None, _opt("Queue.", "--queue")] = None,
    tag: Annotated[Tags, _opt("Has this effective tag (repeat: any of them).", "--tag")] = None,
    all_tags: Annotated[Tags, _opt("Has every one of these tags (repeat).", "--all-tags")] = None,
    not_tag: Annotated[Tags, _opt("Has none of these tags (repeat).", "--not-tag")] = None,
    since: Annotated[str | None, _opt("First start, ISO date/time (inclusive).", "--since")] = None,
    until: Annotated[str | None, _opt("Last start: a date includes that day.", "--until")] = None,
    csat_min: Annotated[Score, _opt("Lowest CSAT (1-5).", "--csat-min")] = None,
    csat_max: Annotated[Score, _opt("Highest CSAT (1-5).", "--csat-max")] = None,
    nps_min: Annotated[Score, _opt("Lowest NPS answer (0-10).", "--nps-min")] = None,
    nps_max: Annotated[Score, _opt("Highest NPS answer (0-10).", "--nps-max")] = None,
    ces_min: Annotated[Score, _opt("Lowest CES (1-7).", "--ces-min")] = None,
    ces_max: Annotated[Score, _opt("Highest CES (1-7).", "--ces-max")] = None,
    fcr: Annotated[Flag, _opt("Survey said resolved / not.", "--fcr/--no-fcr")] = None,
    transferred: Annotated[
        Flag, _opt("Transferred / not.", "--transferred/--not-transferred")
    ] = None,
    reviewed: Annotated[Flag, _opt("Reviewed / not yet.", "--reviewed/--unreviewed")] = None,
    score_min: Annotated[float | None, _opt("Lowest scorecard score.", "--score-min")] = None,
    score_max: Annotated[float | None, _opt("Highest scorecard score.", "--score-max")] = None,
    search: Annotated[
        str, _opt('Words and "phrases" in a transcript turn or the comment.', "--search")
    ] = "",
    sort: Annotated[str, _opt("Sort column (see the error for the list).", "--sort")] = (
        "started_at"
    ),
    desc: Annotated[bool, _opt("Largest first (default) or smallest.", "--desc/--asc")] = True,
    page: Annotated[int | None, _opt("Only this page (from 1).", "--page")] = None,
    page_size: Annotated[int, _opt("Rows per page with --page.", "--page-size")] = 50,
    limit: Annotated[int | None, _opt("At most this many rows (default: all).", "--limit")] = None,
    fmt: Annotated[ListFormat, _opt("table, csv or jsonl.", "--format")] = ListFormat.table,
    out: Annotated[Path | None, _opt("Write here (default: stdout).", "--out", "-o")] = None,
    ui_url: UiUrlOption = None,
    db: DbOption = None,
) -> None:
    """Calls matching every filter given, newest first unless --sort/--asc; all of them
    unless --page or --limit. The count goes to stderr; each row has its review-UI link."""
    from qa.store.callfilter import CallFilter, parse_bound
    from qa.store.calllist import count_calls, iter_calls, list_calls_page
    from qa.store.engine import session_scope

    base = settings_or_fail(ui_url=ui_url).ui_url
    if limit is not None and limit < 0:
        raise fail(f"--limit must be 0 or more, got {limit}")
    try:
        flt = CallFilter(
            since=parse_bound(since), until=parse_bound(until, end=True), team=team, queue=queue,
            agent=agent, tags_any=tuple(tag or ()), tags_all=tuple(all_tags or ()),
            tags_none=tuple(not_tag or ()), csat_min=csat_min, csat_max=csat_max,
            nps_min=nps_min, nps_max=nps_max, ces_min=ces_min, ces_max=ces_max, fcr=fcr,
            transferred=transferred, reviewed=reviewed, score_min=score_min,
            score_max=score_max, search=search, sort=sort, desc=desc, page=page or 1,
            page_size=page_size,
        )  # fmt: skip
    except ValueError as exc:
        raise fail(str(exc)) from None
    with session_scope(open_engine(db)) as session, open_output(out) as handle:
        if page is not None:
            result = list_calls_page(session=session, flt=flt)
            rows: Iterable[CallListRow] = result.rows
            total = result.total
        else:
            total = count_calls(session, flt)
            rows = iter_calls(session=session, flt=flt, limit=limit)
        written = _write(rows, handle, fmt, base)
    first = flt.offset + 1 if page is not None else 1
    shown = f"rows {first}-{first + written - 1}" if written else "no rows"
    typer.echo(f"{shown} of {total} matching calls", err=True)


def _write(rows: Iterable[CallListRow], handle, fmt: ListFormat, ui_url: str) -> int:  # type: ignore[no-untyped-def]
    from qa.store.callexport import write_calls

    if fmt != ListFormat.table:
        return write_calls(rows, handle, fmt.value, ui_url)
    header = "  ".join(name.ljust(width) for name, width in TABLE_COLUMNS) + "  link"
    handle.write(header + "\n")
    count = 0
    for row in rows:
        cells = [_cell(getattr(row, name), width) for name, width in TABLE_COLUMNS]
        handle.write("  ".join(cells) + "  " + row.link(ui_url) + "\n")
        count += 1
    return count


def _cell(value: object, width: int) -> str:
    if value is None:
        text = "-"
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, tuple):
        text = ",".join(value)
    elif hasattr(value, "isoformat"):
        text = value.isoformat(sep=" ", timespec="seconds")  # type: ignore[attr-defined]
    else:
        text = str(value)
    return (text if len(text) <= width else text[: width - 1] + "~").ljust(width)

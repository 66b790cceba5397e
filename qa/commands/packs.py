"""``qa packs create|add|remove|archive|list|export``: coaching packs from the command line.

Registered on the ``qa`` app in ``qa.cli`` as the ``packs`` group; the work is done by
``qa.review.packs`` and ``qa.review.pack_export``. Exit codes: 0 ok, 1 fatal, 2 an HTML
export where some clips could not be cut from an existing recording.
"""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from qa.commands.options import DbOption, UiUrlOption, fail, open_engine, settings_or_fail
from qa.commands.text_io import open_output

if TYPE_CHECKING:
    from sqlmodel import Session

    from qa.review.pack_export import PackExport
    from qa.store.writes import Evidence

app = typer.Typer(
    help="Coaching packs: named selections of calls and evidence for an agent.",
    no_args_is_help=True,
)


class ListFormat(StrEnum):
    table = "table"
    json = "json"


class ExportFormat(StrEnum):
    html = "html"
    csv = "csv"
    jsonl = "jsonl"


PackArg = Annotated[str, typer.Argument(help="The pack's id or name.")]
ByOption = Annotated[str, typer.Option("--by", help="Who does this (the coach's name).")]
NoteOption = Annotated[str, typer.Option("--note", help="A note for the agent.")]
RootsOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--recordings-root",
        envvar="QA_RECORDINGS_ROOT",
        help="Folder the recordings lie under (repeatable; env QA_RECORDINGS_ROOT); clips are "
        "cut from their redacted copies. Without it the HTML has no audio.",
    ),
]


def _due(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise fail(f"--due {value!r} is not a date; use YYYY-MM-DD") from None


def _call_id(session: Session, external_id: str) -> int:
    from sqlalchemy import select

    from qa.store.schema import Call

    found = session.scalar(select(Call.id).where(Call.external_id == external_id.strip()))
    if found is None:
        raise fail(f"no call {external_id!r} (give the call id from calls.csv, e.g. C-1001)")
    return found


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="A unique name for the pack.")],
    by: ByOption,
    agent: Annotated[str | None, typer.Option("--agent", help="Assign to this agent.")] = None,
    due: Annotated[str | None, typer.Option("--due", help="Due date, YYYY-MM-DD.")] = None,
    note: NoteOption = "",
    call: Annotated[
        list[str] | None, typer.Option("--call", help="Add this whole call (repeatable).")
    ] = None,
    filter_: Annotated[
        str,
        typer.Option(
            "--filter", help='A call-list filter, e.g. "agent=A02&tag=re-explain&since=2026-11-01".'
        ),
    ] = "",
    ui_url: UiUrlOption = None,
    db: DbOption = None,
) -> None:
    """Create a pack: hand-picked calls (--call), a saved filter (--filter), or both."""
    from qa.review.packs import add_item, create_pack
    from qa.store.callfilter import pack_url
    from qa.store.engine import session_scope

    base = settings_or_fail(ui_url=ui_url).ui_url
    with session_scope(open_engine(db)) as session:
        try:
            pack = create_pack(
                session=session, name=name, created_by=by, note=note, agent=agent,
                due=_due(due), filter_query=filter_,
            )  # fmt: skip
            for external_id in call or []:
                cid = _call_id(session, external_id)
                add_item(session=session, pack_id=pack.id, call_id=cid, evidence=None,
                         added_by=by)  # fmt: skip
        except ValueError as exc:
            raise fail(str(exc)) from None
        typer.echo(f"created pack {pack.id} {pack.name!r}: {pack_url(base, pack.id)}")


@app.command("add")
def add(
    pack: PackArg,
    call: Annotated[str, typer.Argument(help="The call's id from calls.csv (C-1001).")],
    by: ByOption,
    turn: Annotated[int | None, typer.Option("--turn", help="This transcript turn.")] = None,
    tag: Annotated[
        str | None, typer.Option("--tag", help="The evidence of this tag's hit (on --turn).")
    ] = None,
    note: NoteOption = "",
    db: DbOption = None,
) -> None:
    """Add a call to a pack: the whole call, one turn (--turn), or a tag's evidence (--tag)."""
    from qa.review.packs import PackNotFound, add_item, find_pack
    from qa.store.engine import session_scope

    with session_scope(open_engine(db)) as session:
        try:
            row = find_pack(session=session, pack=pack)
            cid = _call_id(session, call)
            evidence = _evidence(session, cid, tag, turn)
            assert row.id is not None
            item = add_item(session=session, pack_id=row.id, call_id=cid, evidence=evidence,
                            note=note, added_by=by, tag=tag)  # fmt: skip
        except (ValueError, PackNotFound) as exc:
            raise fail(str(exc)) from None
        typer.echo(f"added item {item.id} to pack {row.name!r} (position {item.position})")


def _evidence(session: Session, call_id: int, tag: str | None, turn: int | None) -> Evidence | None:
    from qa.review.packs import tag_evidence
    from qa.store.writes import Evidence

    if tag:
        return tag_evidence(session=session, call_id=call_id, tag=tag, turn_index=turn)
    if turn is not None:
        return Evidence("transcript", turn_index=turn)
    return None


@app.command("remove")
def remove(
    pack: PackArg,
    item: Annotated[int, typer.Argument(help="The item's id (qa packs export PACK).")],
    db: DbOption = None,
) -> None:
    """Remove one item from a pack."""
    from qa.review.packs import PackNotFound, find_pack, remove_item
    from qa.store.engine import session_scope

    with session_scope(open_engine(db)) as session:
        try:
            row = find_pack(session=session, pack=pack)
            assert row.id is not None
            remove_item(session=session, pack_id=row.id, item_id=item)
        except (ValueError, PackNotFound) as exc:
            raise fail(str(exc)) from None
    typer.echo(f"removed item {item} from pack {row.name!r}")


@app.command("archive")
def archive(
    pack: PackArg,
    restore: Annotated[bool, typer.Option("--restore", help="Bring it back instead.")] = False,
    db: DbOption = None,
) -> None:
    """Archive a pack (hidden from qa packs list; --archived shows it) or restore it."""
    from qa.review.packs import PackNotFound, archive_pack
    from qa.store.engine import session_scope

    with session_scope(open_engine(db)) as session:
        try:
            row = archive_pack(session=session, pack=pack, archived=not restore)
        except PackNotFound as exc:
            raise fail(str(exc)) from None
    typer.echo(f"{'restored' if restore else 'archived'} pack {row.id} {row.name!r}")


@app.command("list")
def list_(
    agent: Annotated[str | None, typer.Option("--agent", help="Only this agent's packs.")] = None,
    archived: Annotated[bool, typer.Option("--archived", help="Archived packs instead.")] = False,
    fmt: Annotated[ListFormat, typer.Option("--format", help="table or json.")] = ListFormat.table,
    ui_url: UiUrlOption = None,
    db: DbOption = None,
) -> None:
    """Packs, newest first: name, agent, due date, items, and link."""
    from qa.review.packs import list_packs
    from qa.store.engine import session_scope

    base = settings_or_fail(ui_url=ui_url).ui_url
    with session_scope(open_engine(db)) as session:
        packs = list_packs(session=session, agent=agent, archived=archived)
    if fmt == ListFormat.json:
        rows = [
            {"id": p.id, "name": p.name, "agent": p.agent_id, "due": p.due and p.due.isoformat(),
             "created_by": p.created_by, "created_at": p.created_at.isoformat(timespec="seconds"),
             "items": p.items, "filter": p.filter_query, "note": p.note, "link": p.link(base)}
            for p in packs
        ]  # fmt: skip
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not packs:
        typer.echo("no packs yet (qa packs create NAME --by COACH)")
        return
    for p in packs:
        kind = f"filter {p.filter_query}" if p.filter_query else f"{p.items} items"
        if p.filter_query and p.items:
            kind += f" + {p.items} items"
        typer.echo(
            f"{p.id:>4}  {p.name}  agent {p.agent_id or '-'}  due {p.due or '-'}  "
            f"by {p.created_by}  {kind}  {p.link(base)}"
        )


@app.command("export")
def export(
    pack: PackArg,
    fmt: Annotated[ExportFormat, typer.Option("--format", help="html, csv or jsonl.")] = (
        ExportFormat.html
    ),
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write here (csv/jsonl: default stdout).")
    ] = None,
    recordings_root: RootsOption = None,
    ui_url: UiUrlOption = None,
    db: DbOption = None,
) -> None:
    """Export a pack: one self-contained HTML file (excerpts, ±10 s redacted audio clips),
    or its items as CSV / JSON lines with their links. Exit 2 when a recording exists but
    no clip could be cut from it."""
    from qa.review.pack_export import export_pack_file, export_pack_rows
    from qa.review.packs import PackNotFound, pack_detail
    from qa.review.playback import Playback
    from qa.store.engine import session_scope

    base = settings_or_fail(ui_url=ui_url).ui_url
    roots = [r for r in recordings_root or [] if str(r)]
    missing = [str(r) for r in roots if not r.is_dir()]
    if missing:
        raise fail(f"--recordings-root: not a folder: {', '.join(missing)}")
    if fmt == ExportFormat.html and out is None:
        raise fail("--format html needs --out FILE")
    playback = Playback(roots, redaction="redacted") if roots else None
    try:
        with session_scope(open_engine(db)) as session:
            if out is None:
                view = pack_detail(session=session, pack=pack)
                with open_output(None) as handle:
                    count = export_pack_rows(view, handle, fmt.value, ui_url=base)
                typer.echo(f"wrote {count} items of pack {view.name!r}", err=True)
                return
            result = export_pack_file(session=session, pack=pack, out_path=out, fmt=fmt.value,
                                      ui_url=base, playback=playback)  # fmt: skip
    except (ValueError, PackNotFound) as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc}") from None
    finally:
        if playback is not None:
            playback.close()
    _report(result)


def _report(result: PackExport) -> None:
    """Say what the export wrote, each item without a clip on stderr; exit 2 on failed clips."""
    if result.fmt != "html":
        typer.echo(f"wrote {result.items} items to {result.path}")
        return
    typer.echo(
        f"wrote {result.path}: {result.items} items, {result.clips} audio clips, "
        f"{result.clips_missing} without"
    )
    for key, reason in result.missing:
        typer.echo(f"  item {key}: {reason}", err=True)
    if result.clips_failed:
        raise typer.Exit(2)

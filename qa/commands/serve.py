"""``qa serve``: the review UI, with sign-in once a user exists."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from qa.commands.options import (
    DbOption,
    fail,
    open_engine,
    settings_or_fail,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


def serve(
    host: Annotated[
        str, typer.Option(help="Interface to listen on (anything but loopback needs a user).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 7860,
    recordings_root: Annotated[
        list[Path] | None,
        typer.Option(
            envvar="QA_RECORDINGS_ROOT",
            help="Folder the recordings lie under (repeatable; env QA_RECORDINGS_ROOT). The UI "
            "plays only files inside it, redacted unless QA_REDACTION says otherwise.",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Serve the review UI (calls, transcripts with tags, confirm / reject, insights, themes).

    Everyone signs in once a user exists (qa users add); with no user the UI is read-only
    and only loopback (127.0.0.1, localhost, ::1) may be served."""
    engine = open_engine(db)
    roots = [r for r in recordings_root or [] if str(r)]
    missing = [str(r) for r in roots if not r.is_dir()]
    if missing:
        raise fail(f"--recordings-root: not a folder: {', '.join(missing)}")
    url = f"review UI on http://{host}:{port}  (Ctrl+C to stop)"
    serve_review_ui(engine, host=host, port=port, roots=roots, announce=lambda: typer.echo(url))


def serve_review_ui(
    engine: Engine,
    *,
    host: str,
    port: int,
    roots: Sequence[Path],
    announce: Callable[[], None],
) -> None:
    """Serve the UI until stopped: recordings under ``roots`` played as ``QA_REDACTION``
    says, the taxonomy's tag names; an open ``host`` without users exits 1. The private
    media folder is removed however the server stops (Ctrl+C, SIGTERM)."""
    from qa.review.playback import Playback
    from qa.stages.factories import taxonomy_tag_names
    from review_ui.app import serve as serve_ui

    settings = settings_or_fail()
    playback = Playback(roots, redaction=settings.redaction) if roots else None
    try:
        serve_ui(engine, host=host, port=port, playback=playback, announce=announce,
                 tag_names=taxonomy_tag_names(settings))  # fmt: skip
    except ValueError as exc:  # an open host while no user exists
        raise fail(str(exc)) from exc
    finally:
        if playback is not None:
            playback.close()

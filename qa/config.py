"""Run-time settings: defaults, overridden by ``QA_*`` environment variables, then by flags.

Settings are built explicitly by the CLI (``Settings.from_env(...)``) and passed down; nothing
reads the environment at import time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

AGENT_CHANNELS = ("left", "right")
REDACTION_MODES = ("off", "redacted", "redacted+original")
REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_UI_URL = "http://127.0.0.1:7860"

# environment variable -> (field name, converter)
_ENV: dict[str, tuple[str, type]] = {
    "QA_DB_URL": ("db_url", str),
    "QA_REPEAT_WINDOW_HOURS": ("window_hours", float),
    "QA_SERVICE_LEVEL_SECONDS": ("service_level_seconds", float),
    "QA_AGENT_CHANNEL": ("agent_channel", str),
    "QA_ASR_ENGINE": ("asr_engine", str),
    "QA_ASR_MODEL": ("asr_model", str),
    "QA_MODELS_DIR": ("models_dir", Path),
    "QA_REDACTION": ("redaction", str),
    "QA_UI_URL": ("ui_url", str),
}


@dataclass(frozen=True)
class Settings:
    """Everything a pipeline run needs to know besides its inputs."""

    db_url: str | None = None
    window_hours: float = 48.0
    service_level_seconds: float = 20.0
    agent_channel: str = "left"
    asr_engine: str = "faster-whisper"
    asr_model: str = "tiny.en"
    models_dir: Path = REPO_ROOT / "models"
    # PII is redacted before anything is stored or shown; "redacted+original" also keeps the
    # original turn texts in the separate turn_original table.
    redaction: str = "redacted"
    # Where the review UI is served: the base of every call link in reports and exports.
    ui_url: str = DEFAULT_UI_URL

    def __post_init__(self) -> None:
        if not self.ui_url.startswith(("http://", "https://")):
            raise ValueError(f"UI address {self.ui_url!r} must start with http:// or https://")
        if self.agent_channel not in AGENT_CHANNELS:
            raise ValueError(
                f"agent channel {self.agent_channel!r} is not valid; choose one of {AGENT_CHANNELS}"
            )
        if self.redaction not in REDACTION_MODES:
            raise ValueError(
                f"redaction mode {self.redaction!r} is not valid; choose one of {REDACTION_MODES}"
            )
        if self.window_hours <= 0:
            raise ValueError(f"repeat-contact window must be positive, got {self.window_hours} h")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then ``QA_*`` variables, then non-None ``overrides`` (CLI flags)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for var, (name, convert) in _ENV.items():
            raw = env.get(var)
            if raw:
                try:
                    values[name] = convert(raw)
                except ValueError as exc:
                    raise ValueError(f"{var}={raw!r} is not a valid {convert.__name__}") from exc
        known = {f.name for f in fields(cls)}
        for name, value in overrides.items():
            if name not in known:
                raise TypeError(f"unknown setting {name!r}; valid: {sorted(known)}")
            if value is not None:
                values[name] = value
        return replace(cls(), **values) if values else cls()

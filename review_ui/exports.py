"""Files the review UI hands out (the call list as CSV, a coaching pack), and the address the
links inside them point to.

``ExportFolder``: one private folder (0700, files 0600) per app, made on first use; each new
export removes the files older than ``max_age_seconds`` (Gradio has copied them into its own
private cache by then), and ``close`` removes the folder. ``UiAddress``: ``QA_UI_URL`` when it
is set (checked by ``qa.config.Settings``), else the address the request came to, so that
links work from a colleague's browser.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


class ExportFolder:
    """A private folder for exported files, pruned as it goes."""

    def __init__(self, max_age_seconds: float = 600.0) -> None:
        self.max_age_seconds = max_age_seconds
        self._root: Path | None = None

    def path(self, name: str) -> Path:
        """A new path for a file called ``name`` (a fixed, safe name chosen by the caller)."""
        if self._root is None or not self._root.is_dir():
            self._root = Path(tempfile.mkdtemp(prefix="callqa-exports-"))
            os.chmod(self._root, PRIVATE_DIR_MODE)
        self._prune()
        return self._root / f"{uuid.uuid4().hex[:12]}-{name}"

    def seal(self, path: Path) -> str:
        """Make a written export readable by this user only; returns it as a string."""
        os.chmod(path, PRIVATE_FILE_MODE)
        return str(path)

    def _prune(self) -> None:
        assert self._root is not None
        cutoff = time.time() - self.max_age_seconds
        for old in self._root.iterdir():
            if old.stat().st_mtime < cutoff:
                old.unlink(missing_ok=True)

    def close(self) -> None:
        """Remove the folder and what is left in it."""
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None


@dataclass(frozen=True)
class UiAddress:
    """Where colleagues reach this UI: ``configured`` (``QA_UI_URL``), else the request's."""

    configured: str | None = None

    @classmethod
    def from_env(cls) -> UiAddress:
        """``QA_UI_URL`` through ``Settings`` (a bad value is a ValueError saying why)."""
        from qa.config import Settings

        if not os.environ.get("QA_UI_URL", "").strip():
            return cls(None)
        return cls(Settings.from_env().ui_url.rstrip("/"))

    def for_request(self, request: gr.Request | None) -> str:
        """The base URL for links made while answering ``request``."""
        if self.configured:
            return self.configured
        host = request.headers.get("host", "") if request is not None else ""
        return f"http://{host}" if host else "http://127.0.0.1:7860"

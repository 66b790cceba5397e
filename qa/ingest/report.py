"""What one ``ingest`` of one file did: counts, rejected rows, warnings (``IngestReport``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from qa.ingest.rejects import Reject


@dataclass
class IngestReport:
    """What one ``ingest`` of one file did."""

    file: Path
    kind: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejects: list[Reject] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rejects_path: Path | None = None

    @property
    def stored(self) -> int:
        """Rows now in the database (new, changed or already identical)."""
        return self.inserted + self.updated + self.unchanged

    def lines(self) -> list[str]:
        """Human-readable problem lines: ``file:line: reason``."""
        out = [f"{self.file}: warning: {w}" for w in self.warnings]
        out += [f"{self.file}:{r.line}: {r.reason}" for r in self.rejects]
        return out

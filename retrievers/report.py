"""What one ingest run did: :class:`IngestReport` (no heavy imports, so a no-op run can answer fast)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["IngestReport"]


@dataclass
class IngestReport:
    """What one :func:`~retrievers.ingestion.ingest` run did.

    Attributes:
        added: Files indexed for the first time (or whose earlier indexing was interrupted).
        updated: Files whose content changed; their old chunks were replaced.
        unchanged: Files already indexed with the same content (nothing embedded).
        removed: Sources deleted by ``sync=True`` because their file no longer exists.
        failed: ``(path, reason)`` for every file that could not be indexed.
        chunks_added: Chunks embedded and written.
        chunks_removed: Chunks deleted (replaced or removed files).
        seconds: Wall time of the run.
    """

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    chunks_added: int = 0
    chunks_removed: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        """One line, e.g. ``3 added, 1 updated, 10 unchanged, 0 removed, 2 failed (a.txt, b.pdf); ...``."""
        failed = f"{len(self.failed)} failed"
        if self.failed:
            names = [Path(path).name for path, _ in self.failed[:3]]
            more = f", +{len(self.failed) - 3} more" if len(self.failed) > 3 else ""
            failed += f" ({', '.join(names)}{more})"
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.unchanged)} unchanged, "
            f"{len(self.removed)} removed, {failed}; {self.chunks_added} chunks added, "
            f"{self.chunks_removed} removed in {self.seconds:.1f} s"
        )

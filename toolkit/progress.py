"""Progress bars for long chains, fed by their LangChain custom events.

Pass :class:`ProgressBar` as a callback; it draws with ``tqdm.auto``, so the same handler
renders in a terminal and as a widget in Jupyter/Colab::

    from toolkit.progress import ProgressBar

    chain.invoke(text, config={"callbacks": [ProgressBar()]})
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, TextIO
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler

__all__ = ["ProgressBar", "ProgressEvent", "parse_progress"]

_STAGES = {
    "map": "summarizing parts",
    "collapse": "combining summaries",
    "final": "writing the summary",
    "translate": "translating",
}


@dataclass(frozen=True)
class ProgressEvent:
    """One progress report of a chain: ``done`` of ``total`` steps of ``stage``.

    ``stage`` is ``map``, ``collapse`` or ``final`` (summarize) or ``translate``; ``depth``
    is the collapse level (0 for the first).
    """

    stage: str
    done: int
    total: int
    depth: int = 0

    @property
    def label(self) -> str:
        """What is happening, e.g. ``combining summaries (level 2)``."""
        return _STAGES.get(self.stage, self.stage) + (f" (level {self.depth})" if self.depth else "")


def parse_progress(name: str, data: Any) -> ProgressEvent | None:
    """The chains' ``summarize_progress`` / ``translate_progress`` custom events; None for others."""
    if name == "translate_progress":
        stage = "translate"
    elif name == "summarize_progress":
        stage = str(data.get("stage"))
    else:
        return None
    return ProgressEvent(
        stage, int(data.get("done", 0)), int(data.get("total", 0)), int(data.get("depth", 0))
    )


class ProgressBar(BaseCallbackHandler):
    """Draws the ``summarize_progress`` and ``translate_progress`` events as progress bars.

    Args:
        file: Where a terminal bar is drawn (default: stderr).
        min_total: Draw only work of at least this many steps (1-step work needs no bar).
    """

    def __init__(self, file: TextIO | None = None, *, min_total: int = 2) -> None:
        self.file = file or sys.stderr
        self.min_total = min_total
        self._bar: Any = None
        self._key: tuple[str, int] | None = None  # (label, total) of the bar on screen

    def on_custom_event(
        self,
        name: str,
        data: Any,
        *,
        run_id: UUID,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        event = parse_progress(name, data)
        if event is not None:
            self.update(event)

    def update(self, event: ProgressEvent) -> None:
        """Draw one progress event (subclasses draw elsewhere, e.g. in a web page)."""
        if event.stage == "final":
            self.close()
        else:
            self.show(event.label, event.done, event.total)

    def show(self, label: str, done: int, total: int, unit: str = "part") -> None:
        """Draw ``done`` of ``total`` under ``label``; a new label starts a new bar.

        Also usable directly, for work that reports progress without LangChain events.
        """
        if self._key != (label, total):
            self.close()
            if total < self.min_total:
                return
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc=label, unit=unit, file=self.file, leave=False)
            self._key = (label, total)
        if self._bar is not None:
            self._bar.n = done
            self._bar.refresh()
            if done >= total:
                self.close()

    def close(self) -> None:
        """Remove the current bar."""
        if self._bar is not None:
            self._bar.close()
        self._bar = None
        self._key = None

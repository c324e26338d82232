"""Tools for agents: calculator, date and time, unit conversion, document search, workspace
files, summarize and translate.

Empty until the agents issue lands; nothing is exported yet.
"""

from __future__ import annotations

__all__: list[str] = []

"""Tool-calling agents built on LangChain's ``create_agent``: a general assistant and a
research agent that searches your documents and cites them.

Empty until the agents issue lands; nothing is exported yet.
"""

from __future__ import annotations

__all__: list[str] = []

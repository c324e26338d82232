"""Former home of the token-budget splitter, now :mod:`toolkit.text.splitting`: kept so that
existing imports keep working."""

from __future__ import annotations

from toolkit.text.splitting import Chunk, span_counter, split_to_budget

__all__ = ["Chunk", "span_counter", "split_to_budget"]

"""Word-level text diff."""

from __future__ import annotations

from .model import TextDiff


def word_diff(a: str | None, b: str | None) -> TextDiff:
    """Segments of a word-level diff (line level beyond a size limit, so it stays fast)."""
    raise NotImplementedError

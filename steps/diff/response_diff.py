"""Two provider responses compared: text, tool calls, finish reason, usage."""

from __future__ import annotations

from typing import Any

from .model import ResponseDiff


def diff_responses(a: Any, b: Any) -> ResponseDiff:
    """Diff of two ``response_json`` values; either may be None."""
    raise NotImplementedError

"""Two provider requests compared in the words of an LLM request."""

from __future__ import annotations

from typing import Any

from .model import RequestDiff


def diff_requests(a: Any, b: Any) -> RequestDiff:
    """Structural diff of two ``request_json`` values; either may be None (no trace on that side)."""
    raise NotImplementedError

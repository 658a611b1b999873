"""Generic JSON diffs: a tree diff by path, and a unified diff of the pretty-printed documents."""

from __future__ import annotations

from typing import Any

from .model import JsonChange, UnifiedDiff


def diff_json(a: Any, b: Any) -> tuple[JsonChange, ...]:
    """Leaf changes between two JSON values, by path (dict keys by name, lists by index)."""
    raise NotImplementedError


def unified_json_diff(a: Any, b: Any, context: int = 3) -> UnifiedDiff:
    """A unified diff of ``json.dumps(x, indent=2, sort_keys=True)`` of both sides, as hunks."""
    raise NotImplementedError

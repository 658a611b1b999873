"""Deltas between two sets of numbers (token usage, timings)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .model import NumberRow


def diff_numbers(
    a: Mapping[str, object] | None, b: Mapping[str, object] | None, names: Iterable[str] | None = None
) -> tuple[NumberRow, ...]:
    """One row per name (``names`` order, else keys of a then b) with a, b, delta and percent."""
    raise NotImplementedError

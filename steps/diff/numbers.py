"""Deltas between two sets of numbers (token usage, timings) and plain field-by-field comparisons.

``TIMING_NAMES`` are the step metrics fields Letta reports in nanoseconds (GET /v1/steps/{id}/metrics,
tests/letta_samples/step_metrics.json); ``USAGE_NAMES`` the keys of ``NormalizedResponse.usage``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .model import ADDED, CHANGED, REMOVED, UNCHANGED, NumberRow, ValueChange

TIMING_NAMES = ("llm_request_ns", "tool_execution_ns", "step_ns")
USAGE_NAMES = (
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "total_tokens",
)
STEP_FIELDS = ("status", "stop_reason", "error_type", "model", "provider_name")


def _number(value: object) -> int | float | None:
    # bool is an int to Python but never a quantity here.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value


def number_row(name: str, a: object, b: object) -> NumberRow:
    left, right = _number(a), _number(b)
    delta = percent = None
    if left is not None and right is not None:
        delta = right - left
        if left:
            percent = round(delta / abs(left) * 100, 1)
    return NumberRow(name=name, a=left, b=right, delta=delta, percent=percent)


def diff_numbers(
    a: Mapping[str, object] | None,
    b: Mapping[str, object] | None,
    names: Iterable[str] | None = None,
    *,
    skip_empty: bool = True,
) -> tuple[NumberRow, ...]:
    """One row per name with a, b, delta = b - a and percent = delta / |a| * 100 (one decimal).

    ``names`` fixes the rows and their order (e.g. ``("prompt_tokens", "completion_tokens")`` or
    ``("llm_request_ns", "tool_execution_ns", "step_ns")``); by default the numeric keys of ``a`` then ``b``.
    Non-numbers (None, strings, bools) read as missing; rows missing on both sides are left out unless
    ``skip_empty`` is False. A missing side gives delta and percent None.
    """
    a = a if isinstance(a, Mapping) else {}
    b = b if isinstance(b, Mapping) else {}
    if names is None:
        keys = [*a, *(k for k in b if k not in a)]
        names = [k for k in keys if _number(a.get(k)) is not None or _number(b.get(k)) is not None]
    rows = [number_row(str(name), a.get(name), b.get(name)) for name in names]
    if skip_empty:
        rows = [row for row in rows if row.a is not None or row.b is not None]
    return tuple(rows)


def diff_fields(
    a: Mapping[str, object] | None, b: Mapping[str, object] | None, names: Iterable[str] = STEP_FIELDS
) -> tuple[ValueChange, ...]:
    """One ValueChange per name (step fields such as status, stop reason, error type): "unchanged" when
    equal, "added"/"removed" when only one side has a non-None value, else "changed". Names that are None
    on both sides are left out."""
    a = a if isinstance(a, Mapping) else {}
    b = b if isinstance(b, Mapping) else {}
    rows = []
    for name in names:
        left, right = a.get(name), b.get(name)
        if left is None and right is None:
            continue
        if left is None:
            op = ADDED
        elif right is None:
            op = REMOVED
        else:
            op = UNCHANGED if type(left) is type(right) and left == right else CHANGED
        rows.append(ValueChange(str(name), op, left, right))
    return tuple(rows)

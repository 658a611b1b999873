"""Two provider responses compared: final text, reasoning, tool calls, finish reason, token usage.

Tool calls are matched by position among calls of the same tool name (call ids differ between any two
calls, so they are not compared); arguments are compared as JSON when both parse, else as text.
"""

from __future__ import annotations

from typing import Any

from .jsondiff import diff_json
from .model import (
    ADDED,
    CHANGED,
    REMOVED,
    SHAPE_NONE,
    UNCHANGED,
    JsonChange,
    NormalizedResponse,
    Part,
    ResponseDiff,
    ToolCallDiff,
    ValueChange,
)
from .numbers import USAGE_NAMES, diff_numbers
from .response_shapes import normalize_response
from .summary import make_summary
from .text import word_diff


def _args_changes(a: Part, b: Part) -> tuple[JsonChange, ...]:
    if a.args is not None and b.args is not None:
        return diff_json(a.args, b.args)
    if a.text == b.text:
        return ()
    return (JsonChange("", CHANGED, a.text, b.text),)


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def diff_tool_calls(a: tuple[Part, ...], b: tuple[Part, ...]) -> tuple[ToolCallDiff, ...]:
    remaining = list(a)
    out: list[ToolCallDiff] = []
    for right in b:
        partner = next((left for left in remaining if left.tool_name == right.tool_name), None)
        if partner is None:
            out.append(ToolCallDiff(ADDED, right.tool_name or "?", None, right))
            continue
        remaining.remove(partner)
        changes = _args_changes(partner, right)
        out.append(
            ToolCallDiff(CHANGED if changes else UNCHANGED, right.tool_name or "?", partner, right, changes)
        )
    out += [ToolCallDiff(REMOVED, left.tool_name or "?", left, None) for left in remaining]
    return tuple(out)


def diff_responses(a: Any, b: Any) -> ResponseDiff:
    """Diff of two ``response_json`` values; either may be None (no trace on that side)."""
    left: NormalizedResponse = normalize_response(a)
    right: NormalizedResponse = normalize_response(b)
    missing = {(True, True): "both", (True, False): "a", (False, True): "b"}.get(
        (left.shape == SHAPE_NONE, right.shape == SHAPE_NONE)
    )
    text = word_diff(left.text, right.text)
    reasoning = word_diff(left.reasoning, right.reasoning)
    calls = diff_tool_calls(left.tool_calls, right.tool_calls)
    finish_op = UNCHANGED if left.finish_reason == right.finish_reason else CHANGED
    finish = ValueChange("finish_reason", finish_op, left.finish_reason, right.finish_reason)
    usage = diff_numbers(left.usage, right.usage, USAGE_NAMES)

    items: list[str] = []
    if missing:
        items.append("no trace on either side" if missing == "both" else f"no trace for {missing.upper()}")
    else:
        if left.error != right.error:
            items.append(f"error: {_short(right.error)}" if right.error else "error gone")
        for op in (ADDED, REMOVED, CHANGED):
            names = [c.name for c in calls if c.op == op]
            if names:
                verb = {
                    ADDED: "new tool call",
                    REMOVED: "tool call dropped",
                    CHANGED: "tool call arguments changed",
                }[op]
                items.append(f"{verb}: {', '.join(names)}")
        if text.changed:
            items.append(
                "text changed" if left.text and right.text else "text added" if right.text else "text removed"
            )
        if finish_op == CHANGED:
            items.append(f"finish {left.finish_reason} → {right.finish_reason}")
        rows = {row.name: row for row in usage}
        for name in ("prompt_tokens", "completion_tokens"):
            row = rows.get(name)
            if row is not None and row.delta:
                items.append(f"{row.delta:+} {name.split('_')[0]} tokens")
        if reasoning.changed and not items:
            items.append("reasoning changed")
    summary = make_summary(items, "identical responses")
    return ResponseDiff(
        shape_a=left.shape,
        shape_b=right.shape,
        a=left if left.shape != SHAPE_NONE else None,
        b=right if right.shape != SHAPE_NONE else None,
        text=text,
        reasoning=reasoning,
        tool_calls=calls,
        finish_reason=finish,
        usage=usage,
        summary=summary,
        missing=missing,
    )

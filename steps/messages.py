"""Pure helpers over Letta message items (docs/letta-api.md §1.6, §2.3): order, text, tools, system events.

No Django here: the diff engine (``steps.diff``) reads heartbeats with the same ``system_event`` as the step
page."""

from __future__ import annotations

import json
from collections.abc import Iterable
from itertools import groupby
from typing import Any

# Letta wraps text it writes itself in JSON user messages; `user_message` wraps real input.
SYSTEM_EVENT_TYPES = {"heartbeat", "system_alert", "login", "summary", "warning"}


def natural_order(items: Iterable[dict]) -> list[dict]:
    """Undo Letta's reversal inside each group of items made from one internal message.

    The server converts every internal message with reverse=True, so a group comes out as
    tool_call before reasoning (§1.6 point 2). Groups are consecutive items sharing an `id`.
    """
    ordered: list[dict] = []
    for _, group in groupby(items, key=lambda item: item.get("id")):
        ordered.extend(reversed(list(group)))
    return ordered


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if not isinstance(part, dict):
                continue
            if part.get("type") == "text":
                parts.append(str(part.get("text") or ""))
            elif part.get("type") == "image":
                parts.append("[image]")
        return "\n".join(parts)
    return ""


def tool_calls(item: dict) -> list[dict]:
    """The item's tool calls, preferring the list form over the deprecated single one."""
    calls = item.get("tool_calls")
    if isinstance(calls, list) and calls:
        return [c for c in calls if isinstance(c, dict)]
    call = item.get("tool_call")
    return [call] if isinstance(call, dict) else []


def message_text(item: dict) -> str:
    """Readable text of one item: what search matches and what a list preview shows."""
    kind = item.get("message_type")
    if kind in ("system_message", "user_message", "assistant_message"):
        return _content_text(item.get("content"))
    if kind == "reasoning_message":
        return str(item.get("reasoning") or "")
    if kind == "hidden_reasoning_message":
        return str(item.get("hidden_reasoning") or "")
    if kind in ("tool_call_message", "approval_request_message"):
        return "\n".join(f"{c.get('name') or ''}({c.get('arguments') or ''})" for c in tool_calls(item))
    if kind == "tool_return_message":
        pieces = [str(item.get("tool_return") or "")]
        for stream in ("stdout", "stderr"):
            if isinstance(item.get(stream), list):
                pieces.extend(str(line) for line in item[stream])
        return "\n".join(p for p in pieces if p)
    if kind == "approval_response_message":
        return str(item.get("reason") or "")
    if kind == "summary_message":
        return str(item.get("summary") or "")
    if kind == "event_message":
        return json.dumps(item.get("event_data"), ensure_ascii=False)
    return ""


def message_tool(item: dict) -> tuple[str, str]:
    """(tool name, tool_call_id) of a tool call or tool return item, else empty strings."""
    kind = item.get("message_type")
    if kind in ("tool_call_message", "approval_request_message"):
        calls = tool_calls(item)
        if calls:
            return str(calls[0].get("name") or ""), str(calls[0].get("tool_call_id") or "")
    if kind == "tool_return_message":
        return str(item.get("name") or ""), str(item.get("tool_call_id") or "")
    return "", ""


def system_event(text: str) -> dict | None:
    """The event a system-written user message carries, e.g. {"type": "heartbeat", ...}."""
    text = text.strip()
    if not text.startswith("{"):
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # model output can nest deeper than the parser goes
        return None
    if isinstance(data, dict) and data.get("type") in SYSTEM_EVENT_TYPES:
        return data
    return None

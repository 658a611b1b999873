"""What the step page and the list show of Letta message items (docs/letta-api.md §2.3).

Pure functions over payload dicts (no HTML: templates escape everything they print), plus
`previews`, which reads a page's message texts in one query.
"""

from __future__ import annotations

import ast
import json
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.db.models.functions import Substr

from ..messages import system_event, tool_calls

PREVIEW_CHARS = 240


def unwrap_user_text(text: str) -> str:
    """Old agent loops send a person's text as {"type": "user_message", "message": ...}."""
    if text.strip().startswith("{"):
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):  # JSON nested deeper than the parser goes
            return text
        if isinstance(data, dict) and data.get("type") == "user_message" and "message" in data:
            return str(data["message"])
    return text


def pretty_json_text(raw: Any) -> str:
    """Tool arguments arrive as a JSON string; show them indented, or as sent if not JSON."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            return raw
    return json.dumps(raw, indent=2, ensure_ascii=False)


# Beyond these a tool return is shown as the text it is: indenting costs two spaces a level on
# every line, so 10 KB of nested brackets would otherwise become 50 MB of page.
MAX_STRUCTURED_CHARS = 100_000
MAX_STRUCTURED_DEPTH = 20


def structured_text(text: str) -> str:
    """A dict or list written as JSON or as a Python repr, indented as JSON; "" for anything else.

    Letta passes a tool's result through str(), so a dict arrives as
    "{'message': 'No results found.', 'results': []}" rather than JSON.
    """
    stripped = text.strip()
    if not stripped.startswith(("{", "[")) or len(stripped) > MAX_STRUCTURED_CHARS:
        return ""
    try:
        value = json.loads(stripped)
    except (ValueError, RecursionError):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "invalid escape sequence" in a repr'd string
                value = ast.literal_eval(stripped)  # literals only: nothing in it is ever run
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return ""
    if not isinstance(value, dict | list | tuple) or not _depth_at_most(value, MAX_STRUCTURED_DEPTH):
        return ""
    try:
        return json.dumps(value, indent=2, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):  # e.g. a tuple as a dict key
        return ""


def _depth_at_most(value: Any, limit: int) -> bool:
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list | tuple):
            if depth > limit:
                return False
            pending.extend(
                (child, depth + 1) for child in (item.values() if isinstance(item, dict) else item)
            )
    return True


def safe_link(url: Any) -> str:
    # Only http(s) becomes a link: a `javascript:` or `data:` URL from model output must not.
    url = str(url or "").strip()
    return url if url.lower().startswith(("https://", "http://")) else ""


@dataclass
class Entry:
    kind: str  # user, system, assistant, reasoning, hidden_reasoning, tool_call, tool_return, approval, event
    label: str
    date: Any = None
    is_err: bool = False
    text: str = ""
    calls: list[dict] = field(default_factory=list)
    status: str = ""
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    event: dict | None = None
    name: str = ""
    approvals: list[dict] = field(default_factory=list)

    @cached_property
    def json_text(self) -> str:
        """A tool return holding a dict or list, as indented JSON; "" when it is plain text."""
        return structured_text(self.text) if self.kind == "tool_return" else ""


def _content(content: Any) -> tuple[str, list[dict]]:
    if isinstance(content, str):
        return content, []
    texts, images = [], []
    for part in content if isinstance(content, list) else []:
        if not isinstance(part, dict):
            continue
        if part.get("type") == "text":
            texts.append(str(part.get("text") or ""))
        elif part.get("type") == "image":
            source = part.get("source") if isinstance(part.get("source"), dict) else {}
            images.append(
                {
                    "url": safe_link(source.get("url")),
                    "label": str(
                        source.get("url") or source.get("file_id") or source.get("media_type") or "image"
                    ),
                }
            )
    return "\n".join(texts), images


def _lines(value: Any) -> list[str]:
    return [str(line) for line in value] if isinstance(value, list) else []


def entry(item: dict, date=None) -> Entry:
    kind = item.get("message_type") or ""
    base = {"date": date, "is_err": item.get("is_err") is True, "name": str(item.get("name") or "")}
    if kind == "user_message":
        text, images = _content(item.get("content"))
        if event := system_event(text):
            summary = str(event.get("reason") or event.get("message") or text)
            return Entry("event", str(event.get("type")).replace("_", " "), event=event, text=summary, **base)
        return Entry("user", "User", text=unwrap_user_text(text), images=images, **base)
    if kind == "system_message":
        text, _ = _content(item.get("content"))
        return Entry("system", "System prompt", text=text, **base)
    if kind == "assistant_message":
        text, images = _content(item.get("content"))
        return Entry("assistant", "Assistant", text=text, images=images, **base)
    if kind == "reasoning_message":
        return Entry("reasoning", "Reasoning", text=str(item.get("reasoning") or ""), **base)
    if kind == "hidden_reasoning_message":
        state = str(item.get("state") or "hidden")
        return Entry(
            "hidden_reasoning", f"Reasoning ({state})", text=str(item.get("hidden_reasoning") or ""), **base
        )
    if kind in ("tool_call_message", "approval_request_message"):
        calls = [
            {
                "name": str(c.get("name") or ""),
                "id": str(c.get("tool_call_id") or ""),
                "arguments": pretty_json_text(c.get("arguments") or ""),
            }
            for c in tool_calls(item)
        ]
        label = "Tool call" if kind == "tool_call_message" else "Approval requested"
        return Entry("tool_call" if kind == "tool_call_message" else "approval", label, calls=calls, **base)
    if kind == "tool_return_message":
        return Entry(
            "tool_return",
            "Tool return",
            text=str(item.get("tool_return") or ""),
            status=str(item.get("status") or ""),
            stdout=_lines(item.get("stdout")),
            stderr=_lines(item.get("stderr")),
            **base,
        )
    if kind == "approval_response_message":
        approvals = [a for a in item.get("approvals") or [] if isinstance(a, dict)]
        if not approvals and item.get("approve") is not None:
            approvals = [{"approve": item.get("approve"), "reason": item.get("reason")}]
        rows = [
            {
                "approve": a.get("approve"),
                "reason": str(a.get("reason") or ""),
                "tool_call_id": str(a.get("tool_call_id") or ""),
                "status": str(a.get("status") or ""),
            }
            for a in approvals
        ]
        return Entry("approval", "Approval response", approvals=rows, **base)
    if kind == "summary_message":
        return Entry("event", "summary", text=str(item.get("summary") or ""), **base)
    if kind == "event_message":
        return Entry(
            "event",
            str(item.get("event_type") or "event"),
            text=pretty_json_text(item.get("event_data")),
            **base,
        )
    # A type Letta adds later: show its payload rather than nothing.
    return Entry("unknown", kind or "message", text=pretty_json_text(item), **base)


def timeline(messages) -> list[Entry]:
    return [entry(m.payload, m.date) for m in messages]


@dataclass
class Preview:
    user: str = ""
    assistant: str = ""
    reasoning: str = ""  # the last thought, shown (as such) only when the step has no reply
    tools: list[str] = field(default_factory=list)


def previews(step_ids: list[str]) -> dict[str, Preview]:
    """First user text, last assistant text and tool names of each step, in one query."""
    from ..models import Message

    result: dict[str, Preview] = defaultdict(Preview)
    if not step_ids:
        return result
    rows = (
        Message.objects.filter(
            step_id__in=step_ids,
            message_type__in=("user_message", "assistant_message", "reasoning_message", "tool_call_message"),
        )
        .order_by("step_id", "position")
        .annotate(head=Substr("text", 1, PREVIEW_CHARS))
        .values_list("step_id", "message_type", "head", "tool_name")
    )
    reasoning: dict[str, str] = {}
    last_kind: dict[str, str] = {}
    for step_id, kind, head, tool in rows:
        preview = result[step_id]
        last_kind[step_id] = kind
        if kind == "user_message" and not preview.user and head and not head.lstrip().startswith("{"):
            preview.user = head
        elif kind == "user_message" and not preview.user and head:
            text = unwrap_user_text(head)
            if text != head:
                preview.user = text
        elif kind == "assistant_message" and head:
            preview.assistant = head
        elif kind == "reasoning_message" and head:
            reasoning[step_id] = head
        elif kind == "tool_call_message" and tool and tool not in preview.tools:
            preview.tools.append(tool)
    # letta_v1 agents answer in a reasoning_message (docs/letta-api.md §1.6 point 3): a step's last
    # item, when it is reasoning, is its reply. Reasoning followed by a tool call is a thought, and
    # a step without a reply shows it labelled as such, not as what the user was told.
    for step_id, head in reasoning.items():
        if result[step_id].assistant:
            continue
        if last_kind[step_id] == "reasoning_message":
            result[step_id].assistant = head
        else:
            result[step_id].reasoning = head
    return result

"""Fine-tuning examples in OpenAI's chat format, built from a step's provider trace. Pure code.

One example a step: the provider request's system prompt and messages (OpenAI, Anthropic, Google or
OpenAI Responses shapes, read through ``steps.diff``'s normalizers) and the provider's response as the
final assistant message::

    {"messages": [{"role": "system", ...}, {"role": "user", ...},
                  {"role": "assistant", "tool_calls": [{"id", "type": "function", "function": {...}}],
                   "weight": 0},
                  {"role": "tool", "tool_call_id", "content"}, ..., {"role": "assistant", ...}],
     "tools": [{"type": "function", "function": {"name", "description", "parameters"}}]}

Assistant turns that were already in the request get ``"weight": 0``: the review was of this step's
response, so only that is what the model should learn; the history is context. Reasoning and image
parts are left out (the chat format has no place for either). A step without a trace, or whose trace
has an unknown request shape, no messages, or a failed or empty response, gives no example and a reason.
"""

from __future__ import annotations

from typing import Any

from ..diff import SHAPE_NONE, SHAPE_UNKNOWN, NormalizedResponse, Part, normalize_request, normalize_response
from ..diff import Message as NormalizedMessage

# Why a step gave no example (the export counts each).
NO_TRACE = "no_trace"
UNKNOWN_REQUEST = "unknown_request"
NO_RESPONSE = "no_response"

ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}


class Skipped(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def finetune_example(traces: list[dict[str, Any]]) -> dict[str, Any]:
    """The example of a step from its traces (oldest first); raises Skipped with the reason.

    A step may hold several traces (a summarization call, a retry): the newest one that makes an
    example is the step's own answer.
    """
    if not traces:
        raise Skipped(NO_TRACE)
    reason = NO_TRACE
    for trace in reversed(traces):
        try:
            return example_from(trace.get("request_json"), trace.get("response_json"))
        except Skipped as skipped:
            reason = skipped.reason
    raise Skipped(reason)


def example_from(request_json: Any, response_json: Any) -> dict[str, Any]:
    request = normalize_request(request_json)
    if request.shape in (SHAPE_NONE, SHAPE_UNKNOWN) or not request.messages:
        raise Skipped(UNKNOWN_REQUEST)
    response = normalize_response(response_json)
    if response.shape in (SHAPE_NONE, SHAPE_UNKNOWN) or response.error:
        raise Skipped(NO_RESPONSE)
    answer = _answer(response)
    if answer is None:
        raise Skipped(NO_RESPONSE)
    messages: list[dict[str, Any]] = []
    if request.system:
        messages.append({"role": "system", "content": request.system})
    calls = _CallIds()
    for message in request.messages:
        messages.extend(_chat_messages(message, calls))
    for message in messages:
        if message["role"] == "assistant":
            message["weight"] = 0
    messages.append(calls.named(answer))
    example: dict[str, Any] = {"messages": messages}
    tools = [_tool(name, definition) for name, definition in request.tools.items()]
    if tools:
        example["tools"] = tools
    return example


class _CallIds:
    """Every tool call and tool message needs an id that pairs them; Google's carry none, so calls
    without one get ``call_<n>``, and a return without one answers the oldest open call of its name."""

    def __init__(self):
        self.count = 0
        self.open: list[tuple[str, str]] = []  # (id, tool name) of calls not answered yet

    def call(self, part: Part) -> dict[str, Any]:
        self.count += 1
        call_id = part.call_id or f"call_{self.count}"
        self.open.append((call_id, part.tool_name or ""))
        return {
            "id": call_id,
            "type": "function",
            "function": {"name": part.tool_name or "", "arguments": part.text},
        }

    def answer(self, part: Part) -> str:
        wanted = part.call_id
        for index, (call_id, name) in enumerate(self.open):
            if call_id == wanted or (wanted is None and name == (part.tool_name or name)):
                del self.open[index]
                return call_id
        return wanted or f"call_{self.count}"

    def named(self, answer: dict[str, Any]) -> dict[str, Any]:
        if "tool_calls" in answer:
            answer["tool_calls"] = [self.call(p) for p in answer["tool_calls"]]
        return answer


def _chat_messages(message: NormalizedMessage, calls: _CallIds) -> list[dict[str, Any]]:
    """One normalized message as chat messages: tool returns become one "tool" message each (an
    Anthropic user turn carries them as blocks), the text and tool calls one message of its role."""
    out: list[dict[str, Any]] = []
    texts: list[str] = []
    tool_calls: list[dict[str, Any]] = []
    for part in message.parts:
        if part.kind == "tool_return":
            out.append({"role": "tool", "tool_call_id": calls.answer(part), "content": part.text})
        elif part.kind == "tool_call" and message.role == "assistant":
            tool_calls.append(calls.call(part))
        elif part.kind == "text" and part.text:
            texts.append(part.text)
    role = ROLES.get(message.role)
    if role is None or not (texts or tool_calls):
        return out
    chat: dict[str, Any] = {"role": role}
    if texts:
        chat["content"] = "\n".join(texts)
    if tool_calls:
        chat["tool_calls"] = tool_calls
    out.append(chat)
    return out


def _answer(response: NormalizedResponse) -> dict[str, Any] | None:
    """The final assistant message (tool calls still Parts, named by _CallIds), or None if empty."""
    if not response.text and not response.tool_calls:
        return None
    answer: dict[str, Any] = {"role": "assistant"}
    if response.text:
        answer["content"] = response.text
    if response.tool_calls:
        answer["tool_calls"] = list(response.tool_calls)
    return answer


def _tool(name: str, definition: Any) -> dict[str, Any]:
    definition = definition if isinstance(definition, dict) else {}
    function: dict[str, Any] = {"name": name}
    if isinstance(definition.get("description"), str):
        function["description"] = definition["description"]
    for key in ("parameters", "input_schema", "parametersJsonSchema"):
        if isinstance(definition.get(key), dict):
            function["parameters"] = definition[key]
            break
    return {"type": "function", "function": function}

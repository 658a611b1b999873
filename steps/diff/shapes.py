"""Provider request shapes normalized into ``NormalizedRequest`` (responses: ``response_shapes``).

Recognised shapes (``model.SHAPE_*``):

* OpenAI chat completions: ``messages`` with roles system/developer/user/assistant/tool, ``tool_calls``,
  ``tools[].function`` (what Letta records for OpenAI-compatible models, tests/letta_samples/step_trace.json);
* Anthropic messages: ``system`` (string or text blocks) + ``messages`` whose content is blocks of type
  text / tool_use / tool_result / thinking / redacted_thinking / image, ``tools[].input_schema``;
* Google generateContent: ``contents[].parts`` (text, functionCall, functionResponse, thought), role "model",
  ``systemInstruction``, ``tools[].functionDeclarations``, ``generationConfig``;
* OpenAI Responses: ``input`` (string or items: messages, function_call, function_call_output, reasoning),
  ``instructions``, flat ``tools``;
* anything else: "unknown" (the diff falls back to the generic JSON tree diff).

Normalizing never raises: a field of an unexpected type is skipped or shown as JSON text.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from ..messages import system_event
from .model import (
    SHAPE_ANTHROPIC,
    SHAPE_GOOGLE,
    SHAPE_NONE,
    SHAPE_OPENAI_CHAT,
    SHAPE_OPENAI_RESPONSES,
    SHAPE_UNKNOWN,
    Message,
    NormalizedRequest,
    Part,
)

# Letta's summary message ("Note: prior messages (41 prior messages) have been hidden from view due to
# conversation memory constraints. The following is a summary of the previous 41 messages: ...").
_SUMMARY_MARKS = ("hidden from view", "summary of the previous")
_KIND_RANK = {"tool_call": 0, "tool_return": 1, "text": 2, "image": 3, "reasoning": 4, "other": 5}
_ANTHROPIC_BLOCKS = {"tool_use", "tool_result", "thinking", "redacted_thinking"}

# Canonical parameter names, so an OpenAI and an Anthropic request line up in the parameter table.
_PARAM_ALIASES = {
    "max_completion_tokens": "max_tokens",
    "max_output_tokens": "max_tokens",
    "maxOutputTokens": "max_tokens",
    "topP": "top_p",
    "topK": "top_k",
    "stopSequences": "stop",
    "stop_sequences": "stop",
    "candidateCount": "n",
    "responseMimeType": "response_format",
    "presencePenalty": "presence_penalty",
    "frequencyPenalty": "frequency_penalty",
}


def dumps(value: Any) -> str:
    """Compact JSON text of any value, never raising (deep or odd values get a placeholder)."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    except (RecursionError, ValueError, TypeError):
        return "[value too deeply nested to show]"


def text_of(value: Any) -> str:
    """Text content that may be a string, a list of text blocks/parts, or something else."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        texts = []
        for item in value:
            if isinstance(item, dict) and isinstance(item.get("text"), str):
                texts.append(item["text"])
            elif isinstance(item, str):
                texts.append(item)
            else:
                texts.append(dumps(item))
        return "\n".join(texts)
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        return value["text"]
    return dumps(value)


def _tool_call(name: Any, arguments: Any, call_id: Any) -> Part:
    args = arguments
    if isinstance(arguments, str):
        try:
            args = json.loads(arguments)
        except (ValueError, RecursionError):
            args = None
    return Part(
        kind="tool_call",
        text=dumps(arguments) if not isinstance(arguments, str) else arguments,
        tool_name=dumps(name) if name is not None else None,
        call_id=dumps(call_id) if call_id is not None else None,
        args=args,
    )


def _message(index: int, role: Any, parts: list[Part]) -> Message:
    role = dumps(role or "unknown")
    if parts and all(p.kind == "tool_return" for p in parts):
        role = "tool"
    kind = min((p.kind for p in parts), key=lambda k: _KIND_RANK.get(k, 9), default="text")
    lines = []
    for part in parts:
        if part.kind == "tool_call":
            lines.append(f"{part.tool_name}({part.text})")
        else:
            lines.append(part.text)
    text = "\n".join(lines)
    head = text[:600].lower() if role in ("user", "system") and kind == "text" else ""
    summary = all(mark in head for mark in _SUMMARY_MARKS)
    event = system_event(text) if role == "user" and kind == "text" else None
    return Message(
        index=index,
        role=role,
        kind=kind,
        parts=tuple(parts),
        text=text,
        is_summary=summary,
        event=str(event["type"]) if event else "",
    )


def _name_returns(messages: list[Message]) -> tuple[Message, ...]:
    """Give each tool return the name of the call it answers (OpenAI and Anthropic returns carry only
    the call id), so a return reads "tool return (web_search)" on its own."""
    names: dict[str, str] = {}
    out = []
    for message in messages:
        parts = list(message.parts)
        for index, part in enumerate(parts):
            if part.kind == "tool_call" and part.call_id and part.tool_name:
                names[part.call_id] = part.tool_name
            elif part.kind == "tool_return" and part.tool_name is None and part.call_id in names:
                parts[index] = dataclasses.replace(part, tool_name=names[part.call_id])
        if parts != list(message.parts):
            message = dataclasses.replace(message, parts=tuple(parts))
        out.append(message)
    return tuple(out)


def _params(request: dict, consumed: set[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for key, value in request.items():
        if key in consumed:
            continue
        if key == "reasoning" and isinstance(value, dict):
            params["reasoning_effort"] = value.get("effort")
            rest = {k: v for k, v in value.items() if k != "effort"}
            if rest:
                params["reasoning"] = rest
        elif key == "thinking" and isinstance(value, dict):
            params["thinking"] = value.get("type")
            if "budget_tokens" in value:
                params["thinking_budget"] = value.get("budget_tokens")
        elif key in ("generationConfig", "generation_config") and isinstance(value, dict):
            for name, setting in value.items():
                if name == "thinkingConfig" and isinstance(setting, dict):
                    params["thinking_budget"] = setting.get("thinkingBudget")
                else:
                    params[_PARAM_ALIASES.get(name, name)] = setting
        elif key in ("toolConfig", "tool_config") and isinstance(value, dict):
            config = value.get("functionCallingConfig") or value.get("function_calling_config") or value
            params["tool_choice"] = config.get("mode", config) if isinstance(config, dict) else config
        else:
            params[_PARAM_ALIASES.get(key, key)] = value
    return params


def _tools(entries: Any, shape: str) -> dict[str, Any]:
    tools: dict[str, Any] = {}
    if not isinstance(entries, list):
        return tools
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        declarations = entry.get("functionDeclarations") or entry.get("function_declarations")
        if shape == SHAPE_GOOGLE and isinstance(declarations, list):
            for declaration in declarations:
                if isinstance(declaration, dict):
                    tools[dumps(declaration.get("name"))] = declaration
            continue
        definition = entry.get("function") if isinstance(entry.get("function"), dict) else entry
        name = definition.get("name") or entry.get("type") or next(iter(entry), "tool")
        tools[dumps(name)] = definition
    return tools


# ---------------------------------------------------------------- request shapes


def detect_request_shape(request: Any) -> str:
    if request is None:
        return SHAPE_NONE
    if not isinstance(request, dict):
        return SHAPE_UNKNOWN
    if isinstance(request.get("contents"), list):
        return SHAPE_GOOGLE
    messages = request.get("messages")
    if isinstance(messages, list):
        if "system" in request or "thinking" in request:
            return SHAPE_ANTHROPIC
        tools = request.get("tools")
        if isinstance(tools, list) and any(isinstance(t, dict) and "input_schema" in t for t in tools):
            return SHAPE_ANTHROPIC
        for message in messages:
            content = message.get("content") if isinstance(message, dict) else None
            if isinstance(content, list) and any(
                isinstance(b, dict) and b.get("type") in _ANTHROPIC_BLOCKS for b in content
            ):
                return SHAPE_ANTHROPIC
        return SHAPE_OPENAI_CHAT
    if "input" in request and isinstance(request.get("input"), (list, str)):
        return SHAPE_OPENAI_RESPONSES
    return SHAPE_UNKNOWN


def openai_parts(message: dict) -> list[Part]:
    parts: list[Part] = []
    role = message.get("role")
    content = message.get("content")
    for key in ("reasoning_content", "reasoning"):
        if isinstance(message.get(key), str) and message[key]:
            parts.append(Part(kind="reasoning", text=message[key]))
    if role == "tool" or role == "function":
        call_id = message.get("tool_call_id")
        parts.append(
            Part(
                kind="tool_return",
                text=text_of(content),
                tool_name=dumps(message["name"]) if message.get("name") is not None else None,
                call_id=dumps(call_id) if call_id is not None else None,
            )
        )
        return parts
    if isinstance(content, list):
        for item in content:
            if isinstance(item, dict) and item.get("type") in ("image_url", "input_image", "image"):
                parts.append(Part(kind="image", text="[image]"))
            elif isinstance(item, dict) and isinstance(item.get("text"), str):
                parts.append(Part(kind="text", text=item["text"]))
            elif isinstance(item, dict) and isinstance(item.get("refusal"), str):
                parts.append(Part(kind="text", text=item["refusal"]))
            else:
                parts.append(Part(kind="other", text=dumps(item)))
    elif content is not None:
        parts.append(Part(kind="text", text=text_of(content)))
    calls = message.get("tool_calls")
    for call in calls if isinstance(calls, list) else ():
        if isinstance(call, dict):
            function = call.get("function") if isinstance(call.get("function"), dict) else {}
            parts.append(_tool_call(function.get("name"), function.get("arguments"), call.get("id")))
    legacy = message.get("function_call")
    if isinstance(legacy, dict):
        parts.append(_tool_call(legacy.get("name"), legacy.get("arguments"), None))
    return parts


def _normalize_openai_chat(request: dict) -> NormalizedRequest:
    raw_messages = [m for m in request["messages"] if isinstance(m, dict)]
    system: list[str] = []
    messages: list[Message] = []
    for index, message in enumerate(raw_messages):
        role = message.get("role")
        if role in ("system", "developer") and not messages:
            system.append(text_of(message.get("content")))
            continue
        messages.append(_message(index, role, openai_parts(message)))
    tools = _tools(request.get("tools"), SHAPE_OPENAI_CHAT) or _tools(request.get("functions"), "")
    return NormalizedRequest(
        shape=SHAPE_OPENAI_CHAT,
        system="\n\n".join(system),
        messages=_name_returns(messages),
        tools=tools,
        params=_params(request, {"messages", "tools", "functions"}),
        raw=request,
    )


def anthropic_part(block: Any) -> Part:
    if not isinstance(block, dict):
        return (
            Part(kind="text", text=block) if isinstance(block, str) else Part(kind="other", text=dumps(block))
        )
    kind = block.get("type")
    if kind == "text":
        return Part(kind="text", text=text_of(block.get("text")))
    if kind == "tool_use":
        return _tool_call(block.get("name"), block.get("input"), block.get("id"))
    if kind == "tool_result":
        call_id = block.get("tool_use_id")
        text = text_of(block.get("content"))
        if block.get("is_error"):
            text = f"[error] {text}"
        return Part(kind="tool_return", text=text, call_id=dumps(call_id) if call_id is not None else None)
    if kind == "thinking":
        return Part(kind="reasoning", text=text_of(block.get("thinking")))
    if kind == "redacted_thinking":
        return Part(kind="reasoning", text="[redacted thinking]")
    if kind in ("image", "document"):
        return Part(kind="image" if kind == "image" else "other", text=f"[{kind}]")
    return Part(kind="other", text=dumps(block))


def _normalize_anthropic(request: dict) -> NormalizedRequest:
    messages: list[Message] = []
    for index, message in enumerate(request["messages"]):
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        blocks = content if isinstance(content, list) else [content] if content is not None else []
        messages.append(_message(index, message.get("role"), [anthropic_part(b) for b in blocks]))
    return NormalizedRequest(
        shape=SHAPE_ANTHROPIC,
        system=text_of(request.get("system")),
        messages=_name_returns(messages),
        tools=_tools(request.get("tools"), SHAPE_ANTHROPIC),
        params=_params(request, {"messages", "tools", "system"}),
        raw=request,
    )


def google_part(part: Any) -> Part:
    if not isinstance(part, dict):
        return Part(kind="other", text=dumps(part))
    if isinstance(part.get("functionCall"), dict):
        call = part["functionCall"]
        return _tool_call(call.get("name"), call.get("args"), call.get("id"))
    if isinstance(part.get("functionResponse"), dict):
        response = part["functionResponse"]
        name = response.get("name")
        name = dumps(name) if name is not None else None
        return Part(kind="tool_return", text=dumps(response.get("response")), tool_name=name, call_id=None)
    if isinstance(part.get("text"), str):
        return Part(kind="reasoning" if part.get("thought") else "text", text=part["text"])
    if "inlineData" in part or "fileData" in part:
        return Part(kind="image", text="[media]")
    return Part(kind="other", text=dumps(part))


def _normalize_google(request: dict) -> NormalizedRequest:
    messages: list[Message] = []
    for index, content in enumerate(request["contents"]):
        if not isinstance(content, dict):
            continue
        role = content.get("role", "user")
        raw_parts = content.get("parts") if isinstance(content.get("parts"), list) else []
        messages.append(
            _message(index, "assistant" if role == "model" else role, [google_part(p) for p in raw_parts])
        )
    instruction = request.get("systemInstruction", request.get("system_instruction"))
    if isinstance(instruction, dict):
        instruction = instruction.get("parts", instruction)
    return NormalizedRequest(
        shape=SHAPE_GOOGLE,
        system=text_of(instruction),
        messages=_name_returns(messages),
        tools=_tools(request.get("tools"), SHAPE_GOOGLE),
        params=_params(request, {"contents", "tools", "systemInstruction", "system_instruction"}),
        raw=request,
    )


def responses_item(item: dict) -> tuple[str, list[Part]]:
    kind = item.get("type")
    if kind == "function_call" or kind == "custom_tool_call":
        return "assistant", [
            _tool_call(item.get("name"), item.get("arguments", item.get("input")), item.get("call_id"))
        ]
    if kind in ("function_call_output", "custom_tool_call_output"):
        call_id = item.get("call_id")
        text = text_of(item.get("output"))
        return "tool", [
            Part(kind="tool_return", text=text, call_id=dumps(call_id) if call_id is not None else None)
        ]
    if kind == "reasoning":
        summary = item.get("summary")
        text = (
            text_of(summary)
            if summary
            else ("[encrypted reasoning]" if item.get("encrypted_content") else "")
        )
        return "assistant", [Part(kind="reasoning", text=text)]
    if "role" in item:
        content = item.get("content")
        if isinstance(content, list):
            parts = []
            for block in content:
                if isinstance(block, dict) and block.get("type") in ("input_image", "input_file"):
                    parts.append(Part(kind="image", text="[image]"))
                elif isinstance(block, dict) and isinstance(block.get("text"), str):
                    parts.append(Part(kind="text", text=block["text"]))
                else:
                    parts.append(Part(kind="other", text=dumps(block)))
            return dumps(item["role"]), parts
        return dumps(item["role"]), [Part(kind="text", text=text_of(content))]
    return "unknown", [Part(kind="other", text=dumps(item))]


def _normalize_responses(request: dict) -> NormalizedRequest:
    system = [text_of(request.get("instructions"))] if request.get("instructions") else []
    messages: list[Message] = []
    items = request["input"]
    if isinstance(items, str):
        items = [{"role": "user", "content": items}]
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        role, parts = responses_item(item)
        if role in ("system", "developer") and not messages:
            system.append("\n".join(p.text for p in parts))
            continue
        messages.append(_message(index, role, parts))
    return NormalizedRequest(
        shape=SHAPE_OPENAI_RESPONSES,
        system="\n\n".join(system),
        messages=_name_returns(messages),
        tools=_tools(request.get("tools"), SHAPE_OPENAI_RESPONSES),
        params=_params(request, {"input", "instructions", "tools"}),
        raw=request,
    )


_REQUEST_NORMALIZERS = {
    SHAPE_OPENAI_CHAT: _normalize_openai_chat,
    SHAPE_ANTHROPIC: _normalize_anthropic,
    SHAPE_GOOGLE: _normalize_google,
    SHAPE_OPENAI_RESPONSES: _normalize_responses,
}


def normalize_request(request_json: Any) -> NormalizedRequest:
    """Recognise the provider shape of ``request_json`` and normalize it.

    None gives shape "none", anything unrecognised shape "unknown"; both have no system, messages, tools or
    params (``raw`` keeps the value for the generic JSON diff).
    """
    shape = detect_request_shape(request_json)
    normalizer = _REQUEST_NORMALIZERS.get(shape)
    if normalizer is None:
        return NormalizedRequest(shape=shape, system="", messages=(), tools={}, params={}, raw=request_json)
    return normalizer(request_json)

"""Provider responses normalized: text, reasoning, tool calls, finish reason, token usage.

Same shapes as ``shapes`` (OpenAI chat ``choices``, Anthropic ``content`` blocks + ``stop_reason``, Google
``candidates`` + ``usageMetadata``, OpenAI Responses ``output`` items); a failed call stored as
``{"error": ...}`` keeps its text in ``error``. Never raises.
"""

from __future__ import annotations

from typing import Any

from .model import (
    SHAPE_ANTHROPIC,
    SHAPE_GOOGLE,
    SHAPE_NONE,
    SHAPE_OPENAI_CHAT,
    SHAPE_OPENAI_RESPONSES,
    SHAPE_UNKNOWN,
    NormalizedResponse,
    Part,
)
from .shapes import anthropic_part, dumps, google_part, openai_parts, responses_item, text_of


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _get(mapping: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(mapping, dict):
            return None
        mapping = mapping.get(key)
    return mapping


def _usage(prompt=None, completion=None, cached=None, cache_write=None, reasoning=None, total=None) -> dict:
    usage = {
        "prompt_tokens": _int(prompt),
        "completion_tokens": _int(completion),
        "cached_tokens": _int(cached),
        "cache_write_tokens": _int(cache_write),
        "reasoning_tokens": _int(reasoning),
        "total_tokens": _int(total),
    }
    if (
        usage["total_tokens"] is None
        and usage["prompt_tokens"] is not None
        and usage["completion_tokens"] is not None
    ):
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    return usage


def detect_response_shape(response: Any) -> str:
    if response is None:
        return SHAPE_NONE
    if not isinstance(response, dict):
        return SHAPE_UNKNOWN
    if isinstance(response.get("choices"), list):
        return SHAPE_OPENAI_CHAT
    if isinstance(response.get("candidates"), list) or "usageMetadata" in response:
        return SHAPE_GOOGLE
    if response.get("type") == "message" or ("stop_reason" in response and "content" in response):
        return SHAPE_ANTHROPIC
    if response.get("object") == "response" or isinstance(response.get("output"), list):
        return SHAPE_OPENAI_RESPONSES
    return SHAPE_UNKNOWN


def _error_text(response: Any) -> str | None:
    if not isinstance(response, dict) or "error" not in response:
        return None
    error = response["error"]
    if isinstance(error, dict):
        return dumps(error.get("message") or error)
    return dumps(error) if error is not None else None


def _collect(part: Part, texts: list[str], reasoning: list[str], calls: list[Part]) -> None:
    if part.kind == "tool_call":
        calls.append(part)
    elif part.kind == "reasoning":
        reasoning.append(part.text)
    else:
        texts.append(part.text)


def normalize_response(response_json: Any) -> NormalizedResponse:
    """Text, reasoning, tool calls, finish reason and token usage of a provider response.

    Anthropic's ``input_tokens`` excludes cached input, so ``prompt_tokens`` there is input + cache read +
    cache write, comparable with OpenAI's ``prompt_tokens`` (which includes cached tokens). A failed call
    (``{"error": ...}``, tests/letta_samples/step_failed_trace.json) gives its text in ``error``.
    """
    shape = detect_response_shape(response_json)
    response = response_json if isinstance(response_json, dict) else {}
    texts: list[str] = []
    reasoning: list[str] = []
    calls: list[Part] = []
    finish: Any = None
    usage = _usage()
    if shape == SHAPE_OPENAI_CHAT:
        choice = response["choices"][0] if response["choices"] else {}
        choice = choice if isinstance(choice, dict) else {}
        message = choice.get("message") if isinstance(choice.get("message"), dict) else {}
        for part in openai_parts({**message, "role": "assistant"}):
            _collect(part, texts, reasoning, calls)
        finish = choice.get("finish_reason")
        raw = response.get("usage")
        usage = _usage(
            _get(raw, "prompt_tokens"),
            _get(raw, "completion_tokens"),
            _get(raw, "prompt_tokens_details", "cached_tokens"),
            None,
            _get(raw, "completion_tokens_details", "reasoning_tokens"),
            _get(raw, "total_tokens"),
        )
    elif shape == SHAPE_ANTHROPIC:
        content = response.get("content")
        for block in content if isinstance(content, list) else [content]:
            part = anthropic_part(block)
            _collect(part, texts, reasoning, calls)
        finish = response.get("stop_reason")
        raw = response.get("usage")
        parts = [
            _int(_get(raw, k))
            for k in ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
        ]
        prompt = sum(p for p in parts if p is not None) if parts[0] is not None else None
        usage = _usage(prompt, _get(raw, "output_tokens"), parts[1], parts[2], None, None)
    elif shape == SHAPE_GOOGLE:
        candidates = response.get("candidates") or [{}]
        candidate = candidates[0] if isinstance(candidates[0], dict) else {}
        for raw_part in _get(candidate, "content", "parts") or []:
            part = google_part(raw_part)
            _collect(part, texts, reasoning, calls)
        finish = candidate.get("finishReason")
        raw = response.get("usageMetadata")
        usage = _usage(
            _get(raw, "promptTokenCount"),
            _get(raw, "candidatesTokenCount"),
            _get(raw, "cachedContentTokenCount"),
            None,
            _get(raw, "thoughtsTokenCount"),
            _get(raw, "totalTokenCount"),
        )
    elif shape == SHAPE_OPENAI_RESPONSES:
        for item in response.get("output") or []:
            if not isinstance(item, dict):
                continue
            if item.get("type") == "message":
                texts.append(text_of(item.get("content")))
                continue
            _, parts = responses_item(item)
            for part in parts:
                _collect(part, texts, reasoning, calls)
        finish = _get(response, "incomplete_details", "reason") or response.get("status")
        raw = response.get("usage")
        usage = _usage(
            _get(raw, "input_tokens"),
            _get(raw, "output_tokens"),
            _get(raw, "input_tokens_details", "cached_tokens"),
            None,
            _get(raw, "output_tokens_details", "reasoning_tokens"),
            _get(raw, "total_tokens"),
        )
    model = response.get("model") if isinstance(response.get("model"), str) else None
    return NormalizedResponse(
        shape=shape,
        text="\n".join(t for t in texts if t),
        reasoning="\n".join(r for r in reasoning if r),
        tool_calls=tuple(calls),
        finish_reason=dumps(finish) if finish is not None else None,
        usage=usage,
        model=model or response.get("modelVersion")
        if isinstance(response.get("modelVersion"), str)
        else model,
        error=_error_text(response_json),
        raw=response_json,
    )

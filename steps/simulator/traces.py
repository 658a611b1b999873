"""Token usage, error payloads and provider traces (§2.1, §2.5) in OpenAI and Anthropic formats."""

from __future__ import annotations

import json
import random
from datetime import datetime

from .catalog import ORG_ID, TOOL_SCHEMAS, USER_ID, Agent, ModelConfig, iso_z, new_id, system_prompt

ERROR_KINDS = {
    # error_type: (stop_reason, provider status, provider exception, provider message)
    "LLMServerError": (
        "llm_api_error",
        500,
        "InternalServerError",
        "The server had an error processing your request.",
    ),
    "LLMBadRequestError": (
        "llm_api_error",
        400,
        "BadRequestError",
        "Invalid 'messages[3].content': string too long.",
    ),
    "LLMRateLimitError": (
        "llm_api_error",
        429,
        "RateLimitError",
        "Rate limit reached for requests per min (RPM).",
    ),
    "InternalServerError": (
        "error",
        500,
        "InternalServerError",
        "upstream connect error or disconnect/reset",
    ),
}

_TRACEBACK = """Traceback (most recent call last):
  File "/srv/letta/venv/lib/python3.11/site-packages/letta/adapters/simple_llm_request_adapter.py", line 57, in invoke_llm
    self.response_data = await self.llm_client.request_async_with_telemetry(request_data, self.llm_config)
  File "/srv/letta/venv/lib/python3.11/site-packages/letta/llm_api/llm_client_base.py", line 103, in request_async_with_telemetry
    response_data = await self.request_async(request_data, llm_config)
{provider_exception}: {provider_error}

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/srv/letta/venv/lib/python3.11/site-packages/letta/agents/letta_agent_v3.py", line 1167, in _step
    async for chunk in invocation:
  File "/srv/letta/venv/lib/python3.11/site-packages/letta/adapters/simple_llm_request_adapter.py", line 61, in invoke_llm
    raise self.llm_client.handle_llm_error(e, llm_config=self.llm_config)
letta.errors.{error_type}: {message}
"""


def provider_error_text(error_type: str) -> str:
    _, status, _, text = ERROR_KINDS[error_type]
    kind = "server_error" if status >= 500 else "invalid_request_error"
    return f"Error code: {status} - {{'error': {{'message': '{text}', 'type': '{kind}', 'param': None, 'code': None}}}}"


def error_fields(error_type: str, model: ModelConfig) -> tuple[str, dict]:
    """stop_reason and error_data {message, traceback, details} of a failed step (step_failed.json)."""
    stop_reason, _, provider_exception, _ = ERROR_KINDS[error_type]
    provider_error = provider_error_text(error_type)
    message = f"INVALID_ARGUMENT: Bad request to {model.provider_name} endpoint: {provider_error}"
    if error_type != "LLMBadRequestError":
        message = f"{model.provider_name} API error: {provider_error}"
    traceback = _TRACEBACK.format(
        provider_exception=f"{model.endpoint_type}.{provider_exception}",
        provider_error=provider_error,
        error_type=error_type,
        message=message,
    )
    return stop_reason, {"message": message, "traceback": traceback, "details": None}


def zero_usage() -> dict:
    # What a pending, failed or cancelled step reports (step_failed.json).
    return {
        "completion_tokens": 0,
        "prompt_tokens": 0,
        "total_tokens": 0,
        "cached_input_tokens": None,
        "cache_write_tokens": None,
        "reasoning_tokens": None,
        "completion_tokens_details": None,
        "prompt_tokens_details": None,
    }


def usage(rng: random.Random, model: ModelConfig, context_chars: int) -> dict:
    prompt = 2000 + context_chars // 4 + rng.randint(0, 900)
    completion = rng.randint(12, 320)
    cached = cache_write = reasoning = None
    cached_tokens = 0
    if model.endpoint_type == "anthropic":
        cached = cached_tokens = rng.choice([0, prompt // 2, prompt - 400])
        cache_write = rng.choice([0, 0, 1800, 2400])
        reasoning = rng.randint(20, 200)
    elif model.model == "gpt-4.1" and rng.random() < 0.5:
        cached = cached_tokens = (prompt // 1024) * 1024
    return {
        "completion_tokens": completion,
        "prompt_tokens": prompt,
        "total_tokens": prompt + completion,
        "cached_input_tokens": cached,
        "cache_write_tokens": cache_write,
        "reasoning_tokens": reasoning,
        "completion_tokens_details": {"reasoning_tokens": reasoning or 0},
        "prompt_tokens_details": {
            "cached_tokens": cached_tokens,
            "cache_read_tokens": cached_tokens,
            "cache_creation_tokens": cache_write or 0,
        },
    }


def _openai_messages(agent: Agent, transcript: list[dict], moment: datetime) -> list[dict]:
    messages: list[dict] = [{"content": system_prompt(agent, moment), "role": "system"}]
    for turn in transcript:
        if "tool_call" in turn:
            call = turn["tool_call"]
            function = {"name": call["name"], "arguments": call["arguments"]}
            tool_call = {"id": call["tool_call_id"], "type": "function", "function": function}
            messages.append({"content": None, "role": "assistant", "tool_calls": [tool_call]})
        elif turn["role"] == "tool":
            messages.append({"content": turn["content"], "role": "tool", "tool_call_id": turn["call_id"]})
        else:
            messages.append({"content": turn["content"], "role": turn["role"]})
    return messages


def _anthropic_messages(transcript: list[dict]) -> list[dict]:
    messages = []
    for turn in transcript:
        if "tool_call" in turn:
            call = turn["tool_call"]
            block = {"type": "tool_use", "id": call["tool_call_id"], "name": call["name"]}
            messages.append(
                {"role": "assistant", "content": [{**block, "input": json.loads(call["arguments"])}]}
            )
        elif turn["role"] == "tool":
            result = {"type": "tool_result", "tool_use_id": turn["call_id"], "content": turn["content"]}
            messages.append({"role": "user", "content": [result]})
        else:
            messages.append({"role": turn["role"], "content": [{"type": "text", "text": turn["content"]}]})
    return messages


def provider_request(agent: Agent, transcript: list[dict], moment: datetime) -> dict:
    """The request body exactly as the agent loop would have sent it to the provider."""
    model = agent.model
    tools = [name for name in agent.tools if name in TOOL_SCHEMAS]
    if model.endpoint_type == "anthropic":
        return {
            "model": model.model,
            "max_tokens": model.max_tokens,
            "thinking": {"type": "enabled", "budget_tokens": 1024},
            "system": system_prompt(agent, moment),
            "messages": _anthropic_messages(transcript),
            "tools": [
                {"name": name, "description": TOOL_SCHEMAS[name][0], "input_schema": TOOL_SCHEMAS[name][1]}
                for name in tools
            ],
            "tool_choice": {"type": "auto"},
        }
    return {
        "model": model.model,
        "messages": _openai_messages(agent, transcript, moment),
        "max_completion_tokens": model.max_tokens,
        "temperature": 1.0,
        "user": USER_ID,
        "parallel_tool_calls": False,
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": name,
                    "description": TOOL_SCHEMAS[name][0],
                    "parameters": TOOL_SCHEMAS[name][1],
                },
            }
            for name in tools
        ],
        "tool_choice": "auto",
    }


def provider_response(
    rng: random.Random,
    model: ModelConfig,
    tokens: dict,
    moment: datetime,
    text: str | None,
    call: dict | None,
) -> dict:
    """The raw provider response of a non-streaming call (§2.5)."""
    if model.endpoint_type == "anthropic":
        content: list[dict] = [
            {"type": "thinking", "thinking": "Let me work through this.", "signature": "EqQB"}
        ]
        if call is not None:
            block = {"type": "tool_use", "id": call["tool_call_id"], "name": call["name"]}
            content.append({**block, "input": json.loads(call["arguments"])})
        else:
            content.append({"type": "text", "text": text})
        return {
            "id": f"msg_01{rng.getrandbits(96):024x}",
            "type": "message",
            "role": "assistant",
            "model": model.model,
            "content": content,
            "stop_reason": "tool_use" if call else "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": tokens["prompt_tokens"],
                "cache_creation_input_tokens": tokens["cache_write_tokens"] or 0,
                "cache_read_input_tokens": tokens["cached_input_tokens"] or 0,
                "output_tokens": tokens["completion_tokens"],
                "service_tier": "standard",
            },
        }
    tool_calls = None
    if call is not None:
        function = {"arguments": call["arguments"], "name": call["name"]}
        tool_calls = [{"id": call["tool_call_id"], "function": function, "type": "function"}]
    message = {
        "content": None if call else text,
        "refusal": None,
        "role": "assistant",
        "annotations": None,
        "audio": None,
        "function_call": None,
        "tool_calls": tool_calls,
    }
    choice = {
        "finish_reason": "tool_calls" if call else "stop",
        "index": 0,
        "logprobs": None,
        "message": message,
    }
    return {
        "id": f"chatcmpl-{rng.getrandbits(96):024x}",
        "choices": [choice],
        "created": int(moment.timestamp()),
        "model": model.model,
        "object": "chat.completion",
        "service_tier": None,
        "system_fingerprint": "fp_sim",
        "usage": {
            "completion_tokens": tokens["completion_tokens"],
            "prompt_tokens": tokens["prompt_tokens"],
            "total_tokens": tokens["total_tokens"],
            "completion_tokens_details": {
                "accepted_prediction_tokens": None,
                "audio_tokens": None,
                "reasoning_tokens": 0,
                "rejected_prediction_tokens": None,
            },
            "prompt_tokens_details": {
                "audio_tokens": None,
                "cached_tokens": tokens["cached_input_tokens"] or 0,
            },
        },
    }


def error_response(error_type: str) -> dict:
    # A failed provider call stores only the error (llm_client_base.py:103-137, step_failed_trace.json).
    return {"error": provider_error_text(error_type), "error_type": ERROR_KINDS[error_type][2]}


def trace_row(
    rng: random.Random,
    *,
    step: dict,
    agent: Agent,
    created_at: datetime,
    request_json: dict,
    response_json: dict,
    call_type: str = "agent_step",
) -> dict:
    summarizing = call_type == "summarization"
    compaction = {"mode": "sliding_window", "sliding_window_percentage": 0.3, "model": agent.model.handle}
    return {
        "created_by_id": USER_ID,
        "last_updated_by_id": USER_ID,
        "created_at": iso_z(created_at),
        "updated_at": iso_z(created_at.replace(microsecond=(created_at.microsecond + 1800) % 1_000_000)),
        "id": new_id(rng, "provider_trace"),
        "request_json": request_json,
        "response_json": response_json,
        "step_id": step["id"],
        "agent_id": step["agent_id"],
        "agent_tags": list(agent.tags),
        "call_type": call_type,
        "run_id": step["run_id"],
        "source": None,
        "org_id": ORG_ID,
        "user_id": USER_ID,
        "compaction_settings": compaction if summarizing else None,
        "llm_config": None if summarizing else agent.model.llm_config(),
        "billing_context": None,  # excluded on write, so always null on read (§2.5)
    }


def summarization_request(agent: Agent, transcript: list[dict]) -> dict:
    lines = "\n".join(f"{turn['role']}: {turn.get('content') or '[tool call]'}" for turn in transcript)
    return {
        "model": agent.model.model,
        "messages": [
            {"content": "Summarize the conversation so far in under 100 words.", "role": "system"},
            {"content": lines, "role": "user"},
        ],
    }


CLICKHOUSE_FIELDS = ("id", "step_id", "request_json", "response_json", "created_at")


def clickhouse_view(row: dict) -> dict:
    # The ClickHouse reader fills only these columns; every other field comes back null (§1.4).
    return {key: (value if key in CLICKHOUSE_FIELDS else None) for key, value in row.items()}

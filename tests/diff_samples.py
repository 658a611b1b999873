"""Provider requests and responses for the diff tests: the recorded OpenAI chat trace plus hand-built
Anthropic, Google and OpenAI Responses equivalents of the same short Letta conversation."""

import copy
import json

from tests.samples import body

HUMAN = "The human is dashboard tester #2."


def letta_system(human: str = HUMAN, persona: str = "I am a test agent.", rules: str | None = None) -> str:
    """A system prompt laid out the way Letta compiles it (tests/letta_samples/step_trace.json)."""
    rule_section = f"<tool_usage_rules>\n{rules}\n</tool_usage_rules>\n\n" if rules else ""
    return (
        "<base_instructions>\nYou are a helpful self-improving agent.\nBase instructions complete.\n"
        "</base_instructions>\n\n<memory_blocks>\nThe following memory blocks are currently engaged in your "
        "core memory unit:\n\n<human>\n<description>\nThe human block.\n</description>\n<metadata>\n"
        f"- chars_current={len(human)}\n- chars_limit=100000\n</metadata>\n<value>\n{human}\n</value>\n"
        "</human>\n\n<persona>\n<description>\nThe persona block.\n</description>\n<metadata>\n"
        f"- chars_current={len(persona)}\n- chars_limit=100000\n</metadata>\n<value>\n{persona}\n</value>\n"
        f"</persona>\n\n</memory_blocks>\n\n{rule_section}<memory_metadata>\n- AGENT_ID: agent-1\n"
        "- 0 previous messages between you and the user are stored in recall memory\n</memory_metadata>"
    )


def openai_request() -> dict:
    """The recorded request: system + 13 messages (text, one tool call and its return), 3 tools."""
    return copy.deepcopy(body("step_trace")["request_json"])


def openai_response() -> dict:
    return copy.deepcopy(body("step_trace")["response_json"])


def openai_tool_turn(
    call_id: str = "call_1", name: str = "web_search", result: str = "3 results"
) -> list[dict]:
    function = {"name": name, "arguments": '{"query": "tea"}'}
    return [
        {
            "content": None,
            "role": "assistant",
            "tool_calls": [{"id": call_id, "type": "function", "function": function}],
        },
        {"content": result, "role": "tool", "tool_call_id": call_id},
    ]


def anthropic_request() -> dict:
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 8192,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "system": [{"type": "text", "text": letta_system(), "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "What do I like?"}]},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "Check the archive.", "signature": "EqQB"},
                    {
                        "type": "tool_use",
                        "id": "toolu_1",
                        "name": "archival_memory_search",
                        "input": {"query": "likes"},
                    },
                ],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "tea"}],
            },
            {"role": "assistant", "content": "You like tea."},
        ],
        "tools": [
            {
                "name": "archival_memory_search",
                "description": "Search archival memory.",
                "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}},
            }
        ],
        "tool_choice": {"type": "auto"},
    }


def anthropic_response() -> dict:
    return {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": [
            {"type": "thinking", "thinking": "Save it.", "signature": "x"},
            {
                "type": "tool_use",
                "id": "toolu_2",
                "name": "memory_insert",
                "input": {"label": "human", "new_str": "likes tea"},
            },
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 100,
            "cache_creation_input_tokens": 20,
            "cache_read_input_tokens": 1000,
            "output_tokens": 42,
        },
    }


def google_request() -> dict:
    return {
        "model": "gemini-2.5-flash",
        "systemInstruction": {"role": "user", "parts": [{"text": letta_system()}]},
        "contents": [
            {"role": "user", "parts": [{"text": "What do I like?"}]},
            {
                "role": "model",
                "parts": [
                    {"text": "Looking it up.", "thought": True},
                    {"functionCall": {"name": "archival_memory_search", "args": {"query": "likes"}}},
                ],
            },
            {
                "role": "user",
                "parts": [
                    {"functionResponse": {"name": "archival_memory_search", "response": {"result": "tea"}}}
                ],
            },
            {"role": "model", "parts": [{"text": "You like tea."}]},
        ],
        "tools": [
            {
                "functionDeclarations": [
                    {
                        "name": "archival_memory_search",
                        "description": "Search archival memory.",
                        "parameters": {"type": "OBJECT", "properties": {"query": {"type": "STRING"}}},
                    }
                ]
            }
        ],
        "toolConfig": {"functionCallingConfig": {"mode": "AUTO"}},
        "generationConfig": {
            "temperature": 0.7,
            "maxOutputTokens": 8192,
            "thinkingConfig": {"thinkingBudget": 1024},
        },
    }


def google_response() -> dict:
    return {
        "candidates": [
            {
                "content": {"role": "model", "parts": [{"text": "You like tea."}]},
                "finishReason": "STOP",
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 1200,
            "candidatesTokenCount": 8,
            "cachedContentTokenCount": 1024,
            "thoughtsTokenCount": 30,
            "totalTokenCount": 1238,
        },
        "modelVersion": "gemini-2.5-flash",
    }


def responses_request() -> dict:
    return {
        "model": "gpt-5",
        "instructions": letta_system(),
        "input": [
            {"role": "user", "content": [{"type": "input_text", "text": "What do I like?"}]},
            {
                "type": "reasoning",
                "id": "rs_1",
                "summary": [{"type": "summary_text", "text": "Search first."}],
            },
            {
                "type": "function_call",
                "call_id": "call_1",
                "name": "archival_memory_search",
                "arguments": '{"query": "likes"}',
            },
            {"type": "function_call_output", "call_id": "call_1", "output": "tea"},
            {"role": "assistant", "content": [{"type": "output_text", "text": "You like tea."}]},
        ],
        "tools": [
            {
                "type": "function",
                "name": "archival_memory_search",
                "description": "Search archival memory.",
                "parameters": {"type": "object", "properties": {"query": {"type": "string"}}},
            }
        ],
        "reasoning": {"effort": "medium"},
        "max_output_tokens": 4096,
        "parallel_tool_calls": True,
    }


def responses_response() -> dict:
    return {
        "id": "resp_1",
        "object": "response",
        "status": "completed",
        "model": "gpt-5",
        "output": [
            {
                "type": "reasoning",
                "id": "rs_2",
                "summary": [{"type": "summary_text", "text": "Call the tool."}],
            },
            {
                "type": "function_call",
                "call_id": "call_2",
                "name": "web_search",
                "arguments": '{"query": "tea"}',
            },
        ],
        "usage": {
            "input_tokens": 900,
            "input_tokens_details": {"cached_tokens": 512},
            "output_tokens": 60,
            "output_tokens_details": {"reasoning_tokens": 40},
            "total_tokens": 960,
        },
    }


SHAPES = ("openai_chat", "anthropic", "google", "openai_responses")


def render(shape: str, system: str, turns: list[dict]) -> dict:
    """One conversation written as a request of the given provider shape.

    A turn is {"role": "user" | "assistant", "text": ...}, {"call": name, "args": {...}, "id": ...} or
    {"result": text, "id": ..., "name": ...}.
    """
    messages: list[dict] = []
    for turn in turns:
        if shape == "openai_chat":
            if "call" in turn:
                function = {"name": turn["call"], "arguments": json.dumps(turn["args"])}
                call = {"id": turn["id"], "type": "function", "function": function}
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
            elif "result" in turn:
                messages.append({"role": "tool", "content": turn["result"], "tool_call_id": turn["id"]})
            else:
                messages.append({"role": turn["role"], "content": turn["text"]})
        elif shape == "anthropic":
            if "call" in turn:
                block = {"type": "tool_use", "id": turn["id"], "name": turn["call"], "input": turn["args"]}
                messages.append({"role": "assistant", "content": [block]})
            elif "result" in turn:
                block = {"type": "tool_result", "tool_use_id": turn["id"], "content": turn["result"]}
                messages.append({"role": "user", "content": [block]})
            else:
                messages.append({"role": turn["role"], "content": [{"type": "text", "text": turn["text"]}]})
        elif shape == "google":
            if "call" in turn:
                part = {"functionCall": {"name": turn["call"], "args": turn["args"]}}
                messages.append({"role": "model", "parts": [part]})
            elif "result" in turn:
                part = {"functionResponse": {"name": turn["name"], "response": {"result": turn["result"]}}}
                messages.append({"role": "user", "parts": [part]})
            else:
                role = "model" if turn["role"] == "assistant" else "user"
                messages.append({"role": role, "parts": [{"text": turn["text"]}]})
        else:
            if "call" in turn:
                args = json.dumps(turn["args"])
                messages.append(
                    {"type": "function_call", "call_id": turn["id"], "name": turn["call"], "arguments": args}
                )
            elif "result" in turn:
                messages.append(
                    {"type": "function_call_output", "call_id": turn["id"], "output": turn["result"]}
                )
            else:
                messages.append({"role": turn["role"], "content": turn["text"]})
    if shape == "openai_chat":
        return {"model": "gpt-4o-mini", "messages": [{"role": "system", "content": system}, *messages]}
    if shape == "anthropic":
        return {"model": "claude-sonnet-4-5", "max_tokens": 1024, "system": system, "messages": messages}
    if shape == "google":
        return {"systemInstruction": {"parts": [{"text": system}]}, "contents": messages}
    return {"model": "gpt-5", "instructions": system, "input": messages}

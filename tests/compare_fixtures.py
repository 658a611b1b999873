"""Two consecutive steps of one agent, as the compare tests and screenshots need them."""

from __future__ import annotations

import copy

from tests.factories import MessageFactory, ProviderTraceFactory, RunFactory, StepFactory, StepMetricsFactory

HOSTILE = "<script>alert('x')</script>\"><img src=x onerror=alert(2)> ‮dlrow‬ 𝕳𝖊𝖑𝖑𝖔 ﷽ e\u0301"


def letta_system(human: str, persona: str = "I am a helpful assistant.") -> str:
    def block(label: str, value: str) -> str:
        return (
            f"<{label}>\n<description>\nThe {label} block.\n</description>\n<metadata>\n"
            f"- chars_current={len(value)}\n- chars_limit=5000\n</metadata>\n<value>\n{value}\n</value>\n</{label}>\n"
        )

    return (
        "<base_instructions>\nYou are a helpful self-improving agent.\n</base_instructions>\n\n<memory_blocks>\n"
        f"The following memory blocks are currently engaged in your core memory unit:\n\n{block('human', human)}\n"
        f"{block('persona', persona)}\n</memory_blocks>\n\n<memory_metadata>\n- AGENT_ID: agent-1\n"
        "- System prompt last recompiled: 2026-11-25 09:30:19 AM UTC+0000\n</memory_metadata>"
    )


def tool(name: str) -> dict:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": f"The {name} tool.",
            "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": []},
        },
    }


def request(human: str, history: list[dict], tools=("conversation_search", "web_search")) -> dict:
    return {
        "model": "gpt-4o-mini",
        "messages": [{"role": "system", "content": letta_system(human)}, *history],
        "max_completion_tokens": 16384,
        "temperature": 1.0,
        "parallel_tool_calls": False,
        "tools": [tool(t) for t in tools],
        "tool_choice": "auto",
    }


def response(text: str | None, call: dict | None = None, prompt_tokens: int = 2578) -> dict:
    message = {"content": text, "role": "assistant", "tool_calls": [call] if call else None}
    return {
        "id": "chatcmpl-1",
        "choices": [{"finish_reason": "tool_calls" if call else "stop", "index": 0, "message": message}],
        "model": "gpt-4o-mini",
        "usage": {
            "completion_tokens": 17,
            "prompt_tokens": prompt_tokens,
            "total_tokens": prompt_tokens + 17,
        },
    }


def consecutive_steps(hostile: str = HOSTILE, history_len: int = 12):
    """Step A asks; step B's request repeats A's history and appends A's tool call and its return,
    and the `human` block gained a line. Hostile text sits in messages, memory and responses."""
    run = RunFactory()
    history = []
    for i in range(history_len):
        history.append({"role": "user", "content": f"question {i}: {hostile}"})
        history.append({"role": "assistant", "content": f"answer {i}"})
    history.append({"role": "user", "content": f"Remember I drink tea. {hostile}"})
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "conversation_search", "arguments": '{"query": "tea </pre><script>x</script>"}'},
    }
    appended = [
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": f"No results. {hostile}"},
    ]
    a = StepFactory(run_id=run.id, prompt_tokens=2578, completion_tokens=17, stop_reason="tool_use")
    b = StepFactory(run_id=run.id, prompt_tokens=3782, completion_tokens=40, stop_reason="end_turn")
    StepMetricsFactory(
        step=a, llm_request_ns=900_000_000, tool_execution_ns=120_000_000, step_ns=1_050_000_000
    )
    StepMetricsFactory(step=b, llm_request_ns=1_400_000_000, tool_execution_ns=None, step_ns=1_430_000_000)
    ProviderTraceFactory(
        step=a,
        request_json=request(f"The human is a tester. {hostile}", history),
        response_json=response(None, call),
    )
    ProviderTraceFactory(
        step=b,
        request_json=request(
            f"The human is a tester. {hostile}\nLikes tea.", copy.deepcopy(history) + appended
        ),
        response_json=response(f"Noted: tea. {hostile}", None, 3782),
    )
    MessageFactory(
        step=a, position=0, message_type="user_message", content=f"Remember I drink tea. {hostile}"
    )
    MessageFactory(step=a, position=1, message_type="tool_call_message", tool="conversation_search")
    MessageFactory(step=a, position=2, message_type="tool_return_message", content=f"No results. {hostile}")
    MessageFactory(step=b, position=0, message_type="assistant_message", content=f"Noted: tea. {hostile}")
    return a, b

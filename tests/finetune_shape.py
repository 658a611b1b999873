"""The OpenAI chat fine-tuning line format, checked the way OpenAI's file validation reads it
(https://platform.openai.com/docs/guides/fine-tuning, chat format with tools)."""

from __future__ import annotations

import json

ROLES = {"system", "user", "assistant", "tool"}


def check_chat_example(example: dict) -> None:
    """Raise AssertionError naming what is wrong with one fine-tuning example."""
    assert set(example) <= {"messages", "tools", "parallel_tool_calls"}, set(example)
    messages = example["messages"]
    assert isinstance(messages, list) and messages, "no messages"
    open_calls: set[str] = set()
    for message in messages:
        role = message.get("role")
        assert role in ROLES, role
        allowed = {"role", "content", "name", "weight", "tool_calls", "tool_call_id"}
        assert set(message) <= allowed, set(message) - allowed
        if role in ("system", "user"):
            assert isinstance(message.get("content"), str) and message["content"], message
        if role == "assistant":
            assert "content" in message or message.get("tool_calls"), message
            if "content" in message:
                assert isinstance(message["content"], str)
            assert message.get("weight", 1) in (0, 1)
            for call in message.get("tool_calls") or []:
                assert set(call) == {"id", "type", "function"} and call["type"] == "function", call
                assert isinstance(call["id"], str) and call["id"]
                assert isinstance(call["function"]["name"], str) and call["function"]["name"]
                assert isinstance(call["function"]["arguments"], str)
                json.loads(call["function"]["arguments"])
                open_calls.add(call["id"])
        else:
            assert "weight" not in message and "tool_calls" not in message
        if role == "tool":
            assert message.get("tool_call_id") in open_calls, message
            assert isinstance(message.get("content"), str)
    assert messages[-1]["role"] == "assistant", "the last message must be the assistant's"
    assert messages[-1].get("weight", 1) == 1, "the answer is what is learned"
    for tool in example.get("tools", []):
        assert tool["type"] == "function" and isinstance(tool["function"]["name"], str)

"""Fine-tuning examples from provider traces, for each provider shape: pure code, no database."""

from __future__ import annotations

import pytest

from steps.export.finetune import NO_RESPONSE, NO_TRACE, UNKNOWN_REQUEST, Skipped, finetune_example
from tests import diff_samples as samples
from tests.finetune_shape import check_chat_example


def example(request, response):
    return finetune_example([{"request_json": request, "response_json": response}])


def test_openai_trace_as_recorded_from_letta():
    request = samples.openai_request()
    ex = example(request, samples.openai_response())
    check_chat_example(ex)
    messages = ex["messages"]
    assert messages[0] == {"role": "system", "content": request["messages"][0]["content"]}
    assert messages[-1] == {
        "role": "assistant",
        "content": samples.openai_response()["choices"][0]["message"]["content"],
    }
    # the history's assistant turns are context, not what is learned
    assert all(m["weight"] == 0 for m in messages[:-1] if m["role"] == "assistant")
    assert [t["function"]["name"] for t in ex["tools"]] == [t["function"]["name"] for t in request["tools"]]
    assert ex["tools"][0]["function"]["parameters"] == request["tools"][0]["function"]["parameters"]


def test_openai_tool_calls_stay_paired():
    request = {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "tea?"},
            *samples.openai_tool_turn(call_id="call_9", name="web_search", result="3 results"),
        ],
    }
    response = {
        "choices": [
            {
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_10",
                            "type": "function",
                            "function": {"name": "send", "arguments": '{"a": 1}'},
                        }
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ]
    }
    ex = example(request, response)
    check_chat_example(ex)
    assert ex["messages"][2]["tool_calls"][0]["id"] == "call_9"
    assert ex["messages"][3] == {"role": "tool", "tool_call_id": "call_9", "content": "3 results"}
    assert ex["messages"][-1] == {
        "role": "assistant",
        "tool_calls": [
            {"id": "call_10", "type": "function", "function": {"name": "send", "arguments": '{"a": 1}'}}
        ],
    }
    assert "tools" not in ex


def test_anthropic_request_becomes_openai_chat():
    ex = example(samples.anthropic_request(), samples.anthropic_response())
    check_chat_example(ex)
    roles = [m["role"] for m in ex["messages"]]
    assert roles == ["system", "user", "assistant", "tool", "assistant", "assistant"]
    assert ex["messages"][0]["content"] == samples.letta_system()
    call = ex["messages"][2]["tool_calls"][0]
    assert call["id"] == "toolu_1" and call["function"]["name"] == "archival_memory_search"
    assert ex["messages"][3] == {"role": "tool", "tool_call_id": "toolu_1", "content": "tea"}
    answer = ex["messages"][-1]
    assert "content" not in answer  # the thinking block is not part of the chat format
    assert answer["tool_calls"][0]["function"]["name"] == "memory_insert"
    assert ex["tools"][0]["function"]["parameters"]["properties"] == {"query": {"type": "string"}}


def test_google_calls_without_ids_get_paired_ids():
    ex = example(samples.google_request(), samples.google_response())
    check_chat_example(ex)
    call = ex["messages"][2]["tool_calls"][0]
    assert ex["messages"][3]["tool_call_id"] == call["id"]
    assert ex["messages"][-1] == {"role": "assistant", "content": "You like tea."}
    assert ex["tools"][0]["function"]["description"] == "Search archival memory."


def test_openai_responses_shape():
    ex = example(samples.responses_request(), samples.responses_response())
    check_chat_example(ex)
    assert ex["messages"][0]["role"] == "system"
    assert ex["messages"][-1]["tool_calls"][0]["id"] == "call_2"


@pytest.mark.parametrize(
    ("traces", "reason"),
    [
        ([], NO_TRACE),
        (
            [{"request_json": {"what": "is this"}, "response_json": samples.openai_response()}],
            UNKNOWN_REQUEST,
        ),
        ([{"request_json": samples.openai_request(), "response_json": {"error": "boom"}}], NO_RESPONSE),
        ([{"request_json": samples.openai_request(), "response_json": {}}], NO_RESPONSE),
        ([{"request_json": "not json at all", "response_json": None}], UNKNOWN_REQUEST),
    ],
)
def test_steps_without_a_usable_trace_are_skipped_with_a_reason(traces, reason):
    with pytest.raises(Skipped) as skipped:
        finetune_example(traces)
    assert skipped.value.reason == reason


def test_the_newest_usable_trace_wins():
    old = {"request_json": samples.anthropic_request(), "response_json": samples.anthropic_response()}
    new = {"request_json": samples.google_request(), "response_json": samples.google_response()}
    broken = {"request_json": samples.openai_request(), "response_json": {"error": "retry"}}
    assert finetune_example([old, new, broken]) == example(new["request_json"], new["response_json"])

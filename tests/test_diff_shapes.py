"""Provider shapes normalized: the same conversation reads the same whoever the provider is."""

import pytest

from steps.diff import normalize_request, normalize_response
from tests import diff_samples as samples


def test_recorded_openai_request_is_split_into_system_messages_tools_and_params():
    request = normalize_request(samples.openai_request())

    assert request.shape == "openai_chat"
    assert request.system.startswith("<base_instructions>")
    assert len(request.messages) == 13
    call, result = request.messages[9], request.messages[10]
    assert (call.role, call.kind, call.tool_names) == ("assistant", "tool_call", ("conversation_search",))
    assert call.parts[0].args == {"query": "msg 20: papa papa juliet charlie echo de"}
    assert call.text.startswith("conversation_search({")
    assert (result.role, result.kind, result.parts[0].call_id) == (
        "tool",
        "tool_return",
        call.parts[0].call_id,
    )
    assert result.parts[0].tool_name == "conversation_search"  # found through the call id
    assert list(request.tools) == ["conversation_search", "memory_insert", "memory_replace"]
    assert request.params["max_tokens"] == 16384  # max_completion_tokens, under its canonical name
    assert request.params["parallel_tool_calls"] is False
    assert "messages" not in request.params and "tools" not in request.params


@pytest.mark.parametrize(
    "make",
    [samples.anthropic_request, samples.google_request, samples.responses_request],
    ids=["anthropic", "google", "responses"],
)
def test_other_shapes_read_as_the_same_conversation(make):
    request = normalize_request(make())

    assert request.system == samples.letta_system()
    assert [(m.role, m.kind) for m in request.messages] == [
        ("user", "text"),
        *([("assistant", "reasoning")] if request.shape == "openai_responses" else []),
        ("assistant", "tool_call"),
        ("tool", "tool_return"),
        ("assistant", "text"),
    ]
    call = next(m for m in request.messages if m.kind == "tool_call")
    assert call.tool_names == ("archival_memory_search",)
    assert [p.args for p in call.parts if p.kind == "tool_call"] == [{"query": "likes"}]
    tool_return = next(m for m in request.messages if m.kind == "tool_return")
    assert "tea" in tool_return.text
    assert tool_return.parts[0].tool_name == "archival_memory_search"
    assert list(request.tools) == ["archival_memory_search"]


def test_anthropic_thinking_blocks_and_params():
    request = normalize_request(samples.anthropic_request())

    assert request.shape == "anthropic"
    assert request.messages[1].parts[0].kind == "reasoning"
    assert request.messages[1].parts[0].text == "Check the archive."
    assert request.params["thinking"] == "enabled"
    assert request.params["thinking_budget"] == 1024
    assert request.params["max_tokens"] == 8192


def test_google_generation_config_is_flattened_into_params():
    request = normalize_request(samples.google_request())

    assert request.shape == "google"
    assert request.params["temperature"] == 0.7
    assert request.params["max_tokens"] == 8192
    assert request.params["thinking_budget"] == 1024
    assert request.params["tool_choice"] == "AUTO"


def test_responses_reasoning_effort_and_string_input():
    request = normalize_request(samples.responses_request())
    assert request.params["reasoning_effort"] == "medium"
    assert request.params["max_tokens"] == 4096

    plain = normalize_request({"model": "gpt-5", "input": "hello"})
    assert plain.shape == "openai_responses"
    assert [(m.role, m.text) for m in plain.messages] == [("user", "hello")]


@pytest.mark.parametrize("value", [None, {}, [], "text", 42, {"prompt": "legacy completion"}])
def test_anything_else_is_unknown_or_none_and_empty(value):
    request = normalize_request(value)
    assert request.shape == ("none" if value is None else "unknown")
    assert (request.system, request.messages, request.tools, request.params) == ("", (), {}, {})


def test_letta_summary_message_is_marked():
    request = samples.openai_request()
    request["messages"].insert(
        1,
        {
            "role": "user",
            "content": '{"type": "system_alert", "message": "Note: prior messages (12 prior messages) have been '
            "hidden from view due to conversation memory constraints.\\nThe following is a summary of the "
            'previous 12 messages:\\n The user tested the agent."}',
        },
    )
    messages = normalize_request(request).messages
    assert messages[0].is_summary
    assert not any(m.is_summary for m in messages[1:])


def test_openai_response():
    response = normalize_response(samples.openai_response())
    assert response.shape == "openai_chat"
    assert response.text.startswith("Fake reply ba199a27")
    assert response.finish_reason == "stop"
    assert response.usage["prompt_tokens"] == 2578
    assert response.usage["completion_tokens"] == 17
    assert response.usage["cached_tokens"] == 0
    assert response.usage["total_tokens"] == 2595


def test_anthropic_response_counts_cached_input_into_prompt_tokens():
    response = normalize_response(samples.anthropic_response())
    assert response.shape == "anthropic"
    assert response.reasoning == "Save it."
    assert [c.tool_name for c in response.tool_calls] == ["memory_insert"]
    assert response.tool_calls[0].args == {"label": "human", "new_str": "likes tea"}
    assert response.finish_reason == "tool_use"
    assert response.usage["prompt_tokens"] == 1120
    assert response.usage["cached_tokens"] == 1000
    assert response.usage["cache_write_tokens"] == 20
    assert response.usage["total_tokens"] == 1162


def test_google_and_responses_responses():
    google = normalize_response(samples.google_response())
    assert (google.shape, google.text, google.finish_reason) == ("google", "You like tea.", "STOP")
    assert google.usage["reasoning_tokens"] == 30
    assert google.model == "gemini-2.5-flash"

    responses = normalize_response(samples.responses_response())
    assert responses.shape == "openai_responses"
    assert responses.reasoning == "Call the tool."
    assert [c.tool_name for c in responses.tool_calls] == ["web_search"]
    assert responses.usage["cached_tokens"] == 512
    assert responses.usage["reasoning_tokens"] == 40


def test_failed_call_keeps_the_provider_error():
    from tests.samples import body

    response = normalize_response(body("step_failed_trace")["response_json"])
    assert "fake-llm forced failure 400" in response.error
    assert response.text == "" and response.tool_calls == ()


def test_a_user_asking_for_a_summary_is_not_a_summary_message():
    request = {
        "messages": [
            {"role": "user", "content": "Give me a conversation summary of what is hidden from view"}
        ]
    }
    assert not normalize_request(request).messages[0].is_summary

"""One test per step-list filter: the matching step is listed, the other is not."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from steps.models import StepReview
from tests.factories import MessageFactory, ProviderTraceFactory, StepFactory

pytestmark = pytest.mark.django_db
RUN_A, RUN_B = "run-00000000-0000-4000-8000-00000000000a", "run-00000000-0000-4000-8000-00000000000b"


def listed(client, query: str) -> set[str]:
    response = client.get(reverse("step_list") + "?" + query, headers={"HX-Request": "true"})
    assert response.status_code == 200
    return {step.pk for step, _ in response.context["rows"]}


def check(client, query, hit, miss):
    found = listed(client, query)
    assert hit.pk in found
    assert miss.pk not in found


@pytest.mark.parametrize(
    ("param", "hit_kwargs", "miss_kwargs", "value"),
    [
        ("agent", {"agent_id": "agent-a"}, {"agent_id": "agent-b"}, "agent-a"),
        ("run", {"run_id": RUN_A}, {"run_id": RUN_B}, RUN_A),
        ("model", {"model": "gpt-4.1"}, {"model": "gpt-4o-mini"}, "gpt-4.1"),
        ("provider", {"provider_name": "anthropic"}, {"provider_name": "openai"}, "anthropic"),
        ("status", {"status": "failed"}, {"status": "success"}, "failed"),
        ("stop_reason", {"stop_reason": "max_steps"}, {"stop_reason": "end_turn"}, "max_steps"),
        (
            "error_type",
            {"error_type": "LLMRateLimitError"},
            {"error_type": "LLMServerError"},
            "LLMRateLimitError",
        ),
        ("has_error", {"error_type": "LLMServerError"}, {}, "yes"),
        ("has_error", {}, {"error_type": "LLMServerError"}, "no"),
        ("feedback", {"feedback": "positive"}, {"feedback": "negative"}, "positive"),
        ("feedback", {"feedback": "negative"}, {"feedback": None}, "negative"),
        ("feedback", {"feedback": None}, {"feedback": "positive"}, "none"),
        ("tag", {"tags": ("letta-demo", "x")}, {"tags": ("other",)}, "letta-demo"),
        ("tokens_min", {"prompt_tokens": 5000}, {"prompt_tokens": 10}, "1000"),
        ("tokens_max", {"prompt_tokens": 10}, {"prompt_tokens": 5000}, "1000"),
        ("prompt_min", {"prompt_tokens": 5000}, {"prompt_tokens": 10}, "1000"),
        ("prompt_max", {"prompt_tokens": 10}, {"prompt_tokens": 5000}, "1000"),
        ("completion_min", {"completion_tokens": 500}, {"completion_tokens": 5}, "100"),
        ("completion_max", {"completion_tokens": 5}, {"completion_tokens": 500}, "100"),
    ],
)
def test_column_filters(user_client, param, hit_kwargs, miss_kwargs, value):
    hit, miss = StepFactory(**hit_kwargs), StepFactory(**miss_kwargs)
    check(user_client, f"{param}={value}", hit, miss)


def test_duration_range(user_client):
    fast, slow = StepFactory(duration_ns=5_000_000), StepFactory(duration_ns=900_000_000)
    check(user_client, "duration_min_ms=100", slow, fast)
    check(user_client, "duration_max_ms=100", fast, slow)


def test_time_range(user_client):
    now = timezone.now()
    recent, old = (
        StepFactory(step_time=now - timedelta(minutes=5)),
        StepFactory(step_time=now - timedelta(days=3)),
    )
    check(user_client, "period=24h", recent, old)
    since = (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    check(user_client, f"since={since}", recent, old)
    until = (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    check(user_client, f"until={until}", old, recent)


def test_tool_filter(user_client):
    hit, miss = StepFactory(), StepFactory()
    MessageFactory(step=hit, message_type="tool_call_message", tool="web_search")
    MessageFactory(step=hit, position=9, message_type="tool_call_message", tool="web_search")
    MessageFactory(step=miss, message_type="tool_call_message", tool="run_code")
    check(user_client, "tool=web_search", hit, miss)
    # a step that called the tool twice is listed once
    assert len(listed(user_client, "tool=web_search")) == 1


def test_search_in_message_text_any_language(user_client):
    hit, miss = StepFactory(), StepFactory()
    MessageFactory(step=hit, content="Résume ce document, s'il te plaît — 日本語で返事")
    MessageFactory(step=miss, content="nothing interesting")
    check(user_client, "q=日本語", hit, miss)
    check(user_client, "q=RÉSUME", hit, miss)


def test_search_in_tool_arguments(user_client):
    hit, miss = StepFactory(), StepFactory()
    MessageFactory(
        step=hit, message_type="tool_call_message", arguments=json.dumps({"query": "quarterly roadmap"})
    )
    MessageFactory(step=miss, message_type="tool_call_message")
    check(user_client, "q=quarterly", hit, miss)


def test_search_in_trace(user_client):
    hit, miss = StepFactory(), StepFactory()
    ProviderTraceFactory(step=hit, response_json={"error": "fake-llm forced failure 429"})
    ProviderTraceFactory(step=miss)
    check(user_client, "q=forced+failure", hit, miss)


def test_search_treats_wildcards_literally(user_client):
    hit, miss = StepFactory(), StepFactory()
    MessageFactory(step=hit, content="100% done")
    MessageFactory(step=miss, content="100 done")
    check(user_client, "q=100%25", hit, miss)


def test_archived_steps_hidden_unless_asked(user_client):
    shown, archived = StepFactory(), StepFactory()
    StepReview.objects.create(step=archived, hidden=True)
    check(user_client, "", shown, archived)
    assert archived.pk in listed(user_client, "hidden=1")


def test_filters_combine(user_client):
    hit = StepFactory(agent_id="agent-a", status="failed")
    StepFactory(agent_id="agent-a", status="success")
    StepFactory(agent_id="agent-b", status="failed")
    assert listed(user_client, "agent=agent-a&status=failed") == {hit.pk}


def test_invalid_value_drops_only_that_filter(user_client):
    hit, miss = StepFactory(agent_id="agent-a"), StepFactory(agent_id="agent-b")
    check(user_client, "agent=agent-a&tokens_min=lots&status=bogus", hit, miss)


def test_facets_come_from_data(user_client):
    StepFactory(agent_id="agent-zzz", model="model-from-data")
    html = user_client.get(reverse("step_list")).content.decode()
    assert '<option value="model-from-data" label="1 step">' in html

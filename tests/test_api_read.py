"""One step, runs with their steps in order, agents, sync runs and the trace diff, as JSON."""

import base64

import pytest

from steps import feedback
from steps.models import Agent, FeedbackPush, StepReview
from tests.factories import (
    ProviderTraceFactory,
    RunFactory,
    StepFactory,
    StepMetricsFactory,
    SyncRunFactory,
    UserFactory,
    conversation,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def step():
    step = StepFactory(tags=["golden"])
    conversation(step, user_text="<script>alert(1)</script> hello", answer="the answer")
    StepMetricsFactory(step=step, llm_request_ns=20_000_000, tool_execution_ns=6_000_000, step_ns=30_000_000)
    ProviderTraceFactory(step=step)
    StepReview.objects.create(step=step, notes="check the tool call")
    return step


def test_a_step_has_its_timeline_metrics_traces_and_review(api, step):
    body = api.get(f"/api/v1/steps/{step.pk}/").json()
    kinds = [m["entry"]["kind"] for m in body["messages"]]
    # the step page's order and reading: the heartbeat is an event, not user text
    assert kinds == ["user", "reasoning", "tool_call", "tool_return", "event", "assistant"]
    assert [m["position"] for m in body["messages"]] == list(range(6))
    assert body["messages"][0]["entry"]["text"] == "<script>alert(1)</script> hello"  # JSON: as written
    assert body["messages"][2]["entry"]["calls"][0]["name"] == "conversation_search"
    assert body["messages"][0]["payload"]["message_type"] == "user_message"
    assert body["metrics"]["llm_request_ns"] == 20_000_000
    assert body["traces"][0]["call_type"] == "agent_step"
    assert body["traces"][0]["request_json"]["model"] == "gpt-4o-mini"
    review = body["review"]
    assert review["notes"] == "check the tool call"
    assert review["tags"] == ["golden"] and review["letta"]["tags"] == ["golden"]
    assert review["write_back"] == "" and review["push"] is None and review["conflict"] is None
    assert body["payload"]["id"] == step.pk


def test_traces_can_be_left_out_or_summarised(api, step):
    summary = api.get(f"/api/v1/steps/{step.pk}/?traces=summary").json()
    assert summary["traces"][0]["call_type"] == "agent_step"
    assert "request_json" not in summary["traces"][0] and "response_json" not in summary["traces"][0]
    assert "traces" not in api.get(f"/api/v1/steps/{step.pk}/?traces=none").json()
    bad = api.get(f"/api/v1/steps/{step.pk}/?traces=some")
    assert bad.status_code == 400 and "traces" in bad.json()["errors"]


def test_review_state_says_where_the_write_back_stands(api, step):
    user = UserFactory(username="rita")
    feedback.cast_vote(step, user=user, feedback="negative", enqueue=False)
    review = api.get(f"/api/v1/steps/{step.pk}/?traces=none").json()["review"]
    assert review["feedback"] == "negative" and review["letta"]["feedback"] == ""
    assert review["write_back"] == "saving" and review["voted_by"] == "rita"
    FeedbackPush.objects.filter(step=step).update(status="failed", last_error="Letta said 422")
    review = api.get(f"/api/v1/steps/{step.pk}/?traces=none").json()["review"]
    assert review["write_back"] == "failed" and review["push"]["last_error"] == "Letta said 422"


def test_a_run_lists_its_steps_in_run_order(api):
    run = RunFactory()
    made = [StepFactory(run_id=run.id, agent_id=run.agent_id) for _ in range(3)]
    # positions disagree with step times: the run's own order wins
    for position, s in zip((2, 0, 1), made, strict=True):
        type(s).objects.filter(pk=s.pk).update(run_position=position)
    body = api.get(f"/api/v1/runs/{run.id}/").json()
    assert [s["id"] for s in body["steps"]] == [made[1].pk, made[2].pk, made[0].pk]
    assert body["run"]["status"] == "completed" and body["totals"]["steps"] == 3
    listed = api.get("/api/v1/runs/").json()
    assert [r["id"] for r in listed["results"]] == [run.id]
    assert api.get(f"/api/v1/runs/?agent={run.agent_id}").json()["results"][0]["id"] == run.id
    assert api.get("/api/v1/runs/run-00000000-0000-4000-8000-000000000000/").status_code == 404


def test_agents_and_sync_runs(api):
    agent = Agent(id="agent-00000000-0000-4000-8000-00000000000a")
    agent.apply_payload({"id": agent.id, "name": "support bot", "tags": ["prod"], "model": "openai/gpt-4o"})
    agent.save()
    assert api.get("/api/v1/agents/").json()["results"][0]["name"] == "support bot"
    assert api.get(f"/api/v1/agents/{agent.id}/").json()["model"] == "openai/gpt-4o"
    sync = SyncRunFactory(status="failed", error_message="Letta answered 401")
    runs = api.get("/api/v1/sync-runs/").json()["results"]
    assert runs[0]["id"] == sync.pk and runs[0]["status"] == "failed"
    assert api.get(f"/api/v1/sync-runs/{sync.pk}/").json()["error_message"] == "Letta answered 401"
    assert api.get("/api/v1/sync-runs/999999/").status_code == 404


def test_compare_two_steps_returns_the_structured_diff(api, step):
    other = StepFactory(prompt_tokens=3000)
    ProviderTraceFactory(
        step=other,
        request_json={
            "model": "gpt-4o-mini",
            "messages": [
                {
                    "role": "system",
                    "content": "<base_instructions>You are a helpful agent.</base_instructions>",
                },
                {"role": "user", "content": "msg 23: hotel mike hotel golf quebec"},
                {"role": "assistant", "content": "a new turn"},
            ],
            "temperature": 0.7,
        },
    )
    body = api.get(f"/api/v1/compare/{step.pk}/{other.pk}/").json()
    assert (body["a"], body["b"], body["trace_a"], body["trace_b"]) == (step.pk, other.pk, 1, 1)
    assert body["headline"]
    messages = body["request"]["messages"]
    assert messages["added"] == 1 and "added" in [e["op"] for e in messages["entries"]]
    assert any(row["name"] == "prompt" and row["a"] == 2578 and row["b"] == 3000 for row in body["tokens"])
    missing = api.get(f"/api/v1/compare/{step.pk}/step-00000000-0000-4000-8000-000000000000/")
    assert missing.status_code == 404


LISTS = ["/api/v1/runs/", "/api/v1/agents/", "/api/v1/sync-runs/"]
DATE_ORDERED = ["/api/v1/runs/", "/api/v1/sync-runs/"]  # agents page by name: any text is a name
FORGED = [(url, raw) for url in LISTS for raw in ("p=\x00", "o=" + "9" * 5000, "p=" + "x" * 1001)]
FORGED += [
    (url, raw)
    for url in DATE_ORDERED
    for raw in ("p=2024-02-30", "p=2024-01-01 25:00:00+00:00", "p=9999-12-31 23:59:59-23:59", "p=0001-01-01")
]


@pytest.mark.parametrize(("url", "raw"), FORGED)
def test_a_forged_cursor_is_a_400_naming_it(api, url, raw):
    """DRF's cursors are base64 of "p=<position>": one holding a NUL or an impossible date reached
    the query (issue 18); they are checked as the step list's cursors are."""
    response = api.get(url, {"cursor": base64.b64encode(raw.encode()).decode()})
    assert response.status_code == 400
    assert response.json()["errors"] == {"cursor": ["This page link is damaged."]}


def test_the_next_page_of_runs_agents_and_sync_runs_follows_its_cursor(api):
    for _ in range(2):
        RunFactory()
        SyncRunFactory()
    for i, name in enumerate(("alpha", "beta")):
        Agent.objects.create(id=f"agent-00000000-0000-4000-8000-00000000000{i}", name=name)
    for url in LISTS:
        first = api.get(url, {"page_size": 1}).json()
        second = api.get(first["next"]).json()
        assert len(first["results"]) == len(second["results"]) == 1, url
        assert first["results"][0]["id"] != second["results"][0]["id"], url


@pytest.mark.parametrize(
    "query", ["trace_a=" + "9" * 5000, "trace_b=abc", "trace_a=0", "trace_b=-1", "trace_a=1.0"]
)
def test_a_trace_number_that_is_no_whole_number_from_1_is_a_400_naming_it(api, step, query):
    other = StepFactory()
    response = api.get(f"/api/v1/compare/{step.pk}/{other.pk}/?{query}")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [query.split("=")[0]]
    # a number past the step's traces keeps the default, as documented
    assert api.get(f"/api/v1/compare/{step.pk}/{other.pk}/?trace_a=99").json()["trace_a"] == 1

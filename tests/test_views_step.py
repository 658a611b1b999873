import json
from datetime import timedelta

import pytest
from django.urls import reverse

from steps.models import Step
from tests.factories import (
    BASE_TIME,
    MessageFactory,
    ProviderTraceFactory,
    RunFactory,
    StepFactory,
    StepMetricsFactory,
    conversation,
)

pytestmark = pytest.mark.django_db
RUN = "run-00000000-0000-4000-8000-000000000001"
HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


def page(client, step):
    response = client.get(reverse("step_detail", args=[step.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_step_page_shows_everything(user_client):
    run = RunFactory()
    step = StepFactory(run_id=run.id, feedback="negative", tags=("letta-demo",))
    conversation(step, user_text="hello there", answer="general kenobi")
    StepMetricsFactory(step=step, llm_request_ns=20_000_000, tool_execution_ns=5_000_000, step_ns=30_000_000)
    ProviderTraceFactory(step=step, call_type="agent_step")
    ProviderTraceFactory(step=step, call_type="summarization")
    html = page(user_client, step)
    assert "<html" in html
    for text in ("hello there", "general kenobi", "Reasoning", "Tool call", "Tool return", "heartbeat"):
        assert text in html
    assert "LLM request 20 ms" in html
    assert "agent_step" in html and "summarization #2" in html
    assert "letta-demo" in html
    assert reverse("run_detail", args=[run.id]) in html
    assert "Copy link" in html
    # the tool call's JSON arguments are pretty-printed
    assert "&quot;request_heartbeat&quot;: true" in html


def test_failed_step_error_section(user_client):
    step = StepFactory(failed=True)
    html = page(user_client, step)
    assert "LLMBadRequestError" in html
    assert "Traceback (most recent call last)" in html
    assert "No messages" in html


@pytest.mark.parametrize(
    ("state", "text"),
    [("absent", "No trace recorded"), ("unknown", "Trace not fetched yet"), ("retrying", "No trace yet")],
)
def test_trace_states(user_client, state, text):
    step = StepFactory(trace_state=state)
    assert text in page(user_client, step)


def test_prev_next_in_run_and_agent(user_client):
    a, b, c = (
        StepFactory(run_id=RUN, agent_id="agent-1", step_time=BASE_TIME + timedelta(seconds=i))
        for i in range(3)
    )
    html = page(user_client, b)
    assert reverse("step_detail", args=[a.pk]) in html
    assert reverse("step_detail", args=[c.pk]) in html


def test_unknown_step_is_404(user_client):
    assert (
        user_client.get(
            reverse("step_detail", args=["step-00000000-0000-4000-8000-000000000000"])
        ).status_code
        == 404
    )


def test_message_types(user_client):
    step = StepFactory()
    MessageFactory(
        step=step,
        position=0,
        message_type="user_message",
        content=json.dumps({"type": "user_message", "message": "wrapped text"}),
    )
    MessageFactory(
        step=step,
        position=1,
        message_type="tool_return_message",
        status="error",
        stdout=["out line"],
        stderr=["err line"],
        is_err=True,
    )
    hidden = MessageFactory(step=step, position=2, message_type="system_message", content="x")
    hidden.payload = {
        "id": "m",
        "message_type": "hidden_reasoning_message",
        "state": "redacted",
        "hidden_reasoning": None,
    }
    hidden.save()
    image = MessageFactory(step=step, position=3, content="x")
    image.payload = {
        "id": "m2",
        "message_type": "user_message",
        "content": [
            {"type": "text", "text": "look at this"},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}},
            {"type": "image", "source": {"type": "url", "url": "javascript:alert(1)"}},
        ],
    }
    image.save()
    html = page(user_client, step)
    assert "wrapped text" in html
    assert "out line" in html and "err line" in html
    assert "msg-err" in html
    assert "Reasoning (redacted)" in html
    assert 'href="https://example.com/cat.png"' in html
    assert 'href="javascript:' not in html


def test_hostile_payloads_are_escaped(user_client):
    step = StepFactory(failed=True, tags=(HOSTILE,))
    step.payload["error_data"]["message"] = HOSTILE
    step.save()
    MessageFactory(step=step, position=0, content=HOSTILE)
    MessageFactory(
        step=step,
        position=1,
        message_type="tool_call_message",
        tool=HOSTILE,
        arguments=json.dumps({"q": HOSTILE}),
    )
    MessageFactory(step=step, position=2, message_type="tool_call_message", arguments=HOSTILE + "{not json")
    MessageFactory(
        step=step, position=3, message_type="tool_return_message", content=HOSTILE, stdout=[HOSTILE]
    )
    link = MessageFactory(step=step, position=4)
    link.payload = {
        "id": "m",
        "message_type": "user_message",
        "content": [{"type": "image", "source": {"type": "url", "url": "javascript:alert(3)"}}],
    }
    link.save()
    ProviderTraceFactory(
        step=step,
        call_type=HOSTILE,
        request_json={"messages": [{"content": HOSTILE}]},
        response_json={HOSTILE: HOSTILE},
    )
    html = page(user_client, step)
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert 'href="javascript:' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # and in the list
    html = user_client.get(reverse("step_list")).content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html


def test_run_page(user_client):
    run = RunFactory()
    steps = [
        StepFactory(
            run_id=run.id, step_time=BASE_TIME + timedelta(seconds=i), prompt_tokens=100, completion_tokens=0
        )
        for i in range(3)
    ]
    StepFactory(run_id=run.id, failed=True, step_time=BASE_TIME + timedelta(seconds=9))
    html = user_client.get(reverse("run_detail", args=[run.id])).content.decode()
    assert "<html" in html
    assert all(s.pk[5:13] in html for s in steps)
    assert "1 failed" in html
    assert ">300<" in html  # total tokens
    assert "09:30:00 UTC" in html  # step times say their zone


def test_run_without_run_row_still_shows_steps(user_client):
    step = StepFactory(run_id=RUN)
    html = user_client.get(reverse("run_detail", args=[RUN])).content.decode()
    assert "run not synced" in html and step.pk[5:13] in html


def test_unknown_run_is_404(user_client):
    assert (
        user_client.get(reverse("run_detail", args=["run-00000000-0000-4000-8000-00000000dead"])).status_code
        == 404
    )


def test_a_step_without_feedback_reads_none_without_a_stray_mark(user_client):
    step = StepFactory()
    html = user_client.get(reverse("step_detail", args=[step.pk])).content.decode()
    assert '<dt>Feedback</dt><dd><span class="muted">none</span></dd>' in html
    assert 'class="fb fb-none"' not in html


def test_a_step_deleted_in_letta_says_so_and_that_a_vote_cannot_be_sent(user_client):
    step = StepFactory()
    Step.objects.filter(pk=step.pk).mark_gone_upstream()
    html = page(user_client, step)
    assert "deleted in Letta" in html and "your vote is kept here but cannot be sent" in html
    assert "deleted in Letta" not in page(user_client, StepFactory())

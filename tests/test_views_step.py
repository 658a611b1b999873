import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils.html import escape

from steps.models import ProviderTrace, Step, StepMetrics
from tests.factories import (
    BASE_TIME,
    MessageFactory,
    ProviderTraceFactory,
    RunFactory,
    StepFactory,
    StepMetricsFactory,
    conversation,
)
from tests.samples import body

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


def test_json_nested_deeper_than_the_parser_goes_reads_as_text(user_client):
    deep = "[" * 100_000 + "]" * 100_000
    step = StepFactory()
    MessageFactory(step=step, position=0, content='{"type": "user_message", "message": ' + deep + "}")
    MessageFactory(step=step, position=1, content='{"type": "heartbeat", "x": ' + deep + "}")
    MessageFactory(step=step, position=2, message_type="tool_call_message", arguments=deep)
    assert "[[[[" in page(user_client, step)
    assert user_client.get(reverse("step_list")).status_code == 200


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


def real_messages(step, name):
    """The step's messages as a real Letta 0.16.8 returned them (tests/letta_samples/)."""
    for position, item in enumerate(body(name)):
        message = MessageFactory(step=step, position=position)
        message.apply_payload({**item, "step_id": step.pk})
        message.save()


def real_trace(step, payload):
    trace = ProviderTrace(step=step, upstream_id=payload["id"])
    trace.apply_payload({**payload, "step_id": step.pk})
    trace.save()
    return trace


def test_a_tool_return_letta_sent_as_a_python_repr_reads_as_json(user_client):
    step = StepFactory()
    real_messages(step, "step_messages_tool_call")
    assert step.messages.filter(text__contains="{'message': 'No results found.'").exists()
    html = page(user_client, step)
    pretty = '{\n  "message": "No results found.",\n  "results": []\n}'
    assert f'<pre class="json">{escape(pretty)}</pre>' in html
    assert "{&#x27;message&#x27;" not in html


def test_a_tool_return_that_is_plain_text_stays_as_it_is(user_client):
    step = StepFactory()
    MessageFactory(step=step, message_type="tool_return_message", content="{not a dict: 1} and more")
    html = page(user_client, step)
    assert '<pre class="code wrap">{not a dict: 1} and more</pre>' in html


def test_a_trace_names_its_provider_and_model_where_letta_sends_no_source(user_client):
    step = StepFactory()
    recorded = body("step_trace")
    assert recorded["source"] is None  # what a real self-hosted server sends
    real_trace(step, recorded)
    meta = trace_meta(page(user_client, step))
    assert 'provider <span class="trace-origin">openai</span>' in meta
    assert 'model <span class="trace-origin">openai-proxy/gpt-4o-mini</span>' in meta
    assert "source" not in meta and "unknown" not in meta


def test_a_trace_with_nothing_about_its_origin_says_nothing_about_it(user_client):
    step = StepFactory()
    recorded = body("step_trace")
    # Letta's ClickHouse backend fills only these fields
    real_trace(
        step, {k: recorded[k] for k in ("id", "step_id", "request_json", "response_json", "created_at")}
    )
    meta = trace_meta(page(user_client, step))
    assert "unknown" not in meta and "trace-origin" not in meta
    assert meta.endswith(f'· <span class="mono">{recorded["id"]}</span>')


def test_a_trace_shows_letta_telemetry_source_when_the_server_sets_one(user_client):
    step = StepFactory()
    real_trace(step, {**body("step_trace"), "source": "memgpt-server"})
    assert 'source <span class="trace-origin">memgpt-server</span>' in trace_meta(page(user_client, step))


def trace_meta(html):
    return html.split('<div class="trace-meta muted">', 1)[1].split("</div>", 1)[0]


def test_a_failed_step_shows_a_dash_for_the_durations_letta_did_not_measure(user_client):
    step = StepFactory(failed=True)
    metrics = StepMetrics(step=step)
    metrics.apply_payload(body("step_failed_metrics"))  # llm_request_ns and tool_execution_ns: null
    metrics.save()
    html = page(user_client, step)
    assert "35 ms total" in html
    assert "LLM request —" in html and "Tool execution —" in html and "Rest of step —" in html
    assert "Letta measured only the whole step" in html
    assert "0 ms" not in html


def test_a_duration_measured_as_zero_still_reads_0_ms(user_client):
    step = StepFactory()
    StepMetricsFactory(step=step, llm_request_ns=20_000_000, tool_execution_ns=0, step_ns=30_000_000)
    html = page(user_client, step)
    assert "LLM request 20 ms" in html and "Tool execution 0 ms" in html and "Rest of step 10 ms" in html
    assert "Letta measured only the whole step" not in html


def test_a_step_deleted_in_letta_says_so_and_that_a_vote_cannot_be_sent(user_client):
    step = StepFactory()
    Step.objects.filter(pk=step.pk).mark_gone_upstream()
    html = page(user_client, step)
    assert "deleted in Letta" in html and "your vote is kept here but cannot be sent" in html
    assert "deleted in Letta" not in page(user_client, StepFactory())

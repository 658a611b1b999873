"""Upserting real recorded payloads into the mirror: faithful, ordered, idempotent."""

from datetime import UTC, datetime

import pytest

from steps.models import Message, ProviderTrace, Run, Step, StepMetrics
from steps.sync.mirror import store_step_details, upsert_runs, upsert_steps
from tests.samples import body

pytestmark = pytest.mark.django_db


def test_step_columns_equal_the_payload_and_unknown_fields_are_kept():
    payload = body("step") | {"brand_new_field": {"added": "tomorrow"}}
    upsert_steps([payload])
    step = Step.objects.get()
    assert step.payload == payload  # every upstream field, including one we do not know
    assert (step.agent_id, step.model, step.model_handle, step.provider_name) == (
        "agent-47a2d40b-bb12-44f1-9cab-d523b40151b0",
        "gpt-4o-mini",
        "openai-proxy/gpt-4o-mini",
        "openai",
    )
    assert (step.prompt_tokens, step.completion_tokens, step.total_tokens) == (2578, 17, 2595)
    assert (step.status, step.stop_reason, step.feedback, step.tags) == (
        "success",
        "end_turn",
        "positive",
        ["generated", "positive"],
    )
    assert step.step_time_source == Step.TimeSource.FIRST_SEEN
    assert step.refresh_due_at is not None  # details still to fetch


def test_upserting_the_same_page_twice_changes_nothing():
    page = body("list_steps_page1_limit3_desc")
    first = upsert_steps(page)
    before = {s.id: (s.payload, s.step_time) for s in Step.objects.all()}
    second = upsert_steps(page)
    assert len(first.created) == 3 and first.updated == []
    assert second.created == [] and second.updated == []
    assert {s.id: (s.payload, s.step_time) for s in Step.objects.all()} == before


def test_a_changed_status_is_updated_and_scheduled_for_refresh():
    pending = body("step") | {"status": "pending", "stop_reason": None, "total_tokens": 0}
    upsert_steps([pending])
    Step.objects.update(refresh_due_at=None)
    result = upsert_steps([body("step")])
    step = Step.objects.get()
    assert result.updated == [step.id]
    assert (step.status, step.total_tokens) == ("success", 2595)
    assert step.refresh_due_at is not None


def test_failed_step_keeps_its_error():
    upsert_steps([body("step_failed")])
    step = Step.objects.get()
    assert step.status == "failed" and step.error_type == "LLMBadRequestError"
    assert "Traceback (most recent call last)" in step.error_data["traceback"]


def _stored_step(name="step"):
    upsert_steps([body(name)])
    return Step.objects.get(pk=body(name)["id"])


def test_message_groups_are_put_back_in_natural_order():
    step = _stored_step()
    store_step_details(step, metrics=None, messages=body("step_messages_tool_call"), trace=None)
    types = list(step.messages.order_by("position").values_list("message_type", flat=True))
    # Letta sends tool_call before reasoning inside one internal message (docs/letta-api.md §1.6)
    assert types == [
        "user_message",
        "reasoning_message",
        "tool_call_message",
        "tool_return_message",
        "user_message",
    ]
    call = step.messages.get(message_type="tool_call_message")
    assert (call.tool_name, call.tool_call_id) == ("conversation_search", "call_482e2882ff0746fab4bf2f9c")
    assert '"request_heartbeat": true' in call.text
    result = step.messages.get(message_type="tool_return_message")
    assert result.tool_name == "conversation_search" and "No results found" in result.text


def test_restoring_details_twice_never_duplicates_and_drops_what_upstream_dropped():
    step = _stored_step()
    messages = body("step_messages_tool_call")
    store_step_details(step, metrics=None, messages=messages, trace=None)
    store_step_details(step, metrics=None, messages=messages, trace=None)
    assert Message.objects.filter(step=step).count() == 5
    store_step_details(step, metrics=None, messages=messages[:2], trace=None)  # soft-deleted upstream
    assert Message.objects.filter(step=step).count() == 2


def test_memgpt_assistant_answer_follows_its_reasoning():
    step = _stored_step()
    store_step_details(step, metrics=None, messages=body("step_messages_memgpt_v2_agent"), trace=None)
    types = list(step.messages.values_list("message_type", flat=True))
    assert types == ["user_message", "reasoning_message", "assistant_message"]


def test_every_distinct_trace_is_kept_and_the_same_one_is_not_duplicated():
    step = _stored_step()
    trace = body("step_trace")
    store_step_details(step, metrics=None, messages=[], trace=trace)
    store_step_details(step, metrics=None, messages=[], trace=trace)
    summarization = trace | {
        "id": "provider_trace-00000000-0000-4000-8000-00000000beef",
        "call_type": "summarization",
    }
    store_step_details(step, metrics=None, messages=[], trace=summarization)
    assert ProviderTrace.objects.filter(step=step).count() == 2
    stored = ProviderTrace.objects.get(upstream_id=trace["id"])
    assert stored.request_json == trace["request_json"] and stored.upstream_payload == trace
    assert "request_json" not in stored.payload  # stored once, in its own column


def test_step_time_prefers_metrics_then_run_then_first_message():
    step = _stored_step()
    metrics = body("step_metrics")
    assert metrics["step_start_ns"] is None  # as recorded: the real server sent none
    store_step_details(step, metrics=metrics, messages=body("step_messages"), trace=None)
    step.refresh_from_db()
    assert step.step_time_source == Step.TimeSource.MESSAGE
    assert step.step_time == datetime(2026, 11, 25, 9, 30, 29, tzinfo=UTC)
    assert step.duration_ns == metrics["step_ns"]

    run = {"id": step.run_id, "status": "completed", "created_at": "2026-11-25T09:30:28.500000Z"}
    upsert_runs([run])
    step.refresh_from_db()
    assert step.step_time_source == Step.TimeSource.RUN
    assert step.step_time == datetime(2026, 11, 25, 9, 30, 28, 500000, tzinfo=UTC)

    store_step_details(
        step, metrics=metrics | {"step_start_ns": 1_764_063_000_123_456_789}, messages=[], trace=None
    )
    step.refresh_from_db()
    assert step.step_time_source == Step.TimeSource.METRICS
    assert StepMetrics.objects.get(step=step).step_start_ns == 1_764_063_000_123_456_789


def test_runs_keep_naive_completed_at_as_utc():
    upsert_runs(body("list_runs_asc"))
    run = Run.objects.get(pk="run-6d344a79-0a89-4e26-872c-04b5441f4458")
    assert run.completed_at == datetime(2026, 11, 25, 9, 30, 19, 650583, tzinfo=UTC)
    assert run.status == "completed" and run.payload["total_duration_ns"] == 243540224


def test_ids_that_are_no_letta_ids_are_left_out_and_said():
    good = body("step")
    page = [
        good | {"id": "step-not-a-uuid"},
        good | {"id": "../../admin"},
        good | {"id": 12345},
        good | {"id": "step-" + "0" * 5000},
        good,
    ]
    result = upsert_steps(page)
    assert list(Step.objects.values_list("id", flat=True)) == [good["id"]]
    assert result.created == [good["id"]]
    assert result.rejected[:3] == ["'step-not-a-uuid'", "'../../admin'", "12345"]
    assert len(result.rejected) == 4 and all(len(r) <= 80 for r in result.rejected)

    run = body("list_runs_asc")[0]
    result = upsert_runs([run | {"id": "run-<script>"}, run])
    assert list(Run.objects.values_list("id", flat=True)) == [run["id"]]
    assert result.rejected == ["'run-<script>'"]


@pytest.mark.parametrize(
    "bad", ["run-1", "step-00000000-0000-4000-8000-000000000000", "x" * 500, 7, ["run-"]]
)
def test_a_step_with_a_malformed_run_id_is_kept_without_it(bad):
    """The step is what people review: it is kept, as when Letta deletes its run (run_id
    null); the id Letta sent stays in the payload."""
    upsert_steps([body("step") | {"run_id": bad}], in_order=True)
    step = Step.objects.get()
    assert (step.run_id, step.run_position) == (None, None)
    assert step.payload["run_id"] == bad

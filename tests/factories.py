"""factory_boy factories whose typed columns always agree with `payload` (via apply_payload).

Payload shapes are copied from tests/letta_samples (Letta 0.16.8).
"""

from __future__ import annotations

import json
import uuid
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from steps import facets
from steps.access import REVIEWER, set_role
from steps.models import Message, ProviderTrace, Run, Step, StepMetrics, StepTool, SyncRun

ORG = "org-00000000-0000-4000-8000-000000000000"
BASE_TIME = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4()}"


class MirroredFactory(factory.django.DjangoModelFactory):
    """Builds `payload` from the factory's params, then lets the model derive its columns."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        payload = kwargs.pop("payload")
        extra = {k: kwargs.pop(k) for k in list(kwargs) if k in cls._local_fields}
        obj = model_class(**extra)
        obj.apply_payload(payload)
        with _facets_counted(obj):  # as the sync keeps the list's facet counts when it writes
            obj.save()
        return obj

    _local_fields: tuple[str, ...] = ()


def _facets_counted(obj):
    if isinstance(obj, Step):
        return facets.tracking([obj.pk])
    if isinstance(obj, Message):
        return facets.tracking([obj.step_id], tools=True)
    return nullcontext()


class RunFactory(MirroredFactory):
    class Meta:
        model = Run

    class Params:
        agent_id = factory.LazyFunction(lambda: uid("agent"))
        status = "completed"
        created_at = BASE_TIME

    id = factory.LazyFunction(lambda: uid("run"))
    payload = factory.LazyAttribute(
        lambda o: {
            "id": o.id,
            "agent_id": o.agent_id,
            "status": o.status,
            "stop_reason": "end_turn",
            "created_at": o.created_at.isoformat(),
            "completed_at": (o.created_at + timedelta(seconds=3)).isoformat(),
        }
    )
    _local_fields = ("id",)


def step_payload(o) -> dict:
    payload = {
        "id": o.id,
        "origin": None,
        "organization_id": ORG,
        "provider_id": None,
        "run_id": o.run_id,
        "agent_id": o.agent_id,
        "provider_name": o.provider_name,
        "provider_category": "base",
        "model": o.model,
        "model_handle": f"{o.provider_name}/{o.model}",
        "model_endpoint": "http://127.0.0.1:8399/v1",
        "context_window_limit": 128000,
        "completion_tokens": o.completion_tokens,
        "prompt_tokens": o.prompt_tokens,
        "total_tokens": (o.prompt_tokens or 0) + (o.completion_tokens or 0)
        if o.prompt_tokens is not None
        else None,
        "cached_input_tokens": None,
        "cache_write_tokens": None,
        "reasoning_tokens": None,
        "stop_reason": o.stop_reason,
        "tags": list(o.tags),
        "tid": None,
        "trace_id": None,
        "request_id": None,
        "messages": [],
        "feedback": o.feedback,
        "project_id": None,
        "error_type": o.error_type,
        "error_data": o.error_data,
        "status": o.status,
    }
    return payload


class StepFactory(MirroredFactory):
    class Meta:
        model = Step

    class Params:
        run_id = factory.LazyFunction(lambda: uid("run"))
        agent_id = "agent-105225c8-2bdf-402e-8afb-f8887facc319"
        provider_name = "openai"
        model = "gpt-4o-mini"
        prompt_tokens = 2578
        completion_tokens = 17
        stop_reason = "end_turn"
        status = "success"
        feedback = None
        tags = ()
        error_type = None
        error_data = None
        failed = factory.Trait(
            status="failed",
            stop_reason="llm_api_error",
            error_type="LLMBadRequestError",
            prompt_tokens=0,
            completion_tokens=0,
            error_data={
                "message": "INVALID_ARGUMENT: Bad request to OpenAI-compatible endpoint: Error code: 400",
                "traceback": 'Traceback (most recent call last):\n  File "/srv/letta/agent.py", line 57, in invoke_llm\n    raise e\nletta.errors.LLMBadRequestError: 400\n',
                "details": None,
            },
        )

    id = factory.LazyFunction(lambda: uid("step"))
    step_time = factory.Sequence(lambda n: BASE_TIME + timedelta(seconds=n))
    step_time_source = Step.TimeSource.METRICS
    duration_ns = 28_721_060
    payload = factory.LazyAttribute(step_payload)
    _local_fields = ("id", "step_time", "step_time_source", "duration_ns", "trace_state", "details_synced_at")


def message_payload(o) -> dict:
    base = {
        "id": o.message_id,
        "date": o.date.isoformat(),
        "name": o.name,
        "message_type": o.message_type,
        "otid": o.otid,
        "sender_id": None,
        "step_id": o.step.pk,
        "is_err": True if o.is_err else None,
        "seq_id": None,
        "run_id": o.step.run_id,
    }
    kind = o.message_type
    if kind in ("user_message", "assistant_message", "system_message"):
        base["content"] = o.content
    elif kind == "reasoning_message":
        base.update(source="non_reasoner_model", reasoning=o.content, signature=None)
    elif kind == "tool_call_message":
        call = {"name": o.tool, "arguments": o.arguments, "tool_call_id": o.tool_call_id}
        base.update(tool_call=call, tool_calls=[call])
    elif kind == "tool_return_message":
        base.update(
            name=o.tool,
            tool_return=o.content,
            status=o.status,
            tool_call_id=o.tool_call_id,
            stdout=o.stdout,
            stderr=o.stderr,
        )
    return base


class MessageFactory(MirroredFactory):
    class Meta:
        model = Message

    class Params:
        message_id = factory.LazyFunction(lambda: uid("message"))
        otid = factory.LazyFunction(lambda: str(uuid.uuid4()))
        message_type = "user_message"
        name = None
        content = "msg 7: tango charlie delta quebec november foxtrot"
        tool = "conversation_search"
        arguments = json.dumps({"query": "tango charlie", "request_heartbeat": True})
        tool_call_id = "call_482e2882ff0746fab4bf2f9c"
        status = "success"
        stdout = None
        stderr = None
        is_err = False
        date = BASE_TIME

    step = factory.SubFactory(StepFactory)
    position = factory.Sequence(lambda n: n)
    payload = factory.LazyAttribute(message_payload)
    _local_fields = ("step", "position")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        message = super()._create(model_class, *args, **kwargs)
        if message.tool_name:  # the tool filter's index, as the sync writes it with the messages
            StepTool.objects.get_or_create(
                step_id=message.step_id,
                tool_name=message.tool_name,
                defaults={"step_time": message.step.step_time},
            )
        return message


class StepMetricsFactory(MirroredFactory):
    class Meta:
        model = StepMetrics

    class Params:
        llm_request_ns = 25_101_238
        tool_execution_ns = None
        step_ns = 28_721_060

    step = factory.SubFactory(StepFactory)
    payload = factory.LazyAttribute(
        lambda o: {
            "id": o.step.pk,
            "organization_id": ORG,
            "provider_id": None,
            "run_id": o.step.run_id,
            "agent_id": o.step.agent_id,
            "step_start_ns": None,
            "llm_request_start_ns": None,
            "llm_request_ns": o.llm_request_ns,
            "tool_execution_ns": o.tool_execution_ns,
            "step_ns": o.step_ns,
        }
    )
    _local_fields = ("step",)


class ProviderTraceFactory(MirroredFactory):
    class Meta:
        model = ProviderTrace

    class Params:
        call_type = "agent_step"
        request_json = factory.LazyFunction(
            lambda: {
                "model": "gpt-4o-mini",
                "messages": [
                    {
                        "role": "system",
                        "content": "<base_instructions>You are a helpful agent.</base_instructions>",
                    },
                    {"role": "user", "content": "msg 23: hotel mike hotel golf quebec"},
                ],
                "temperature": 0.7,
                "tools": [{"type": "function", "function": {"name": "conversation_search"}}],
            }
        )
        response_json = factory.LazyFunction(
            lambda: {
                "id": "chatcmpl-4510c5f0559148f2825db191",
                "choices": [
                    {
                        "finish_reason": "stop",
                        "index": 0,
                        "message": {
                            "content": "Fake reply ba199a27",
                            "role": "assistant",
                            "tool_calls": None,
                        },
                    }
                ],
                "model": "gpt-4o-mini",
                "usage": {"completion_tokens": 17, "prompt_tokens": 2578, "total_tokens": 2595},
            }
        )

    step = factory.SubFactory(StepFactory)
    upstream_id = factory.LazyFunction(lambda: uid("provider_trace"))
    payload = factory.LazyAttribute(
        lambda o: {
            "id": o.upstream_id,
            "created_at": "2026-11-25T09:30:20.750482Z",
            "request_json": o.request_json,
            "response_json": o.response_json,
            "step_id": o.step.pk,
            "call_type": o.call_type,
            "source": "memgpt-server",
        }
    )
    _local_fields = ("step", "upstream_id")


class SyncRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncRun

    started_at = factory.LazyFunction(lambda: timezone.now() - timedelta(seconds=12))
    status = SyncRun.Status.SUCCESS
    mode = SyncRun.Mode.STEP_LIST
    finished_at = factory.LazyAttribute(lambda o: o.started_at + timedelta(seconds=1))


class UserFactory(factory.django.DjangoModelFactory):
    """A reviewer by default (what every signed-in user could do before roles);
    UserFactory(role="viewer") or role="manager" for the others."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"reviewer{n}")
    password = factory.django.Password("correct horse battery")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create:
            set_role(self, extracted or REVIEWER)


def conversation(
    step: Step, *, user_text: str = "msg 7: tango charlie delta", answer: str = "Fake reply 2b2a204a"
) -> list:
    """A typical tool-calling step: user text, reasoning, tool call, tool return, heartbeat, answer."""
    return [
        MessageFactory(step=step, position=0, message_type="user_message", content=user_text),
        MessageFactory(
            step=step, position=1, message_type="reasoning_message", content="(fake thinking) considering it"
        ),
        MessageFactory(step=step, position=2, message_type="tool_call_message"),
        MessageFactory(
            step=step,
            position=3,
            message_type="tool_return_message",
            name="conversation_search",
            content="{'message': 'No results found.', 'results': []}",
        ),
        MessageFactory(
            step=step,
            position=4,
            message_type="user_message",
            otid=None,
            content=json.dumps(
                {
                    "type": "heartbeat",
                    "reason": "[This is an automated system message hidden from the user] Continuing.",
                },
                indent=2,
            ),
        ),
        MessageFactory(step=step, position=5, message_type="assistant_message", content=answer),
    ]

"""Comparing simulator responses with the recorded Letta responses, and finding steps of a given kind."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from steps.simulator.world import World

SAMPLES_DIR = Path(__file__).parent / "letta_samples"
MISSING_STEP_ID = "step-00000000-0000-4000-8000-000000000000"

# Fields the doc (§2) declares nullable: there a null on one side and a value on the other is the same shape.
STEP_NULLABLE = frozenset(
    {
        "origin",
        "organization_id",
        "provider_id",
        "run_id",
        "agent_id",
        "provider_name",
        "provider_category",
        "model",
        "model_handle",
        "model_endpoint",
        "context_window_limit",
        "completion_tokens",
        "prompt_tokens",
        "total_tokens",
        "cached_input_tokens",
        "cache_write_tokens",
        "reasoning_tokens",
        "completion_tokens_details",
        "prompt_tokens_details",
        "stop_reason",
        "tid",
        "trace_id",
        "request_id",
        "feedback",
        "project_id",
        "error_type",
        "error_data",
        "status",
        "details",
    }
)
METRICS_NULLABLE = frozenset(
    {
        "organization_id",
        "provider_id",
        "run_id",
        "agent_id",
        "step_start_ns",
        "llm_request_start_ns",
        "llm_request_ns",
        "tool_execution_ns",
        "step_ns",
        "base_template_id",
        "template_id",
        "project_id",
    }
)
TRACE_NULLABLE = frozenset(
    {
        "created_by_id",
        "last_updated_by_id",
        "updated_at",
        "step_id",
        "agent_id",
        "agent_tags",
        "call_type",
        "run_id",
        "source",
        "org_id",
        "user_id",
        "compaction_settings",
        "llm_config",
        "billing_context",
        # inside the raw OpenAI request/response: content is null next to tool calls
        "content",
        "tool_calls",
    }
)
MESSAGE_NULLABLE = frozenset(
    {
        "name",
        "otid",
        "sender_id",
        "step_id",
        "is_err",
        "seq_id",
        "run_id",
        "signature",
        "stdout",
        "stderr",
        "tool_returns",
        "tool_calls",
        "hidden_reasoning",
    }
)
RUN_NULLABLE = frozenset(
    {
        "completed_at",
        "conversation_id",
        "base_template_id",
        "metadata",
        "request_config",
        "stop_reason",
        "callback_url",
        "callback_sent_at",
        "callback_status_code",
        "callback_error",
        "ttft_ns",
        "total_duration_ns",
        "include_return_message_types",
    }
)
# Maps keyed by data, not by schema: only their type is compared (JSON-schema "properties" of a tool).
OPAQUE = frozenset({"properties"})


def load_sample(name: str) -> dict:
    return json.loads((SAMPLES_DIR / f"{name}.json").read_text())


def sample_names() -> list[str]:
    return sorted(path.stem for path in SAMPLES_DIR.glob("*.json"))


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    return {int: "int", float: "float", str: "str", list: "list", dict: "dict"}[type(value)]


def shape_mismatch(actual, expected, nullable: frozenset, path: str = "$") -> str | None:
    """None when ``actual`` has the shape of ``expected``, else a description of the first difference."""
    key = path.rsplit(".", 1)[-1]
    if actual is None or expected is None:
        if actual is None and expected is None:
            return None
        return (
            None
            if key in nullable
            else f"{path}: {json_type(actual)} where the sample has {json_type(expected)}"
        )
    if json_type(actual) != json_type(expected):
        return f"{path}: {json_type(actual)} where the sample has {json_type(expected)}"
    if isinstance(expected, dict):
        if key in OPAQUE:
            return None
        if list(actual) != list(expected):
            return f"{path}: keys {list(actual)} differ from the sample's {list(expected)}"
        for name, value in expected.items():
            problem = shape_mismatch(actual[name], value, nullable, f"{path}.{name}")
            if problem:
                return problem
        return None
    if isinstance(expected, list) and expected:
        for index, item in enumerate(actual):
            # An element matches if it has the shape of any sample element (message unions, chat roles).
            problems = [
                shape_mismatch(item, candidate, nullable, f"{path}[{index}]") for candidate in expected
            ]
            if all(problems):
                return _closest(problems, item, expected)
    return None


def _closest(problems: list, item, expected: list) -> str:
    if isinstance(item, dict) and "message_type" in item:
        for problem, candidate in zip(problems, expected, strict=True):
            if isinstance(candidate, dict) and candidate.get("message_type") == item["message_type"]:
                return problem
    return problems[0]


def assert_same_shape(actual, expected, nullable: frozenset) -> None:
    problem = shape_mismatch(actual, expected, nullable)
    assert problem is None, problem


def find_step(world: World, predicate: Callable) -> str:
    for step_id in world.step_ids():
        if predicate(world.steps[step_id]):
            return step_id
    raise AssertionError("the simulated world has no step of the wanted kind")


def message_types(world: World, step_id: str) -> list[str]:
    return [item["message_type"] for item in world.list_messages(step_id)]


def openai_step_with_messages(world: World, types: list[str], agent_type: str | None = None) -> str:
    """An OpenAI step whose /messages has exactly the sample's item types in the sample's order."""

    def wanted(step) -> bool:
        return (
            step.payload["provider_name"] == "openai"
            and step.payload["status"] is not None
            and (agent_type is None or world.agent_type_of(step.id) == agent_type)
            and message_types(world, step.id) == types
        )

    return find_step(world, wanted)


def plain_answer_step(world: World) -> str:
    """A finished OpenAI end_turn step without tool calls and with exactly one trace row."""
    return find_step(
        world,
        lambda step: (
            step.payload["provider_name"] == "openai"
            and step.plan.kind == "answer"
            and step.payload["status"] == "success"
            and world.agent_type_of(step.id) == "letta_v1_agent"
            and len(step.traces) == 1
            and step.metrics is not None
        ),
    )


def failed_step(world: World) -> str:
    return find_step(
        world,
        lambda step: (
            step.payload["status"] == "failed"
            and step.payload["provider_name"] == "openai"
            and not step.messages
            and len(step.traces) == 1
        ),
    )

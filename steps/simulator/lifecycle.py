"""How one step of a run starts (pending) and finishes (success / failed / cancelled / requires_approval)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import datetime, timedelta

from . import traces
from .catalog import (
    MEMORY_TOOLS,
    ORG_ID,
    TOPICS,
    Agent,
    ToolOutcome,
    edit_memory,
    epoch_ns,
    heartbeat_text,
    iso_naive,
    prompt_text,
    summary_text,
    tool_arguments,
    tool_outcome,
)
from .messages import MessageFactory
from .records import SimRun, SimStep, StepPlan, TraceRow

FEEDBACK_TAGS = (["helpful"], ["wrong-tool", "needs-review"], ["tone"], ["hallucination", "needs-review"])


def new_run_payload(run_id: str, agent: Agent, created_at: str, streaming: bool) -> dict:
    # Key order and values as list_runs_asc.json.
    return {
        "id": run_id,
        "status": "created",
        "created_at": created_at,
        "completed_at": None,
        "agent_id": agent.id,
        "conversation_id": None,
        "base_template_id": None,
        "background": False,
        "metadata": {"run_type": "send_message_streaming" if streaming else "send_message"},
        "request_config": {
            "use_assistant_message": True,
            "assistant_message_tool_name": "send_message",
            "assistant_message_tool_kwarg": "message",
            "include_return_message_types": None,
        },
        "stop_reason": None,
        "callback_url": None,
        "callback_sent_at": None,
        "callback_status_code": None,
        "callback_error": None,
        "ttft_ns": None,
        "total_duration_ns": None,
    }


def new_step(
    rng: random.Random,
    step_id: str,
    run: SimRun,
    agent: Agent,
    plan: StepPlan,
    at: datetime,
    start_missing_rate: float = 0.15,
) -> SimStep:
    model = agent.model
    payload = {
        "id": step_id,
        "origin": None,  # always null in OSS (§2.1)
        "organization_id": ORG_ID,
        "provider_id": None,
        "run_id": run.id,
        "agent_id": agent.id,
        "provider_name": model.provider_name,
        "provider_category": model.provider_category,
        "model": model.model,
        "model_handle": model.handle,
        "model_endpoint": model.endpoint,
        "context_window_limit": model.context_window,
        **traces.zero_usage(),  # tokens stay 0 until the step finishes (§5)
        "stop_reason": None,
        "tags": [],
        "tid": None,
        "trace_id": run.trace_id,
        "request_id": None,
        "messages": [],  # deprecated relationship, always empty (§2.1)
        "feedback": None,
        "project_id": None,
        "error_type": None,
        "error_data": None,
        "status": "pending",
    }
    start_ns = epoch_ns(at)
    # Metrics exist from step start (§1.3); step_start_ns is missing on some rows (step_metrics.json has null).
    known_start = rng.random() >= start_missing_rate
    metrics = {
        "id": step_id,
        "organization_id": ORG_ID,
        "provider_id": None,
        "run_id": run.id,
        "agent_id": agent.id,
        "step_start_ns": start_ns if known_start else None,
        "llm_request_start_ns": start_ns + rng.randint(1, 9) * 1_000_000 if known_start else None,
        "llm_request_ns": None,
        "tool_execution_ns": None,
        "step_ns": None,
        "base_template_id": None,
        "template_id": None,
        "project_id": None,
    }
    return SimStep(payload=payload, created_at=at, plan=plan, metrics=metrics)


class StepFinisher:
    """Writes everything a step produces when it ends: usage, messages, traces, metrics."""

    def __init__(self, rng: random.Random, stamp: Callable[[datetime | None], datetime], tick: int):
        self.rng = rng
        self.stamp = stamp
        self.tick = tick

    def finish(self, step: SimStep, run: SimRun, agent: Agent, at: datetime) -> None:
        rng, plan, payload = self.rng, step.plan, step.payload
        topic = TOPICS[run.topic_index]
        first = run.step_ids[0] == step.id
        factory = MessageFactory(rng, step.id, run.id, lambda: self.stamp(at), plan.kind == "failed")
        llm_ns = rng.randint(300, 4000) * 1_000_000
        tool_ns = None
        reasoner = agent.model.endpoint_type == "anthropic"
        if plan.kind == "failed" and not plan.errored_messages:
            factory = None  # failed steps usually persist nothing (step_failed_messages.json is [])
        if first:
            run.transcript.append({"role": "user", "content": prompt_text(topic.prompt)})
        if factory and first:
            step.messages.append(factory.user(topic.prompt))
            if rng.random() < 0.06:
                # A summary row comes back as a system-written user_message (§1.6 point 5).
                step.messages.append(
                    factory.user(summary_text(at, rng.randint(20, 60), rng.randint(61, 90)), False)
                )
        context_chars = len(json.dumps(run.transcript))
        payload.update(traces.zero_usage())
        request_json = traces.provider_request(agent, run.transcript, at)
        call = None
        answer_text = None

        if plan.kind in ("tool", "approval"):
            arguments = tool_arguments(rng, plan.tool, topic, agent.agent_type == "memgpt_v2_agent")
            call = {
                "name": plan.tool,
                "arguments": json.dumps(arguments),
                "tool_call_id": self._call_id(agent),
            }
            hidden = rng.choice(["redacted", "omitted"]) if reasoner and rng.random() < 0.3 else None
            request = factory.tool_call(
                topic.reasoning, call, reasoner, hidden, approval=plan.kind == "approval"
            )
            step.messages.append(request)
            run.transcript.append({"role": "assistant", "tool_call": call})
            if plan.kind == "tool":
                outcome = tool_outcome(rng, plan.tool)
                if plan.tool in MEMORY_TOOLS:
                    # the next step's system prompt shows the edited block
                    error = edit_memory(agent, plan.tool, arguments, at)
                    outcome = ToolOutcome(error, "error") if error else outcome
                tool_ns = rng.randint(20, 2500) * 1_000_000
                step.messages.append(
                    factory.tool_return(
                        plan.tool,
                        call["tool_call_id"],
                        outcome.text,
                        outcome.status,
                        outcome.stdout,
                        outcome.stderr,
                    )
                )
                run.transcript.append(
                    {"role": "tool", "call_id": call["tool_call_id"], "content": outcome.text}
                )
                heartbeat = heartbeat_text(at)
                step.messages.append(factory.user(heartbeat, client_otid=False))
                run.transcript.append({"role": "user", "content": heartbeat})
            else:
                step.approval_due_tick = self.tick + rng.randint(1, 3)
            payload.update(traces.usage(rng, agent.model, context_chars))
            payload["stop_reason"] = "requires_approval" if plan.kind == "approval" else None
            payload["status"] = "success"
        elif plan.kind == "answer":
            answer_text = topic.answer
            if agent.agent_type == "memgpt_v2_agent":
                call = {
                    "name": "send_message",
                    "arguments": json.dumps({"message": answer_text}, ensure_ascii=False),
                    "tool_call_id": self._call_id(agent),
                }
            step.messages.append(
                factory.answer(agent.agent_type, topic.reasoning, answer_text, call, reasoner)
            )
            if call is not None:
                step.messages.append(factory.send_message_return(call["tool_call_id"], str(at)))
            run.transcript.append({"role": "assistant", "content": answer_text})
            payload.update(traces.usage(rng, agent.model, context_chars))
            payload["stop_reason"] = "end_turn"
            payload["status"] = "success"
            self._maybe_feedback(payload)
        elif plan.kind == "failed":
            payload["stop_reason"], payload["error_data"] = traces.error_fields(plan.error_type, agent.model)
            payload["error_type"] = plan.error_type
            payload["status"] = "failed"
            llm_ns = None
        else:  # cancelled by the user mid-call
            payload["stop_reason"] = "cancelled"
            payload["status"] = "cancelled"
            llm_ns = None

        self._write_traces(step, agent, run, at, request_json, answer_text, call)
        self._finalize_metrics(step, llm_ns, tool_ns)

    def _call_id(self, agent: Agent) -> str:
        if agent.model.endpoint_type == "anthropic":
            return f"toolu_01{self.rng.getrandbits(88):022x}"
        return f"call_{self.rng.getrandbits(96):024x}"

    def _maybe_feedback(self, payload: dict) -> None:
        if self.rng.random() < 0.18:
            payload["feedback"] = self.rng.choice(["positive", "positive", "negative"])
            payload["tags"] = list(self.rng.choice(FEEDBACK_TAGS))

    def _write_traces(
        self, step: SimStep, agent: Agent, run: SimRun, at: datetime, request_json: dict, text, call
    ) -> None:
        plan = step.plan
        if not plan.tracing or plan.kind == "cancelled":
            return
        visible = self.tick + plan.trace_delay_ticks
        rows: list[TraceRow] = []

        def add(request: dict, response: dict, call_type: str = "agent_step") -> None:
            moment = self.stamp(at)
            row = traces.trace_row(
                self.rng,
                step=step.payload,
                agent=agent,
                created_at=moment,
                request_json=request,
                response_json=response,
                call_type=call_type,
            )
            rows.append(TraceRow(row, moment, visible))

        if plan.kind == "failed":
            add(request_json, traces.error_response(plan.error_type))
        else:
            if plan.retried:
                add(request_json, traces.error_response("LLMServerError"))
            response = traces.provider_response(self.rng, agent.model, step.payload, at, text, call)
            add(request_json, response)
            if plan.summarized:
                summary = traces.provider_response(
                    self.rng, agent.model, step.payload, at, "The user asked about the release plan.", None
                )
                add(traces.summarization_request(agent, run.transcript), summary, "summarization")
        step.traces.extend(rows)

    def _finalize_metrics(self, step: SimStep, llm_ns: int | None, tool_ns: int | None) -> None:
        if step.metrics is None:
            return
        overhead = self.rng.randint(2, 40) * 1_000_000
        step.metrics["llm_request_ns"] = llm_ns
        step.metrics["tool_execution_ns"] = tool_ns
        step.metrics["step_ns"] = (llm_ns or 0) + (tool_ns or 0) + overhead


def resolve_approval(rng: random.Random, step: SimStep, stamp: Callable[[datetime | None], datetime]) -> None:
    """The human answered: approval response and tool return are appended to the same step (§5)."""
    request = step.messages[-1]
    call = request.items[-1]["tool_call"]
    approve = rng.random() < 0.8
    reason = None if approve else "Bitte erst einen Entwurf zeigen / please show me a draft first."
    factory = MessageFactory(rng, step.id, step.payload["run_id"], lambda: stamp(None), False)
    step.messages.append(factory.approval_response(request.id, call["tool_call_id"], approve, reason))
    if approve:
        result, status = "Email sent to ops@example.com (message id <20261125.4711@example.com>)", "success"
    else:
        result, status = f"Error: request to call tool denied. User reason: {reason}", "error"
    step.messages.append(factory.tool_return(call["name"], call["tool_call_id"], result, status, None, None))
    step.approval_due_tick = None


# The in-context history an agent keeps between runs; past this many turns a summary replaces the oldest.
HISTORY_LIMIT = 16
HISTORY_KEPT = 6


def carry_history(agent: Agent, run: SimRun, at: datetime) -> None:
    """What the agent's next run starts from: this run's transcript, compacted when it grows too long."""
    turns = list(run.transcript)
    if len(turns) > HISTORY_LIMIT:
        cut = len(turns) - HISTORY_KEPT
        # never start the kept part with a tool return whose call was summarized away
        while cut < len(turns) and (turns[cut]["role"] != "user" or "tool_call" in turns[cut]):
            cut += 1
        total = agent.recall_count + len(turns)
        turns = [{"role": "user", "content": summary_text(at, cut, total)}, *turns[cut:]]
    agent.history = turns


def finish_run(run: SimRun, last: SimStep, at: datetime) -> None:
    status = {"failed": "failed", "cancelled": "cancelled"}.get(last.payload["status"], "completed")
    run.payload["status"] = status
    run.payload["stop_reason"] = last.payload["stop_reason"] or "end_turn"
    run.payload["completed_at"] = iso_naive(at)
    run.payload["total_duration_ns"] = int((at - run.created_at) / timedelta(microseconds=1)) * 1000

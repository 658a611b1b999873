"""The simulated server's rows. Hidden columns (created_at, visibility) live beside the API payloads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class StepPlan:
    """What a step will turn out to be once it finishes."""

    kind: str  # "tool" | "answer" | "approval" | "failed" | "cancelled"
    tool: str | None = None
    error_type: str | None = None
    errored_messages: bool = False  # a few failed steps keep is_err messages, most have none
    summarized: bool = False  # a summarizer call reused the step id: a second trace row (§1.4)
    retried: bool = False  # an error attempt wrote a trace before the successful one
    trace_delay_ticks: int = 0  # fire-and-forget trace write that shows up late (§4)
    tracing: bool = True


@dataclass
class InternalMessage:
    """One row of Letta's messages table; ``items`` are the LettaMessages it expands to, in natural order."""

    id: str
    created_at: datetime
    items: list[dict]
    # memgpt-style send_message: the return row is dropped when its call is on the same page (§1.6 point 4).
    send_message_call_id: str | None = None
    send_message_return_of: str | None = None

    @property
    def sort_key(self) -> tuple[datetime, str]:
        return (self.created_at, self.id)


@dataclass
class TraceRow:
    row: dict
    created_at: datetime
    visible_from_tick: int = 0


@dataclass
class SimStep:
    payload: dict
    created_at: datetime  # never serialized: the real API hides it too (§5)
    plan: StepPlan
    metrics: dict | None = None
    messages: list[InternalMessage] = field(default_factory=list)
    traces: list[TraceRow] = field(default_factory=list)
    # Approval not answered yet: the response and tool return get appended to this step later (§5).
    approval_due_tick: int | None = None

    @property
    def id(self) -> str:
        return self.payload["id"]

    @property
    def sort_key(self) -> tuple[datetime, str]:
        return (self.created_at, self.payload["id"])


@dataclass
class SimRun:
    payload: dict
    created_at: datetime
    agent_index: int
    topic_index: int
    plans: list[StepPlan]
    planned_step_ids: list[str] = field(default_factory=list)
    step_ids: list[str] = field(default_factory=list)  # the ones started so far
    trace_id: str | None = None
    # Provider-format transcript of this run so far, replayed into each step's request_json.
    transcript: list[dict] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.payload["id"]

    @property
    def sort_key(self) -> tuple[datetime, str]:
        return (self.created_at, self.payload["id"])

    @property
    def finished(self) -> bool:
        return self.payload["status"] in ("completed", "failed", "cancelled")
